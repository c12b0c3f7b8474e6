"""Gateway HTTP routes and error classes, against a real genesisd (embedded gateway) and a
real genesis-gateway process, with curl as the client."""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

import gwtest
from gwtest import curl, post_json


def encode_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_field(num, wire, value):
    key = encode_varint(num << 3 | wire)
    if wire == 2:
        return key + encode_varint(len(value)) + value
    return key + encode_varint(value)


def pb_fields(buf):
    """Decode one protobuf message level: {field: [values]} (varints and bytes)."""
    i, out = 0, {}

    def varint():
        nonlocal i
        shift = v = 0
        while True:
            b = buf[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v
    while i < len(buf):
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            out.setdefault(num, []).append(varint())
        elif wire == 2:
            n = varint()
            out.setdefault(num, []).append(buf[i:i + n])
            i += n
        else:
            raise AssertionError("unexpected wire type %d" % wire)
    return out


class HttpRoutes(gwtest.GatewayCase):
    def request(self, comp, doc, route="v1", **kw):
        path = "/v1/components/%s/request" % comp if route == "v1" else "/request/" + comp
        return post_json(self.url + path, doc, **kw)

    def assert_error(self, resp, status, code, reason):
        st, hdrs, body = resp
        self.assertEqual(st, status, body)
        self.assertTrue(hdrs["content-type"].startswith("application/json"))
        doc = json.loads(body)
        self.assertEqual(doc["code"], code, doc)
        self.assertEqual(doc["reason"], reason, doc)
        self.assertIsInstance(doc["message"], str)
        self.assertTrue(doc["message"])
        self.assertIsInstance(doc["details"], list)
        return doc

    def test_request_routes(self):
        st, hdrs, body = self.request("comp1", {"type": "ping"})
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body), {"result": "Pong from comp1"})
        st, _, body = self.request("comp2", {"type": "ping"}, route="legacy")
        self.assertEqual((st, json.loads(body)), (200, {"result": "Pong from comp2"}))
        # JSON data comes back as JSON, a string as a string
        st, _, body = self.request("comp2", {"type": "echo", "data": {"a": [1, 2]}})
        self.assertEqual(json.loads(body), {"result": {"a": [1, 2]}})
        st, _, body = self.request("comp2", {"type": "echo", "data": "héllo",
                                             "criticality": "CRITICAL", "timeout_ms": 5000,
                                             "source": "tester"})
        self.assertEqual(json.loads(body), {"result": "héllo"})

    def test_readme_try_it_line(self):
        r = subprocess.run(["curl", "-s", "-XPOST", self.url + "/v1/components/comp1/request",
                            "-H", "Content-Type: application/json", "-d", '{"type":"ping"}'],
                           capture_output=True, timeout=30)
        self.assertEqual(json.loads(r.stdout), {"result": "Pong from comp1"})

    def test_keep_alive_reuses_the_connection(self):
        r = subprocess.run(["curl", "-sS", "-v", "-XPOST", "-H", "Content-Type: application/json",
                            "-d", '{"type":"ping"}', self.url + "/v1/components/comp1/request",
                            "--next", "-XPOST", "-H", "Content-Type: application/json",
                            "-d", '{"type":"ping"}', self.url + "/v1/components/comp2/request"],
                           capture_output=True, timeout=30)
        self.assertIn(b"Pong from comp1", r.stdout)
        self.assertIn(b"Pong from comp2", r.stdout)
        self.assertIn(b"Re-using existing connection", r.stderr)

    def test_connect_json(self):
        url = self.url + "/genesis.v1.Coordinator/Request"
        st, _, body = post_json(url, {"target": "comp1", "type": "ping"})
        self.assertEqual((st, json.loads(body)), (200, {"result": "Pong from comp1"}))
        st, _, body = post_json(url, {"target": "nope", "type": "ping"})
        self.assertEqual(st, 404)
        self.assertEqual(json.loads(body)["code"], "not_found")
        st, _, body = post_json(url, {"type": "ping"})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(body)["code"], "invalid_argument")
        self.assertIn("target", json.loads(body)["message"])

    def test_connect_proto(self):
        req = pb_field(1, 2, b"comp2") + pb_field(2, 2, b"echo") + \
            pb_field(3, 2, pb_field(1, 2, b"\x00\x01binary") + pb_field(2, 2, b"x/bin"))
        st, hdrs, body = curl(self.url + "/genesis.v1.Coordinator/Request", method="POST",
                              data=req, headers=["Content-Type: application/proto"])
        self.assertEqual(st, 200)
        self.assertEqual(hdrs["content-type"], "application/proto")
        reply = pb_fields(body)
        self.assertNotIn(2, reply)  # code 0 is not encoded
        payload = pb_fields(reply[5][0])
        self.assertEqual(payload[1][0], b"\x00\x01binary")
        self.assertEqual(payload[2][0], b"x/bin")
        st, _, body = curl(self.url + "/genesis.v1.Coordinator/Request", method="POST",
                           data=b"\xff\xff\xff", headers=["Content-Type: application/proto"])
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(body)["code"], "invalid_argument")

    def test_bad_input(self):
        u = self.url + "/v1/components/comp1/request"
        d = self.assert_error(post_json(u, '{"type":'), 400, 3, "INVALID_ARGUMENT")
        self.assertIn("invalid JSON", d["message"])
        d = self.assert_error(post_json(u, b'{"type":"echo","data":"\xff\xfe"}'), 400, 3,
                              "INVALID_ARGUMENT")
        self.assertIn("0xff", d["message"])
        d = self.assert_error(post_json(u, {"data": 1}), 400, 3, "INVALID_ARGUMENT")
        self.assertIn('"type"', d["message"])
        d = self.assert_error(post_json(u, "[1,2]"), 400, 3, "INVALID_ARGUMENT")
        d = self.assert_error(post_json(u, {"type": "ping", "timeout_ms": -5}), 400, 3,
                              "INVALID_ARGUMENT")
        self.assertIn("timeout_ms", d["message"])
        d = self.assert_error(post_json(u, {"type": "ping", "criticality": "URGENT"}), 400, 3,
                              "INVALID_ARGUMENT")
        self.assertIn("criticality", d["message"])
        d = self.assert_error(post_json(u, {"type": "ping", "source": 7}), 400, 3,
                              "INVALID_ARGUMENT")
        d = self.assert_error(post_json(u, "<a/>", headers=["Content-Type: application/xml"]),
                              415, 3, "UNSUPPORTED_MEDIA_TYPE")
        self.assertIn("application/xml", d["message"])
        big = b'{"type":"echo","data":"' + b"a" * (2 << 20) + b'"}'
        st, hdrs, body = post_json(u, big)
        self.assertEqual(st, 413)
        self.assertEqual(json.loads(body)["reason"], "MESSAGE_TOO_LARGE")
        self.assertEqual(hdrs.get("connection"), "close")
        # HTTP/1.1 chunked bodies (no Content-Length) are refused at once, not waited for
        st, hdrs, body = post_json(u, '{"type":"ping"}', headers=["Content-Type: application/json",
                                                                  "Transfer-Encoding: chunked"])
        self.assertEqual((st, json.loads(body)["reason"]), (411, "LENGTH_REQUIRED"))
        self.assertEqual(hdrs.get("connection"), "close")

    def test_route_and_method_errors(self):
        d = self.assert_error(curl(self.url + "/nothing/here"), 404, 5, "NO_ROUTE")
        self.assertIn("/nothing/here", d["message"])
        st, hdrs, _ = curl(self.url + "/healthz", method="PUT")
        self.assertEqual(st, 405)
        self.assertEqual(hdrs["allow"], "GET")
        st, hdrs, _ = curl(self.url + "/v1/components/comp1/request")  # GET
        self.assertEqual((st, hdrs["allow"]), (405, "POST"))
        self.assert_error(self.request("nope", {"type": "ping"}), 404, 5, "NOT_FOUND")
        d = self.assert_error(self.request("comp1", {"type": "dance"}), 501, 12,
                              "HANDLER_ERROR")
        self.assertIn("dance", d["message"])
        self.assert_error(curl(self.url + "/ws"), 400, 3, "INVALID_ARGUMENT")
        self.assert_error(post_json(self.url + "/v1/admin/mode", {"mode": "SIDEWAYS"}), 400, 3,
                          "INVALID_ARGUMENT")
        self.assert_error(post_json(self.url + "/v1/admin/components/comp1/breaker", {}), 400, 3,
                          "INVALID_ARGUMENT")
        self.assert_error(post_json(self.url + "/v1/admin/components/nope/breaker",
                                    {"state": "open"}), 404, 5, "NOT_FOUND")
        self.assert_error(post_json(self.url + "/v1/admin/nothing", {}), 404, 5, "NO_ROUTE")
        self.assert_error(self.request("bad%20id", {"type": "ping"}), 400, 3, "INVALID_ARGUMENT")

    def test_admin_mode_breaker_policy(self):
        u = self.url + "/v1/admin"
        st, _, body = post_json(u + "/mode", {})
        self.assertEqual((st, json.loads(body)["mode"]), (200, "NORMAL"))
        st, _, body = post_json(u + "/components/comp2/breaker", {"state": "open"})
        self.assertEqual((st, json.loads(body)["breaker"]), (200, "FORCED_OPEN"))
        self.assert_error(self.request("comp2", {"type": "ping"}), 503, 14, "BREAKER_OPEN")
        st, _, body = curl(self.url + "/v1/status")
        comps = {c["id"]: c for c in json.loads(body)["components"]}
        self.assertEqual(comps["comp2"]["breaker"], "FORCED_OPEN")
        st, _, body = curl(self.url + "/metrics")
        self.assertIn('genesis_component_breaker_state{component="comp2",state="FORCED_OPEN"} 1',
                      body.decode())
        self.assertEqual(post_json(u + "/components/comp2/breaker", {"state": "reset"})[0], 200)
        self.assertEqual(self.request("comp2", {"type": "ping"})[0], 200)
        st, _, body = post_json(u + "/components/comp2/policy", {"max_attempts": 2})
        self.assertEqual((st, json.loads(body)["policy"]["max_attempts"]), (200, 2))
        self.assert_error(post_json(u + "/components/comp2/policy", {"max_attempts": 0}), 400, 3,
                          "INVALID_ARGUMENT")
        self.assert_error(post_json(u + "/components/comp2/policy", {"max_attempts": "x"}), 400,
                          3, "INVALID_ARGUMENT")
        # genesisd refuses fault injection unless started with --allow-faults
        self.assert_error(post_json(u + "/components/comp2/fault", {"crash": True}), 403, 7,
                          "INVALID_ARGUMENT")
        # If a mode tick saw comp2's breaker open, the mode went SAFE and steps back down only
        # after the hold time: leave NORMAL behind for the tests that share this daemon.
        deadline = time.monotonic() + gwtest.WAIT_S
        while json.loads(curl(self.url + "/v1/status")[2])["mode"] != "NORMAL":
            self.assertLess(time.monotonic(), deadline, "the mode never went back to NORMAL")
            time.sleep(0.05)

    def test_status_health_metrics(self):
        self.request("comp1", {"type": "ping"})
        st, hdrs, body = curl(self.url + "/v1/status")
        self.assertEqual(st, 200)
        doc = json.loads(body)
        self.assertEqual(doc["mode"], "NORMAL")
        self.assertEqual([c["id"] for c in doc["components"]], ["comp1", "comp2"])
        self.assertEqual(doc["components"][0]["health"], "UP")
        self.assertEqual(curl(self.url + "/healthz")[0], 200)
        st, _, body = curl(self.url + "/readyz")
        self.assertEqual((st, json.loads(body)["status"]), (200, "ready"))
        st, hdrs, body = curl(self.url + "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain; version=0.0.4"))
        text = body.decode()
        for line in ["genesis_up 1", 'genesis_mode{mode="NORMAL"} 1',
                     'genesis_mode{mode="SAFE"} 0', 'genesis_component_up{component="comp1"} 1',
                     "# TYPE genesis_gateway_request_duration_seconds histogram",
                     "# TYPE genesis_coordinator_requests_total counter"]:
            self.assertIn(line + "\n" if not line.startswith("#") else line, text)
        self.assertRegex(text, r'genesis_gateway_http_responses_total\{route="component_request",'
                               r'code="200"\} [1-9]')
        self.assertRegex(text, r'genesis_gateway_request_duration_seconds_count\{component='
                               r'"comp1"\} [1-9]')
        self.assertRegex(text, r'genesis_gateway_request_duration_seconds_bucket\{component='
                               r'"comp1",le="\+Inf"\} [1-9]')
        # every sample line is "name{labels} value" or "name value"
        for line in text.splitlines():
            if not line.startswith("#"):
                self.assertRegex(line, r'^[a-z_:][a-z0-9_:]*(\{[^}]*\})? [0-9.e+-]+$')


class RemoteComponentErrors(gwtest.GatewayCase):
    """Deadline, handler failure, bulkhead and component-down through a remote component."""

    def test_deadline_handler_error_and_down(self):
        self.spawn_service("slow")
        u = self.url + "/v1/components/slow/request"
        st, _, body = post_json(u, {"type": "ping"})
        self.assertEqual((st, json.loads(body)), (200, {"result": "pong:slow"}))
        d = json.loads(post_json(u, {"type": "sleep", "data": "3000", "timeout_ms": 300})[2])
        self.assertEqual((d["code"], d["reason"]), (4, "DEADLINE_EXCEEDED"))
        st, _, _ = post_json(u, {"type": "sleep", "data": "3000", "timeout_ms": 300})
        self.assertEqual(st, 504)
        # A success between failures: three failed requests in a row would open the
        # component's circuit breaker (503 BREAKER_OPEN), which is not what this test is about.
        self.assertEqual(post_json(u, {"type": "ping"})[0], 200)
        st, _, body = post_json(self.url + "/genesis.v1.Coordinator/Request",
                                {"target": "slow", "type": "sleep", "data": "3000"},
                                headers=["Content-Type: application/json",
                                         "Connect-Timeout-Ms: 300"])
        self.assertEqual((st, json.loads(body)["code"]), (504, "deadline_exceeded"))
        st, _, body = post_json(u, {"type": "fail"})
        self.assertEqual((st, json.loads(body)["reason"]), (500, "HANDLER_ERROR"))
        st, _, body = post_json(self.url + "/genesis.v1.Coordinator/Request",
                                {"target": "slow", "type": "ping"},
                                headers=["Content-Type: application/json",
                                         "Connect-Timeout-Ms: soon"])
        self.assertEqual(st, 400)

        down = self.spawn_service("doomed")
        self.assertEqual(post_json(self.url + "/v1/components/doomed/request",
                                   {"type": "ping"})[0], 200)
        down.kill()
        deadline = time.monotonic() + gwtest.WAIT_S
        while time.monotonic() < deadline:
            st, _, body = post_json(self.url + "/v1/components/doomed/request",
                                    {"type": "ping", "timeout_ms": 1000})
            if st == 503 and json.loads(body)["reason"] == "COMPONENT_DOWN":
                break
            time.sleep(0.1)
        self.assertEqual((st, json.loads(body)["reason"]), (503, "COMPONENT_DOWN"))

    def test_bulkhead_full_is_429(self):
        # One slot and no queue (set through the policy route), held by one slow request that
        # the status report shows in flight: every request after it is refused at once. No
        # race between concurrent clients decides the outcome, however loaded the machine.
        self.spawn_service("busy", ["--max-concurrency", "128"])
        admin = self.url + "/v1/admin/components/busy/policy"
        st, _, body = post_json(admin, {"max_concurrency": 1, "max_queued": 0,
                                        "per_try_timeout_ms": 20000, "max_attempts": 1})
        self.assertEqual(st, 200, body)
        u = self.url + "/v1/components/busy/request"
        slow = json.dumps({"type": "sleep", "data": "4000", "timeout_ms": 30000})
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
            holder = ex.submit(post_json, u, slow, timeout=60)
            deadline = time.monotonic() + gwtest.WAIT_S
            while True:
                doc = json.loads(curl(self.url + "/v1/status")[2])
                busy = [c for c in doc["components"] if c["id"] == "busy"]
                if busy and busy[0]["in_flight"] >= 1:
                    break
                self.assertLess(time.monotonic(), deadline, "the slow request never started")
                time.sleep(0.02)
            for _ in range(3):
                st, _, b = post_json(u, json.dumps({"type": "ping"}), timeout=30)
                self.assertEqual(st, 429, b)
                self.assertEqual(json.loads(b)["reason"], "BULKHEAD_FULL")
            st, _, b = holder.result()
            self.assertEqual(st, 200, b)
        post_json(admin, {"max_concurrency": 16, "max_queued": 50})


class AuthAndTls(gwtest.GatewayCase):
    """A separate genesis-gateway process with bearer tokens, and one with TLS."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            tokens = os.path.join(cls.tmp, "tokens")
            with open(tokens, "w") as f:
                f.write("# test tokens\nt-all *\nt-comp1 comp1\nt-admin admin,comp2\n")
            cls.auth_gw = cls.spawn_gateway(["--auth-file", tokens], "gateway-auth")
            key, cert = os.path.join(cls.tmp, "key.pem"), os.path.join(cls.tmp, "cert.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-days",
                            "2"], check=True, capture_output=True, timeout=60)
            cls.tls_gw = cls.spawn_gateway(["--tls-cert", cert, "--tls-key", key], "gateway-tls")
        except Exception:
            cls.cleanup()
            raise

    def test_tokens(self):
        u = self.auth_gw.url
        st, hdrs, body = post_json(u + "/v1/components/comp1/request", {"type": "ping"})
        self.assertEqual(st, 401)
        self.assertEqual(hdrs["www-authenticate"], "Bearer")
        self.assertEqual(json.loads(body)["reason"], "UNAUTHENTICATED")
        st, _, _ = post_json(u + "/v1/components/comp1/request", {"type": "ping"},
                             headers=["Content-Type: application/json",
                                      "Authorization: Bearer wrong"])
        self.assertEqual(st, 401)

        def call(token, comp):
            return post_json(u + "/v1/components/%s/request" % comp, {"type": "ping"},
                             headers=["Content-Type: application/json",
                                      "Authorization: Bearer " + token])
        self.assertEqual(call("t-comp1", "comp1")[0], 200)
        st, _, body = call("t-comp1", "comp2")
        self.assertEqual((st, json.loads(body)["reason"]), (403, "PERMISSION_DENIED"))
        self.assertEqual(call("t-all", "comp2")[0], 200)
        # Connect route: the target is in the body
        st, _, _ = post_json(u + "/genesis.v1.Coordinator/Request",
                             {"target": "comp2", "type": "ping"},
                             headers=["Content-Type: application/json",
                                      "Authorization: Bearer t-comp1"])
        self.assertEqual(st, 403)
        # probes stay open, status needs any token, admin needs the admin scope
        self.assertEqual(curl(u + "/healthz")[0], 200)
        self.assertEqual(curl(u + "/readyz")[0], 200)
        self.assertEqual(curl(u + "/v1/status")[0], 401)
        self.assertEqual(curl(u + "/metrics", headers=["Authorization: Bearer t-comp1"])[0], 200)
        self.assertEqual(post_json(u + "/v1/admin/mode", {"mode": "SAFE"},
                                   headers=["Content-Type: application/json",
                                            "Authorization: Bearer t-all"])[0], 403)
        self.assertEqual(post_json(u + "/v1/admin/mode", {"mode": "SAFE"},
                                   headers=["Content-Type: application/json",
                                            "Authorization: Bearer t-admin"])[0], 200)
        self.assertEqual(post_json(u + "/v1/admin/mode", {"mode": "AUTO"},
                                   headers=["Content-Type: application/json",
                                            "Authorization: Bearer t-admin"])[0], 200)
        # no secret in the logs
        self.assertNotIn("t-comp1", self.auth_gw.stderr())

    def test_websocket_tokens(self):
        import asyncio
        import websockets
        import websockets.exceptions
        ws = self.auth_gw.url.replace("http", "ws", 1) + "/ws?id="

        async def run():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                async with websockets.connect(ws + "comp1"):
                    pass
            self.assertEqual(e.exception.status_code, 401)
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                async with websockets.connect(ws + "comp2&access_token=t-comp1"):
                    pass
            self.assertEqual(e.exception.status_code, 403)
            async with websockets.connect(ws + "comp1&access_token=t-comp1") as c:
                await c.ping()
            async with websockets.connect(ws + "comp2",
                                          extra_headers={"Authorization": "Bearer t-all"}) as c:
                await c.ping()
        asyncio.run(run())

    def test_tls(self):
        u = self.tls_gw.url
        self.assertTrue(u.startswith("https://"))
        st, _, body = post_json(u + "/v1/components/comp1/request", {"type": "ping"},
                                insecure=True)
        self.assertEqual((st, json.loads(body)), (200, {"result": "Pong from comp1"}))
        # HTTP/2 by ALPN
        r = subprocess.run(["curl", "-sk", "--http2", "-D", "-", "-XPOST",
                            "-H", "Content-Type: application/json", "-d", '{"type":"ping"}',
                            u + "/v1/components/comp2/request"], capture_output=True, timeout=30)
        self.assertTrue(r.stdout.startswith(b"HTTP/2 200"), r.stdout)
        self.assertIn(b'{"result":"Pong from comp2"}', r.stdout)
        # plain HTTP to the TLS port is refused, the gateway keeps serving
        r = subprocess.run(["curl", "-s", "--max-time", "5", u.replace("https", "http", 1) +
                            "/healthz"], capture_output=True, timeout=30)
        self.assertNotEqual(r.stdout, b'{"status":"ok"}')
        self.assertEqual(curl(u + "/healthz", insecure=True)[0], 200)


class CrossSite(gwtest.GatewayCase):
    """Other websites cannot change state or read events without --auth-file: only
    application/json bodies, no foreign Origin on POSTs and WebSocket upgrades, and a Host
    that names the gateway (DNS rebinding). Allowances come from flags and from the YAML
    configuration file."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.flag_gw = cls.spawn_gateway(["--allowed-origin", "http://ops.example:8000,null",
                                             "--allowed-host", "ops.example"], "gateway-flags")
            conf = os.path.join(cls.tmp, "genesis.yaml")
            with open(conf, "w") as f:
                f.write("gateway:\n  allowed_origins:\n    - https://console.example\n"
                        "  allowed_hosts: [console.example]\n")
            cls.yaml_gw = cls.spawn_gateway(["--config", conf], "gateway-yaml")
        except Exception:
            cls.cleanup()
            raise

    def assert_refused(self, resp, status, reason):
        st, hdrs, body = resp
        self.assertEqual(st, status, body)
        self.assertTrue(hdrs["content-type"].startswith("application/json"))
        doc = json.loads(body)
        self.assertEqual(doc["reason"], reason, doc)
        self.assertTrue(doc["message"])
        return doc

    def mode(self):
        st, _, body = post_json(self.url + "/v1/admin/mode", {})
        self.assertEqual(st, 200, body)
        return json.loads(body)["mode"]

    def test_only_json_bodies_change_state(self):
        u = self.url + "/v1/admin/mode"
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                      "application/jsonp", None):
            headers = ["Content-Type: " + ctype] if ctype else ["Content-Type:"]
            doc = self.assert_refused(post_json(u, {"mode": "EMERGENCY"}, headers=headers), 415,
                                      "UNSUPPORTED_MEDIA_TYPE")
            self.assertIn("application/json", doc["message"])
        self.assertEqual(self.mode(), "NORMAL")
        st, _, body = post_json(self.url + "/v1/components/comp1/request", {"type": "ping"},
                                headers=["Content-Type: application/json; charset=utf-8"])
        self.assertEqual((st, json.loads(body)), (200, {"result": "Pong from comp1"}))

    def test_foreign_origin_is_refused(self):
        for origin in ("http://evil.example", "null", "http://127.0.0.1:1",
                       self.url.replace("127.0.0.1", "localhost")):
            h = ["Content-Type: application/json", "Origin: " + origin]
            doc = self.assert_refused(post_json(self.url + "/v1/admin/mode",
                                                {"mode": "EMERGENCY"}, headers=h),
                                      403, "ORIGIN_NOT_ALLOWED")
            self.assertIn(origin, doc["message"])
            self.assert_refused(post_json(self.url + "/v1/components/comp1/request",
                                          {"type": "ping"}, headers=h), 403, "ORIGIN_NOT_ALLOWED")
        self.assertEqual(self.mode(), "NORMAL")
        # the gateway's own origin (its dashboard) is accepted
        st, _, body = post_json(self.url + "/v1/components/comp1/request", {"type": "ping"},
                                headers=["Content-Type: application/json", "Origin: " + self.url])
        self.assertEqual(st, 200, body)
        st, _, body = gwtest.curl(self.url + "/metrics")
        self.assertRegex(body.decode(), r"genesis_gateway_cross_site_refused_total [1-9]")

    def test_foreign_host_is_refused(self):
        for host in ("attacker.example", "attacker.example:%s" % self.url.rsplit(":", 1)[1],
                     "127.0.0.1.attacker.example", "[::1", "x:y"):
            doc = self.assert_refused(gwtest.curl(self.url + "/v1/status",
                                                  headers=["Host: " + host]),
                                      403, "HOST_NOT_ALLOWED")
            self.assertIn("--allowed-host", doc["message"])
        for host in ("127.0.0.1", "localhost:9", "10.1.2.3:80", "[::1]:80"):
            st, _, body = gwtest.curl(self.url + "/healthz", headers=["Host: " + host])
            self.assertEqual(st, 200, host)

    def test_websocket_from_a_foreign_origin_is_refused(self):
        import asyncio
        import websockets
        import websockets.exceptions
        ws = self.ws_url + "/ws?id=comp1&topic=*"

        async def run():
            for origin in ("http://evil.example", "null"):
                with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                    async with websockets.connect(ws, origin=origin):
                        pass
                self.assertEqual(e.exception.status_code, 403)
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                async with websockets.connect(ws, extra_headers={"Host": "rebind.example"}):
                    pass
            self.assertEqual(e.exception.status_code, 403)
            async with websockets.connect(ws, origin=self.url) as c:
                await c.ping()
        asyncio.run(run())

    def test_allowed_origins_and_hosts_from_flags_and_yaml(self):
        cases = ((self.flag_gw, "http://ops.example:8000", "ops.example"),
                 (self.flag_gw, "null", "ops.example:8000"),
                 (self.yaml_gw, "https://console.example", "console.example"))
        for gw, origin, host in cases:
            h = ["Content-Type: application/json", "Origin: " + origin]
            st, _, body = post_json(gw.url + "/v1/components/comp1/request", {"type": "ping"},
                                    headers=h)
            self.assertEqual(st, 200, (gw.name, origin, body))
            st, _, body = gwtest.curl(gw.url + "/healthz", headers=["Host: " + host])
            self.assertEqual(st, 200, (gw.name, host, body))
        self.assert_refused(post_json(self.yaml_gw.url + "/v1/components/comp1/request",
                                      {"type": "ping"},
                                      headers=["Content-Type: application/json",
                                               "Origin: http://ops.example:8000"]),
                            403, "ORIGIN_NOT_ALLOWED")
        self.assert_refused(gwtest.curl(self.yaml_gw.url + "/healthz",
                                        headers=["Host: ops.example"]), 403, "HOST_NOT_ALLOWED")
        r = subprocess.run([gwtest.PATHS["gateway"], "--front-door", "tcp://127.0.0.1:1",
                            "--allowed-origin", "a b"], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"--allowed-origin", r.stderr)


class Shutdown(gwtest.GatewayCase):
    def test_stop_with_requests_in_flight(self):
        """SIGTERM while requests wait on a slow component: genesisd (gateway first) drains
        and exits 0 (sanitizer builds catch a completion touching freed memory)."""
        self.spawn_service("slow")
        curls = [subprocess.Popen(["curl", "-s", "-XPOST", "-d",
                                   '{"type":"sleep","data":"1500","timeout_ms":5000}',
                                   self.url + "/v1/components/slow/request"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                 for _ in range(4)]
        time.sleep(0.5)
        self.assertEqual(self.daemon.stop(), 0)
        for c in curls:
            c.communicate(timeout=30)


class CommandLine(gwtest.GatewayCase):
    def test_usage_and_runtime_errors(self):
        def run(argv):
            return subprocess.run(argv, capture_output=True, timeout=60,
                                  env=gwtest.sanitizer_env())
        r = run([gwtest.PATHS["gateway"], "--max-body", "lots"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--max-body", r.stderr)
        r = run([gwtest.PATHS["genesisd"], "--http", "nowhere:port"])
        self.assertEqual(r.returncode, 2)
        r = run([gwtest.PATHS["gateway"], "--auth-file", "/nonexistent/tokens"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"/nonexistent/tokens", r.stderr)
        port = self.url.rsplit(":", 1)[1]
        r = run([gwtest.PATHS["gateway"], "--listen", "127.0.0.1:" + port, "--front-door",
                 self.daemon.front_door])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot serve HTTP", r.stderr)
        r = run([gwtest.PATHS["gateway"], "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--max-ws-clients", r.stdout)


if __name__ == "__main__":
    gwtest.main(sys.argv)
