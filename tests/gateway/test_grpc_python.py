"""gRPC over HTTP/2 (h2c with prior knowledge) on the gateway's port, with Python grpcio as
the client and stubs generated from the installed contract, proto/genesis.proto, by
grpc_tools.protoc at test time (into GENESIS_GRPC_GEN_DIR).

Each check: a unary ping; an error whose ErrorInfo details decode; a deadline exceeded (and
the coordinator saw the gRPC deadline); a server stream of events, then cancelled; a message
at the size limit and one above it (RESOURCE_EXHAUSTED)."""
import os
import socket
import subprocess
import sys
import threading
import time

import gwtest

MAX_BODY = 65536  # the gateway's --max-body for this test: the largest request message


def generate_stubs():
    proto = os.environ["GENESIS_PROTO"]
    out = os.environ["GENESIS_GRPC_GEN_DIR"]
    os.makedirs(out, exist_ok=True)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.dirname(proto),
                    "--python_out", out, "--grpc_python_out", out, proto], check=True)
    sys.path.insert(0, out)


generate_stubs()
import grpc  # noqa: E402
import genesis_pb2 as pb  # noqa: E402
import genesis_pb2_grpc as pb_grpc  # noqa: E402


def error_info(err):
    """The ErrorInfo packed in grpc-status-details-bin (a google.rpc.Status)."""
    md = dict(err.trailing_metadata() or ())
    status = pb.RpcStatus.FromString(md["grpc-status-details-bin"])
    assert status.code == err.code().value[0], (status.code, err.code())
    assert len(status.details) == 1, status
    any_ = status.details[0]
    assert any_.type_url == "type.googleapis.com/genesis.v1.ErrorInfo", any_.type_url
    return pb.ErrorInfo.FromString(any_.value)


class GrpcPython(gwtest.GatewayCase):
    daemon_args = ["--max-body", str(MAX_BODY)]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.spawn_service("slow")
        except Exception:
            cls.cleanup()
            raise
        cls.channel = grpc.insecure_channel(cls.daemon.url.replace("http://", ""))
        cls.stub = pb_grpc.GenesisStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        super().tearDownClass()

    def request(self, target, type_, data=b"", timeout=gwtest.WAIT_S, **kw):
        req = pb.Request(target=target, type=type_,
                         payload=pb.Payload(data=data, content_type="text/plain"), **kw)
        return self.stub.Request(req, timeout=timeout)

    def test_unary_ping(self):
        reply = self.request("comp1", "ping")
        self.assertEqual(reply.code, 0)
        self.assertEqual(reply.payload.data, b"Pong from comp1")
        self.assertEqual(reply.payload.content_type, "text/plain")

    def test_error_details(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.request("no-such-component", "ping")
        err = cm.exception
        self.assertEqual(err.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIn("no-such-component", err.details())
        info = error_info(err)
        self.assertEqual(info.reason, "NOT_FOUND")
        self.assertEqual(info.domain, "genesis")
        self.assertEqual(info.component, "no-such-component")
        self.assertEqual(info.protocol, "grpc")

    def test_admin_service(self):
        admin = pb_grpc.GenesisAdminStub(self.channel)
        self.assertIn('"mode"', admin.Mode(pb.ModeRequest(), timeout=gwtest.WAIT_S).json)
        opened = admin.Breaker(pb.BreakerRequest(component="comp2", state="open"),
                               timeout=gwtest.WAIT_S)
        self.assertIn("FORCED_OPEN", opened.json)
        try:
            with self.assertRaises(grpc.RpcError) as cm:
                self.request("comp2", "ping")
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
            info = error_info(cm.exception)
            self.assertEqual(info.reason, "BREAKER_OPEN")
            self.assertEqual(info.component, "comp2")
        finally:
            admin.Breaker(pb.BreakerRequest(component="comp2", state="reset"),
                          timeout=gwtest.WAIT_S)
        self.assertEqual(self.request("comp2", "ping").payload.data, b"Pong from comp2")

    def test_breaker_retry_delay(self):
        """An open breaker's time to its next probe reaches the client as a number, through
        the embedded gateway and through a separate one (over the front door)."""
        admin = pb_grpc.GenesisAdminStub(self.channel)
        admin.Breaker(pb.BreakerRequest(component="comp2", state="open", for_ms=600000),
                      timeout=gwtest.WAIT_S)
        try:
            for target in (self.channel, self.standalone_channel()):
                with self.assertRaises(grpc.RpcError) as cm:
                    pb_grpc.GenesisStub(target).Request(
                        pb.Request(target="comp2", type="ping"), timeout=gwtest.WAIT_S)
                self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
                info = error_info(cm.exception)
                self.assertEqual(info.reason, "BREAKER_OPEN")
                self.assertGreater(info.retry_delay_ms, 0)
                self.assertLessEqual(info.retry_delay_ms, 600000)
                self.assertIn("next probe in", cm.exception.details())
        finally:
            admin.Breaker(pb.BreakerRequest(component="comp2", state="reset"),
                          timeout=gwtest.WAIT_S)
        # Other failures give no advice.
        with self.assertRaises(grpc.RpcError) as cm:
            self.request("no-such-component", "ping")
        self.assertEqual(error_info(cm.exception).retry_delay_ms, 0)

    def standalone_channel(self):
        if not hasattr(type(self), "gateway"):
            type(self).gateway = self.spawn_gateway([])
        ch = grpc.insecure_channel(self.gateway.url.replace("http://", ""))
        self.addCleanup(ch.close)
        return ch

    def test_unknown_method_is_unimplemented(self):
        call = self.channel.unary_unary("/genesis.v1.Genesis/NoSuchMethod",
                                        request_serializer=lambda m: m,
                                        response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as cm:
            call(b"", timeout=gwtest.WAIT_S)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        self.assertEqual(error_info(cm.exception).reason, "UNIMPLEMENTED")

    def test_malformed_message_is_invalid_argument(self):
        call = self.channel.unary_unary("/genesis.v1.Genesis/Request",
                                        request_serializer=lambda m: m,
                                        response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as cm:
            call(b"\xff\xff\xff", timeout=gwtest.WAIT_S)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(error_info(cm.exception).reason, "MALFORMED_MESSAGE")

    def timed_out(self):
        return self.stub.Status(pb.StatusQuery(), timeout=gwtest.WAIT_S).timed_out

    def test_deadline_exceeded(self):
        before = self.timed_out()
        with self.assertRaises(grpc.RpcError) as cm:
            self.request("slow", "sleep", b"5000", timeout=0.3)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        # grpc-timeout became the call's deadline: the coordinator itself timed it out
        # (its default deadline is 10 s, the handler sleeps 5 s).
        deadline = time.monotonic() + gwtest.WAIT_S
        while self.timed_out() == before:
            self.assertLess(time.monotonic(), deadline, "the coordinator never timed it out")
            time.sleep(0.05)

    def test_status(self):
        report = self.stub.Status(pb.StatusQuery(), timeout=gwtest.WAIT_S)
        self.assertIn(report.mode, ("NORMAL", "SAFE", "EMERGENCY"))
        ids = [c.id for c in report.components]
        self.assertIn("comp1", ids)

    def test_watch_then_cancel(self):
        stream = self.stub.Watch(pb.WatchRequest(types=["grpc.test"]), timeout=60)
        got = []

        def read():
            try:
                for ev in stream:
                    got.append(ev)
            except grpc.RpcError as e:
                got.append(e)

        reader = threading.Thread(target=read)
        reader.start()
        # The subscription connects in the background: emit until events arrive.
        deadline = time.monotonic() + gwtest.WAIT_S
        n = 0
        while len(got) < 3:
            self.assertLess(time.monotonic(), deadline, "no events on the stream")
            n += 1
            self.stub.Emit(pb.Emit(type="grpc.test", source="py",
                                   payload=pb.Payload(data=b"e%d" % n)), timeout=gwtest.WAIT_S)
            self.stub.Emit(pb.Emit(type="other.type", source="py"), timeout=gwtest.WAIT_S)
            time.sleep(0.02)
        events = [e for e in got if isinstance(e, pb.Event)]
        self.assertGreaterEqual(len(events), 3)
        for ev in events:
            self.assertEqual(ev.type, "grpc.test")  # the type filter held
            self.assertEqual(ev.source, "py")
            self.assertTrue(ev.payload.data.startswith(b"e"))
            self.assertGreater(ev.sequence, 0)
        stream.cancel()
        reader.join(gwtest.WAIT_S)
        self.assertFalse(reader.is_alive())
        self.assertEqual(got[-1].code(), grpc.StatusCode.CANCELLED)
        # The connection keeps serving after the cancelled stream.
        self.assertEqual(self.request("comp1", "ping").payload.data, b"Pong from comp1")

    def metrics(self):
        """The gateway's metrics as {series: value}."""
        _, _, body = gwtest.curl(self.url + "/metrics")
        out = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def wait_metric(self, name, want):
        deadline = time.monotonic() + gwtest.WAIT_S
        while self.metrics()[name] != want:
            self.assertLess(time.monotonic(), deadline, "%s never became %s" % (name, want))
            time.sleep(0.05)

    def test_gzip_both_ways(self):
        key_in = 'genesis_gateway_rpc_compressed_messages_total{direction="in"}'
        key_out = 'genesis_gateway_rpc_compressed_messages_total{direction="out"}'
        before = self.metrics()
        with grpc.insecure_channel(self.url.replace("http://", ""),
                                   compression=grpc.Compression.Gzip) as ch:
            stub = pb_grpc.GenesisStub(ch)
            big = self.sized_request(MAX_BODY)  # at the limit once decompressed
            reply = stub.Request(big, timeout=gwtest.WAIT_S)
            self.assertEqual(reply.payload.data, big.payload.data)
            reply = stub.Request(pb.Request(target="comp1", type="ping"), timeout=gwtest.WAIT_S)
            self.assertEqual(reply.payload.data, b"Pong from comp1")
        after = self.metrics()
        # grpcio sends the ping as is (flag 0: gzip would not make it smaller); both replies
        # come back compressed.
        self.assertGreaterEqual(after[key_in] - before[key_in], 1)
        self.assertGreaterEqual(after[key_out] - before[key_out], 2)

    def test_gzip_bomb_is_resource_exhausted(self):
        # 8 MiB of zeros compress to about 8 KiB: under the size limit on the wire, far over
        # it once decompressed; the gateway stops inflating at the limit.
        with grpc.insecure_channel(self.url.replace("http://", ""),
                                   compression=grpc.Compression.Gzip) as ch:
            bomb = pb.Request(target="comp1", type="echo",
                              payload=pb.Payload(data=bytes(8 << 20)))
            with self.assertRaises(grpc.RpcError) as cm:
                pb_grpc.GenesisStub(ch).Request(bomb, timeout=gwtest.WAIT_S)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(error_info(cm.exception).reason, "MESSAGE_TOO_LARGE")
        self.assertIn("decompresses past the limit", cm.exception.details())
        self.assertEqual(self.request("comp1", "ping").payload.data, b"Pong from comp1")

    def test_unknown_encoding_is_unimplemented(self):
        with grpc.insecure_channel(self.url.replace("http://", ""),
                                   compression=grpc.Compression.Deflate) as ch:
            with self.assertRaises(grpc.RpcError) as cm:
                pb_grpc.GenesisStub(ch).Request(pb.Request(target="comp1", type="ping"),
                                                timeout=gwtest.WAIT_S)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        self.assertEqual(error_info(cm.exception).reason, "UNSUPPORTED_ENCODING")
        self.assertIn("gzip", cm.exception.details())
        out = self.grpc_curl(b"\x00\x00\x00\x00\x00", "grpc-encoding: snappy")
        self.assertIn("grpc-status: 12", out)
        self.assertIn("grpc-accept-encoding: gzip,identity", out)

    def test_cancelled_watch_frees_its_stream(self):
        """The open-stream gauge returns to where it was once a Watch is cancelled (under the
        ASan build LeakSanitizer checks, at the gateway's exit, that nothing else stayed)."""
        gauge, watches = "genesis_gateway_h2_streams_open", "genesis_gateway_rpc_watches_open"
        before = self.metrics()
        with grpc.insecure_channel(self.url.replace("http://", "")) as ch:
            stream = pb_grpc.GenesisStub(ch).Watch(pb.WatchRequest(types=["never.sent"]),
                                                   timeout=60)
            self.wait_metric(gauge, before[gauge] + 1)
            self.wait_metric(watches, before[watches] + 1)
            stream.cancel()
            self.wait_metric(gauge, before[gauge])
            self.wait_metric(watches, before[watches])  # its bus subscription closed too
        after = self.metrics()
        self.assertGreater(after["genesis_gateway_h2_rst_stream_received_total"],
                           before["genesis_gateway_h2_rst_stream_received_total"])
        self.assertGreater(after["genesis_gateway_h2_streams_total"],
                           before["genesis_gateway_h2_streams_total"])
        self.assertGreater(after["genesis_gateway_h2_received_bytes_total"],
                           before["genesis_gateway_h2_received_bytes_total"])
        self.assertGreater(after["genesis_gateway_h2_sent_bytes_total"],
                           before["genesis_gateway_h2_sent_bytes_total"])

    def sized_request(self, size):
        """A Request whose encoding is exactly size bytes."""
        req = pb.Request(target="comp1", type="echo",
                         payload=pb.Payload(data=b"", content_type="text/plain"))
        pad = size - req.ByteSize()
        while True:
            req.payload.data = b"x" * pad
            if req.ByteSize() == size:
                return req
            pad -= req.ByteSize() - size

    def test_size_limit(self):
        at = self.sized_request(MAX_BODY)
        reply = self.stub.Request(at, timeout=gwtest.WAIT_S)
        self.assertEqual(len(reply.payload.data), len(at.payload.data))
        above = self.sized_request(MAX_BODY + 1)
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.Request(above, timeout=gwtest.WAIT_S)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(error_info(cm.exception).reason, "MESSAGE_TOO_LARGE")
        # still serving
        self.assertEqual(self.request("comp1", "ping").payload.data, b"Pong from comp1")

    def test_malformed_http2_frames(self):
        # The preface, then a SETTINGS frame whose length is not a multiple of 6: the
        # connection ends with GOAWAY (type 7); the gateway keeps serving everyone else.
        host, port = self.url.replace("http://", "").rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=gwtest.WAIT_S)
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x05\x04\x00\x00\x00\x00\x00"
                  + b"\x01\x02\x03\x04\x05")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        frames, i = [], 0
        while i + 9 <= len(data):
            n = int.from_bytes(data[i:i + 3], "big")
            frames.append(data[i + 3])
            i += 9 + n
        self.assertIn(7, frames, "no GOAWAY in %r" % data)
        self.assertEqual(self.request("comp1", "ping").payload.data, b"Pong from comp1")

    def test_http2_wrong_content_type_and_method(self):
        for extra, want in ((["-H", "content-type: application/json", "-d", "{}"], "415"),
                            ([], "405")):
            r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null",
                                "-w", "%{http_code}", *extra,
                                self.url + "/genesis.v1.Genesis/Request"],
                               capture_output=True, timeout=gwtest.WAIT_S)
            self.assertEqual(r.stdout.decode(), want, r.stderr)

    def grpc_curl(self, body, *headers):
        """A raw gRPC POST over h2c with curl: (headers and trailers text, HTTP status)."""
        r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-D", "-", "-o", "/dev/null",
                            "-H", "content-type: application/grpc", "-H", "te: trailers",
                            *sum((["-H", h] for h in headers), []), "--data-binary", "@-",
                            self.url + "/genesis.v1.Genesis/Request"],
                           input=body, capture_output=True, timeout=gwtest.WAIT_S)
        return r.stdout.decode(errors="replace").lower()

    def test_malformed_length_prefixes(self):
        # a prefix announcing 9 bytes followed by 2; a compressed flag; a bad grpc-timeout
        for body, headers, status in ((b"\x00\x00\x00\x00\x09ab", (), "grpc-status: 3"),
                                      (b"\x01\x00\x00\x00\x01x", (), "grpc-status: 13"),
                                      (b"\x00\x00\x00\x00\x00", ("grpc-timeout: soon",),
                                       "grpc-status: 3")):
            out = self.grpc_curl(body, *headers)
            self.assertIn(status, out)
            self.assertIn("grpc-status-details-bin", out)

    def test_http1_still_served_on_the_same_port(self):
        status, _, body = gwtest.curl(self.url + "/healthz")
        self.assertEqual(status, 200)


if __name__ == "__main__":
    gwtest.main(sys.argv)
