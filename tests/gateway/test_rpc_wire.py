"""Connect and gRPC-Web on the wire with curl as the client: Connect unary GET (refused for
methods with side effects), gzip in Connect unary, Connect streaming and gRPC-Web, an unknown
encoding, and a gzip bomb (bounded by the message size limit). Protobuf messages are built
with stubs generated from proto/genesis.proto at test time (into GENESIS_GRPC_GEN_DIR)."""
import base64
import gzip
import json
import os
import select
import struct
import subprocess
import sys
import time
import urllib.parse

import gwtest

MAX_BODY = 65536


def generate_stubs():
    proto = os.environ["GENESIS_PROTO"]
    out = os.environ["GENESIS_GRPC_GEN_DIR"] + "_wire"
    os.makedirs(out, exist_ok=True)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.dirname(proto),
                    "--python_out", out, proto], check=True)
    sys.path.insert(0, out)


generate_stubs()
import genesis_pb2 as pb  # noqa: E402


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def frame(msg, flags=0):
    return struct.pack(">BI", flags, len(msg)) + msg


def frames(body):
    """[(flags, message)] of a length-prefixed body."""
    out, i = [], 0
    while i + 5 <= len(body):
        flags, n = struct.unpack(">BI", body[i:i + 5])
        if i + 5 + n > len(body):
            break  # not complete yet
        out.append((flags, body[i + 5:i + 5 + n]))
        i += 5 + n
    return out


def bomb():
    """Far over the limit once decompressed, far under it on the wire."""
    return gzip.compress(b'{"target": "comp1", "type": "echo", "payload": {"data": "'
                         + b"A" * (16 << 20) + b'"}}', 9)


class RpcWire(gwtest.GatewayCase):
    daemon_args = ["--max-body", str(MAX_BODY)]

    def metric(self, name):
        _, _, body = gwtest.curl(self.url + "/metrics")
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError("no metric " + name)

    def wait_metric(self, name, want):
        deadline = time.monotonic() + gwtest.WAIT_S
        while self.metric(name) != want:
            self.assertLess(time.monotonic(), deadline, "%s never became %s" % (name, want))
            time.sleep(0.05)

    def test_connect_retry_delay(self):
        admin = self.url + "/genesis.v1.GenesisAdmin/Breaker"
        status, _, body = gwtest.post_json(admin, {"component": "comp2", "state": "open",
                                                   "forMs": 600000})
        self.assertEqual(status, 200, body)
        try:
            status, _, body = gwtest.post_json(self.url + "/genesis.v1.Genesis/Request",
                                               {"target": "comp2", "type": "ping"})
            self.assertEqual(status, 503, body)
            debug = json.loads(body)["details"][0]["debug"]
            self.assertEqual(debug["reason"], "BREAKER_OPEN")
            self.assertGreater(int(debug["retryDelayMs"]), 0)
            self.assertLessEqual(int(debug["retryDelayMs"]), 600000)
        finally:
            gwtest.post_json(admin, {"component": "comp2", "state": "reset"})

    def rpc(self, rpc_method, **kw):
        return gwtest.curl(self.url + "/genesis.v1.Genesis/" + rpc_method, **kw)

    def get(self, method, query, *args):
        return gwtest.curl(self.url + "/genesis.v1.Genesis/" + method + "?" + query, *args)

    def test_connect_get_json(self):
        status, hdrs, body = self.get("Status", "connect=v1&encoding=json&message="
                                      + urllib.parse.quote("{}"))
        self.assertEqual(status, 200, body)
        self.assertEqual(hdrs["content-type"], "application/json")
        self.assertIn(json.loads(body)["mode"], ("NORMAL", "SAFE", "EMERGENCY"))

    def test_connect_get_proto_base64(self):
        query = "connect=v1&encoding=proto&base64=1&message=" + b64url(
            pb.StatusQuery().SerializeToString())
        status, hdrs, body = self.get("Status", query)
        self.assertEqual(status, 200, body)
        self.assertEqual(hdrs["content-type"], "application/proto")
        ids = [c.id for c in pb.StatusReport.FromString(body).components]
        self.assertIn("comp1", ids)

    def test_connect_get_gzip(self):
        query = ("connect=v1&encoding=json&base64=1&compression=gzip&message="
                 + b64url(gzip.compress(b"{}")))
        status, hdrs, body = self.get("Status", query, "-H", "Accept-Encoding: gzip")
        self.assertEqual(status, 200, body)
        self.assertEqual(hdrs.get("content-encoding"), "gzip")
        self.assertIn("mode", json.loads(gzip.decompress(body)))

    def test_connect_get_refused_for_side_effects(self):
        for method in ("Request", "Emit", "Watch"):
            status, hdrs, body = self.get(method, "connect=v1&encoding=json&message=%7B%7D")
            self.assertEqual(status, 405, body)
            self.assertEqual(hdrs["allow"], "POST")
            err = json.loads(body)
            self.assertEqual(err["code"], "unimplemented")
            self.assertEqual(err["details"][0]["debug"]["reason"], "METHOD_NOT_ALLOWED")
            self.assertIn("send POST", err["message"])

    def test_connect_get_bad_queries(self):
        for query, code, reason in (("encoding=xml&message=x", "unimplemented",
                                     "UNSUPPORTED_MEDIA_TYPE"),
                                    ("connect=v2&encoding=json", "invalid_argument",
                                     "INVALID_ARGUMENT"),
                                    ("encoding=proto&base64=1&message=!!", "invalid_argument",
                                     "MALFORMED_MESSAGE"),
                                    ("encoding=json&message=%7B%7D&compression=br",
                                     "unimplemented", "UNSUPPORTED_ENCODING")):
            status, _, body = self.get("Status", query)
            err = json.loads(body)
            self.assertEqual((err["code"], err["details"][0]["debug"]["reason"]), (code, reason),
                             query)

    def test_connect_unary_gzip(self):
        req = gzip.compress(json.dumps({"target": "comp1", "type": "ping"}).encode())
        status, hdrs, body = self.rpc(
            "Request", method="POST", data=req,
            headers=["Content-Type: application/json", "Content-Encoding: gzip",
                     "Accept-Encoding: gzip"])
        self.assertEqual(status, 200, body)
        self.assertEqual(hdrs.get("content-encoding"), "gzip")
        reply = json.loads(gzip.decompress(body))
        self.assertEqual(base64.b64decode(reply["payload"]["data"]), b"Pong from comp1")

    def test_grpc_web_gzip(self):
        req = pb.Request(target="comp1", type="ping").SerializeToString()
        status, hdrs, body = self.rpc(
            "Request", method="POST", data=frame(gzip.compress(req), 1),
            headers=["Content-Type: application/grpc-web+proto", "grpc-encoding: gzip",
                     "grpc-accept-encoding: gzip"])
        self.assertEqual(status, 200, body)
        self.assertEqual(hdrs.get("grpc-encoding"), "gzip")
        (flags, msg), (tflags, trailers) = frames(body)
        self.assertEqual((flags, tflags), (1, 0x80))
        self.assertEqual(pb.Reply.FromString(gzip.decompress(msg)).payload.data,
                         b"Pong from comp1")
        self.assertIn(b"grpc-status:0", trailers)

    def test_connect_stream_gzip_both_ways(self):
        # A Watch whose request envelope is compressed, with gzip accepted: the events come
        # back in compressed envelopes (flag 1) under Connect-Content-Encoding: gzip.
        msg = gzip.compress(json.dumps({"types": ["wire.gzip"]}).encode())
        hdr_path = os.path.join(self.tmp, "watch.headers")
        curl = subprocess.Popen(["curl", "-sS", "-N", "--max-time", str(gwtest.WAIT_S), "-D",
                                 hdr_path, "-H", "Content-Type: application/connect+json", "-H",
                                 "Connect-Content-Encoding: gzip", "-H",
                                 "Connect-Accept-Encoding: gzip", "--data-binary", "@-",
                                 self.url + "/genesis.v1.Genesis/Watch"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        watches = self.metric("genesis_gateway_rpc_watches_open")
        try:
            curl.stdin.write(frame(msg, 1))
            curl.stdin.close()
            got = b""
            deadline = time.monotonic() + gwtest.WAIT_S
            while not frames(got):  # the subscription starts in the background: emit until
                self.assertLess(time.monotonic(), deadline, "no event on the stream")
                gwtest.post_json(self.url + "/genesis.v1.Genesis/Emit",
                                 {"type": "wire.gzip", "source": "t"})
                if select.select([curl.stdout], [], [], 0.05)[0]:
                    chunk = os.read(curl.stdout.fileno(), 65536)
                    self.assertTrue(chunk, "the stream ended early")
                    got += chunk
        finally:
            curl.kill()
            curl.wait()
            curl.stdout.close()
        # The client went away: its Watch and bus subscription are gone.
        self.wait_metric("genesis_gateway_rpc_watches_open", watches)
        flags, event = frames(got)[0]
        self.assertEqual(flags, 1)
        self.assertEqual(json.loads(gzip.decompress(event))["type"], "wire.gzip")
        with open(hdr_path) as f:
            self.assertIn("connect-content-encoding: gzip", f.read().lower())
        # The same envelope, not valid gzip: an error envelope names the reason.
        r = subprocess.run(["curl", "-sS", "--max-time", str(gwtest.WAIT_S), "-H",
                            "Content-Type: application/connect+json", "-H",
                            "Connect-Content-Encoding: gzip", "--data-binary", "@-",
                            self.url + "/genesis.v1.Genesis/Watch"],
                           input=frame(b"not gzip", 1), capture_output=True,
                           timeout=gwtest.WAIT_S + 5)
        self.assertIn(b"MALFORMED_MESSAGE", r.stdout)

    def test_unknown_encoding(self):
        status, hdrs, body = self.rpc("Request", method="POST", data=b"{}",
                                      headers=["Content-Type: application/json",
                                               "Content-Encoding: br"])
        self.assertEqual(status, 501, body)
        self.assertEqual(hdrs["accept-encoding"], "gzip,identity")
        self.assertEqual(json.loads(body)["details"][0]["debug"]["reason"],
                         "UNSUPPORTED_ENCODING")
        status, hdrs, body = self.rpc("Request", method="POST", data=frame(b""),
                                      headers=["Content-Type: application/grpc-web",
                                               "grpc-encoding: snappy"])
        self.assertEqual(hdrs["grpc-accept-encoding"], "gzip,identity")
        self.assertIn(b"grpc-status:12", frames(body)[-1][1])

    def test_gzip_bomb(self):
        z = bomb()
        self.assertLess(len(z), MAX_BODY)
        status, _, body = self.rpc("Request", method="POST", data=z,
                                   headers=["Content-Type: application/json",
                                            "Content-Encoding: gzip"])
        err = json.loads(body)
        self.assertEqual(err["code"], "resource_exhausted")
        self.assertEqual(err["details"][0]["debug"]["reason"], "MESSAGE_TOO_LARGE")
        self.assertIn("decompresses past the limit of %d bytes" % MAX_BODY, err["message"])
        status, _, body = self.rpc("Request", method="POST", data=frame(z, 1),
                                   headers=["Content-Type: application/grpc-web",
                                            "grpc-encoding: gzip"])
        self.assertIn(b"grpc-status:8", frames(body)[-1][1])
        _, _, metrics = gwtest.curl(self.url + "/metrics")
        self.assertRegex(metrics.decode(),
                         r"genesis_gateway_rpc_compression_refused_total [1-9]")
        # still serving
        status, _, body = gwtest.post_json(self.url + "/genesis.v1.Genesis/Request",
                                           {"target": "comp1", "type": "ping"})
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    gwtest.main(sys.argv)
