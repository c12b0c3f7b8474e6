"""Shared fixtures of the gateway tests: real genesisd / genesis-gateway / test_service
processes on free ports, always stopped, and real clients (curl, python3-websockets).

Every process is started with port 0 (or an ipc path in a temp dir) and reports the address it
bound on its "ready" line, so parallel ctest runs never collide. Stopping checks the exit
status: a sanitizer report (ASan/TSan halt_on_error) or a crash fails the test.
"""
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

PATHS = {}  # genesisd, gateway, service: set by main() from the command line

WAIT_S = 20  # generous bound for anything that should happen "soon" (sanitizer builds)


def sanitizer_env():
    """Child environment: LeakSanitizer learns the libwebsockets suppression (lsan.supp)."""
    env = dict(os.environ)
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan.supp")
    opts = env.get("LSAN_OPTIONS", "")
    env["LSAN_OPTIONS"] = (opts + ":" if opts else "") + "suppressions=" + supp
    return env


def raise_fd_limit(want=8192):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, want))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


class Process:
    """A child process whose stdout we read line by line; stderr goes to a file we show on
    failure."""

    def __init__(self, argv, name, tmp):
        self.name = name
        self.argv = argv
        self.err_path = os.path.join(tmp, name + ".stderr")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err,
                                     stdin=subprocess.DEVNULL, env=sanitizer_env())
        self.stopped = False

    def wait_line(self, prefix, timeout=WAIT_S):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                for line in buf.decode(errors="replace").splitlines():
                    if line.startswith(prefix):
                        return line
            if self.proc.poll() is not None:
                break
        raise AssertionError("%s never printed '%s' (exit %s); stderr:\n%s" %
                             (self.name, prefix, self.proc.poll(), self.stderr()))

    def stderr(self):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode(errors="replace")[-6000:]
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self, expect_clean=True):
        """SIGTERM, wait, and check the exit status (0 = clean)."""
        if self.stopped:
            return 0
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("%s did not stop on SIGTERM; stderr:\n%s" %
                                     (self.name, self.stderr()))
        self.err.close()
        self.proc.stdout.close()
        rc = self.proc.returncode
        if expect_clean and rc != 0:
            raise AssertionError("%s exited %s; stderr:\n%s" % (self.name, rc, self.stderr()))
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stopped = True
        self.err.close()
        self.proc.stdout.close()


class GatewayCase(unittest.TestCase):
    """Starts genesisd --demo with its embedded gateway on free ports (setUpClass) and stops
    it (tearDownClass), checking it exits cleanly. Subclasses may start more processes with
    self.spawn(); they are stopped too."""

    daemon_args = []

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="genesis-gw-")
        cls.procs = []
        try:
            cls.daemon = cls.spawn_daemon(cls.daemon_args)
        except Exception:
            cls.cleanup()
            raise

    @classmethod
    def spawn_daemon(cls, extra, name="genesisd"):
        argv = [PATHS["genesisd"], "--demo", "--front-door", "tcp://127.0.0.1:0", "--events",
                "tcp://127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "warn"] + extra
        p = cls.spawn(argv, name)
        line = p.wait_line("ready ")
        m = re.match(r"ready front_door=(\S+) event_bus=(\S+) http=(\S+)", line)
        if not m:
            raise AssertionError("cannot parse genesisd's ready line: " + line)
        p.front_door, p.event_bus, p.url = m.group(1), m.group(2), m.group(3)
        return p

    @classmethod
    def spawn_gateway(cls, extra, name="genesis-gateway"):
        argv = [PATHS["gateway"], "--listen", "127.0.0.1:0", "--front-door",
                cls.daemon.front_door, "--events", cls.daemon.event_bus,
                "--log-level", "warn"] + extra
        p = cls.spawn(argv, name)
        line = p.wait_line("ready ")
        p.url = line.split("url=", 1)[1].strip()
        return p

    @classmethod
    def spawn_service(cls, comp_id, extra=()):
        argv = [PATHS["service"], "--id", comp_id, "--front-door", cls.daemon.front_door,
                "--events", cls.daemon.event_bus,
                "--listen", "ipc://%s/%s.sock" % (cls.tmp, comp_id)] + list(extra)
        p = cls.spawn(argv, "service-" + comp_id)
        p.wait_line("ready ")
        return p

    @classmethod
    def spawn(cls, argv, name):
        p = Process(argv, name, cls.tmp)
        cls.procs.append(p)
        return p

    @classmethod
    def cleanup(cls):
        errors = []
        for p in reversed(cls.procs):
            try:
                p.stop()
            except AssertionError as e:
                errors.append(str(e))
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if errors:
            raise AssertionError("\n".join(errors))

    @classmethod
    def tearDownClass(cls):
        cls.cleanup()

    @property
    def url(self):
        return self.daemon.url

    @property
    def ws_url(self):
        return self.url.replace("http", "ws", 1)


def curl(url, *args, method=None, data=None, headers=(), timeout=WAIT_S, insecure=False):
    """Run curl; returns (status, headers dict, body bytes)."""
    argv = ["curl", "-sS", "-D", "-", "--max-time", str(timeout)]
    if insecure:
        argv.append("-k")
    if method:
        argv += ["-X", method]
    if data is not None:
        argv += ["--data-binary", "@-"]
    for h in headers:
        argv += ["-H", h]
    argv += list(args) + [url]
    r = subprocess.run(argv, input=data if isinstance(data, (bytes, type(None))) else
                       data.encode(), capture_output=True, timeout=timeout + 5)
    if r.returncode != 0:
        raise AssertionError("curl %s failed (%d): %s" % (url, r.returncode,
                                                          r.stderr.decode(errors="replace")))
    return parse_response(r.stdout)


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    # curl prints interim responses (100 Continue) first
    while head.startswith(b"HTTP/1.1 100"):
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, body


def post_json(url, doc, headers=("Content-Type: application/json",), **kw):
    body = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
    return curl(url, method="POST", data=body, headers=headers, **kw)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--genesisd", required=True)
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("rest", nargs="*")
    a = ap.parse_args(argv[1:])
    PATHS.update(genesisd=a.genesisd, gateway=a.gateway, service=a.service)
    raise_fd_limit()
    unittest.main(argv=[argv[0], "-v"] + a.rest)
