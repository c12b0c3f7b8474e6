"""Bad clients against the gateway: slowloris-style partial requests, 1,000 idle connections,
garbage and oversized headers; then a wrk load smoke. After each, the gateway keeps serving
well-behaved clients (curl)."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

import gwtest
from gwtest import curl, post_json


class Abuse(gwtest.GatewayCase):
    daemon_args = ["--header-timeout", "2", "--http-keepalive", "2"]

    def addr(self):
        host, port = self.url[len("http://"):].rsplit(":", 1)
        return host, int(port)

    def ping_ok(self):
        st, _, body = post_json(self.url + "/v1/components/comp1/request", {"type": "ping"})
        self.assertEqual((st, json.loads(body)), (200, {"result": "Pong from comp1"}))

    def wait_closed(self, socks, seconds):
        """Every socket sees EOF or a reset within seconds (reading whatever is sent)."""
        deadline = time.monotonic() + seconds
        for s in socks:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            except socket.timeout:
                raise AssertionError("a partial request was still open after %ss" % seconds)
            finally:
                s.close()

    def test_slowloris(self):
        socks = []
        for i in range(40):
            s = socket.create_connection(self.addr(), timeout=gwtest.WAIT_S)
            if i % 2 == 0:  # headers that never end
                s.sendall(b"POST /v1/components/comp1/request HTTP/1.1\r\nHost: x\r\nX-a: ")
            else:  # a body that never completes
                s.sendall(b"POST /v1/components/comp1/request HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"ty")
            socks.append(s)
        for _ in range(3):  # well-behaved clients are served meanwhile
            self.ping_ok()
            time.sleep(0.3)
        self.wait_closed(socks, 15)
        self.ping_ok()

    def test_thousand_idle_connections(self):
        socks = [socket.create_connection(self.addr(), timeout=gwtest.WAIT_S)
                 for _ in range(1000)]
        try:
            self.ping_ok()
            self.assertEqual(curl(self.url + "/metrics")[0], 200)
        finally:
            for s in socks:
                s.close()
        self.assertTrue(self.daemon.alive())
        self.ping_ok()

    def test_garbage_and_huge_headers(self):
        s = socket.create_connection(self.addr(), timeout=gwtest.WAIT_S)
        s.sendall(b"\x16\x03\x01GARBAGE \xff\xfe\r\n\r\n")
        self.wait_closed([s], 10)
        s = socket.create_connection(self.addr(), timeout=gwtest.WAIT_S)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        data = b""
        try:
            s.settimeout(10)
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        # refused with a 4xx or dropped, never served
        self.assertNotIn(b'{"status":"ok"}', data)
        self.ping_ok()

    @unittest.skipUnless(shutil.which("wrk"), "wrk is not installed")
    def test_wrk_smoke(self):
        script = os.path.join(self.tmp, "post.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = \'{"type":"ping"}\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n')
        r = subprocess.run(["wrk", "-t1", "-c8", "-d2s", "-s", script,
                            self.url + "/v1/components/comp1/request"],
                           capture_output=True, timeout=60)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
        self.assertGreater(rate, 0)
        self.assertNotIn("Non-2xx", out)
        self.assertNotIn("Socket errors", out)
        print("\nwrk smoke: %.0f requests/s" % rate, file=sys.stderr)
        self.ping_ok()


if __name__ == "__main__":
    gwtest.main(sys.argv)
