"""The gateway listens exactly where it is told, seen from another host: genesisd runs in
network namespace A (tests/netns/run-netns-test makes A and B, joined by a veth pair) and a
client in namespace B tries to reach it.

  --http 127.0.0.1:0   -> B cannot connect (healthz, a request, an admin POST); A can; the
                          listening socket is 127.0.0.1:P and nothing else (ss -ltn);
  --http localhost:0   -> serves on loopback (A reaches it through "localhost"), not from B;
  --http <A's veth>:0  -> B can connect (the path works, so the refusals above mean
                          something), and the daemon logs a security warning (no --auth-file).

Run: tests/netns/run-netns-test python3 tests/netns/test_netns_gateway.py --genesisd PATH
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gateway"))
import gwtest  # noqa: E402

GENESISD = None


def curl_from_b(url, *extra):
    """curl run in namespace B; returns (curl exit code, HTTP status or None)."""
    argv = ["ip", "netns", "exec", os.environ["NETNS_B"], "curl", "-s", "-o", "/dev/null",
            "-w", "%{http_code}", "--max-time", "10"] + list(extra) + [url]
    r = subprocess.run(argv, capture_output=True, timeout=30)
    code = r.stdout.decode().strip()
    return r.returncode, int(code) if code.isdigit() and code != "000" else None


def listening(port):
    """Local addresses listening on port in this namespace (ss -ltn)."""
    out = subprocess.run(["ss", "-Hltn"], capture_output=True, check=True).stdout.decode()
    found = []
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 4 and cols[3].rsplit(":", 1)[1] == str(port):
            found.append(cols[3])
    return found


class ListenWhereTold(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="genesis-netns-gw-")
        self.proc = None

    def tearDown(self):
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, http):
        argv = [GENESISD, "--front-door", "tcp://127.0.0.1:0", "--events", "tcp://127.0.0.1:0",
                "--http", http, "--log-level", "warn"]
        self.proc = gwtest.Process(argv, "genesisd", self.tmp)
        line = self.proc.wait_line("ready ")
        url = re.search(r"http=(\S+)", line).group(1)
        port = int(url.rsplit(":", 1)[1])
        return url, port

    def assert_unreachable_from_b(self, port):
        addr_a = os.environ["ADDR_A"]
        for path, extra in (("/healthz", ()),
                            ("/v1/components/comp1/request",
                             ("-H", "Content-Type: application/json", "-d", '{"type":"ping"}')),
                            ("/v1/admin/mode",
                             ("-H", "Content-Type: application/json", "-d",
                              '{"mode":"EMERGENCY"}'))):
            rc, status = curl_from_b("http://%s:%d%s" % (addr_a, port, path), *extra)
            self.assertEqual(status, None, "namespace B got HTTP %s from %s" % (status, path))
            self.assertEqual(rc, 7, "curl from B: expected 'connection refused' (exit 7)")

    def test_loopback_address(self):
        url, port = self.start("127.0.0.1:0")
        self.assertEqual(url, "http://127.0.0.1:%d" % port)
        self.assertEqual(listening(port), ["127.0.0.1:%d" % port])
        st, _, _ = gwtest.curl(url + "/healthz")
        self.assertEqual(st, 200)
        self.assert_unreachable_from_b(port)

    def test_localhost(self):
        url, port = self.start("localhost:0")
        st, _, _ = gwtest.curl("http://localhost:%d/healthz" % port)
        self.assertEqual(st, 200)
        for addr in listening(port):
            self.assertTrue(addr.startswith("127.") or addr.startswith("[::1]"), addr)
        self.assert_unreachable_from_b(port)

    def test_interface_address_is_reachable_and_warned(self):
        addr_a = os.environ["ADDR_A"]
        url, port = self.start("%s:0" % addr_a)
        self.assertEqual(listening(port), ["%s:%d" % (addr_a, port)])
        rc, status = curl_from_b("http://%s:%d/healthz" % (addr_a, port))
        self.assertEqual((rc, status), (0, 200))
        self.proc.stop()
        self.assertIn("SECURITY WARNING", self.proc.stderr())
        self.proc = None


def main():
    global GENESISD
    if "NETNS_B" not in os.environ or "ADDR_A" not in os.environ:
        print("test_netns_gateway: SKIPPED: run through tests/netns/run-netns-test",
              file=sys.stderr)
        sys.exit(77)
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != "--genesisd":
        sys.exit("usage: test_netns_gateway.py --genesisd PATH [unittest args]")
    GENESISD = args[1]
    unittest.main(argv=[sys.argv[0], "-v"] + args[2:])


if __name__ == "__main__":
    main()
