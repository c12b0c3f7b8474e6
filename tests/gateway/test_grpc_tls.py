"""gRPC over TLS on the gateway's one port, next to HTTPS and WSS: a genesis-gateway with
--tls-cert/--tls-key (a self-signed certificate made by the openssl CLI in the test's temp
dir) in front of genesisd --demo.

Real clients: Python grpcio with ssl_channel_credentials (a unary ping, an error with its
ErrorInfo, a server stream then cancelled), curl over HTTP/1.1 and over HTTP/2 (ALPN h2 and
http/1.1: libwebsockets' side), python3-websockets over wss. Bad input on raw sockets (plain
HTTP, noise, a silent client, a ClientHello that never finishes, one too large, an unknown
ALPN protocol): each is closed with its own log line while a good client is served."""
import asyncio
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

import gwtest
from test_grpc_python import error_info, pb, pb_grpc  # stubs generated at import

import grpc  # noqa: E402

HEADER_TIMEOUT_S = 2  # how long the gateway waits for a ClientHello and a handshake


class GrpcTls(gwtest.GatewayCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.key = os.path.join(cls.tmp, "key.pem")
            cls.cert = os.path.join(cls.tmp, "cert.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", cls.key, "-out", cls.cert, "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                            "-days", "2"], check=True, capture_output=True, timeout=60)
            cls.gw = cls.spawn_gateway(["--tls-cert", cls.cert, "--tls-key", cls.key,
                                        "--header-timeout", str(HEADER_TIMEOUT_S)],
                                       "gateway-tls")
            cls.port = int(cls.gw.url.rsplit(":", 1)[1])
            with open(cls.cert, "rb") as f:
                creds = grpc.ssl_channel_credentials(root_certificates=f.read())
            cls.channel = grpc.secure_channel("127.0.0.1:%d" % cls.port, creds,
                                              options=(("grpc.ssl_target_name_override",
                                                        "localhost"),))
            cls.stub = pb_grpc.GenesisStub(cls.channel)
        except Exception:
            cls.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        super().tearDownClass()

    def cert_bytes(self):
        with open(self.cert, "rb") as f:
            return f.read()

    def ping(self):
        req = pb.Request(target="comp1", type="ping",
                         payload=pb.Payload(data=b"", content_type="text/plain"))
        return self.stub.Request(req, timeout=gwtest.WAIT_S).payload.data

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=gwtest.WAIT_S)

    def wait_closed(self, s):
        """Read until the gateway closes s (EOF or reset); what arrived before."""
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        s.close()
        return data

    def wait_log(self, text):
        deadline = time.monotonic() + gwtest.WAIT_S
        while text not in self.gw.stderr():
            self.assertLess(time.monotonic(), deadline, "no log line with %r:\n%s" %
                            (text, self.gw.stderr()))
            time.sleep(0.05)

    def test_unary_ping(self):
        self.assertTrue(self.gw.url.startswith("https://"))
        self.assertEqual(self.ping(), b"Pong from comp1")

    def test_error_details(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.Request(pb.Request(target="no-such-component", type="ping"),
                              timeout=gwtest.WAIT_S)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIn("no-such-component", cm.exception.details())
        info = error_info(cm.exception)
        self.assertEqual((info.reason, info.component, info.protocol),
                         ("NOT_FOUND", "no-such-component", "grpc"))

    def test_watch_then_cancel(self):
        stream = self.stub.Watch(pb.WatchRequest(types=["tls.test"]), timeout=60)
        got = []

        def read():
            try:
                for ev in stream:
                    got.append(ev)
            except grpc.RpcError as e:
                got.append(e)

        reader = threading.Thread(target=read)
        reader.start()
        deadline = time.monotonic() + gwtest.WAIT_S
        n = 0
        while len(got) < 2:  # the subscription connects in the background
            self.assertLess(time.monotonic(), deadline, "no events on the stream")
            n += 1
            self.stub.Emit(pb.Emit(type="tls.test", source="py",
                                   payload=pb.Payload(data=b"e%d" % n)), timeout=gwtest.WAIT_S)
            time.sleep(0.02)
        self.assertTrue(all(isinstance(e, pb.Event) and e.type == "tls.test" for e in got))
        stream.cancel()
        reader.join(gwtest.WAIT_S)
        self.assertFalse(reader.is_alive())
        self.assertEqual(got[-1].code(), grpc.StatusCode.CANCELLED)
        self.assertEqual(self.ping(), b"Pong from comp1")

    def curl(self, *args):
        r = subprocess.run(["curl", "-sS", "--cacert", self.cert, "-w", "\n%{http_version}",
                            "-H", "Content-Type: application/json", "-d", '{"type":"ping"}',
                            *args, "https://localhost:%d/v1/components/comp1/request" % self.port,
                            "--resolve", "localhost:%d:127.0.0.1" % self.port],
                           capture_output=True, timeout=gwtest.WAIT_S)
        self.assertEqual(r.returncode, 0, r.stderr)
        body, _, version = r.stdout.decode().rpartition("\n")
        return body, version

    def test_https_json_route_over_http11(self):
        self.assertEqual(self.curl("--http1.1"), ('{"result":"Pong from comp1"}', "1.1"))

    def test_https_json_route_over_http2(self):
        # curl offers h2 and http/1.1, as browsers do: libwebsockets serves it, over HTTP/2
        self.assertEqual(self.curl("--http2"), ('{"result":"Pong from comp1"}', "2"))

    def test_grpc_from_an_http_client_is_explained(self):
        # offering http/1.1 too (curl, h2load, nghttp by default) leads to libwebsockets' side
        r = subprocess.run(["curl", "-sS", "--cacert", self.cert, "--http2",
                            "-w", "\n%{http_code}", "-H", "content-type: application/grpc",
                            "--data-binary", "@-", "--resolve",
                            "localhost:%d:127.0.0.1" % self.port,
                            "https://localhost:%d/genesis.v1.Genesis/Status" % self.port],
                           input=b"\0\0\0\0\0", capture_output=True, timeout=gwtest.WAIT_S)
        body, _, status = r.stdout.decode().rpartition("\n")
        self.assertEqual(status, "415", r.stderr)
        self.assertIn("ALPN h2 without http/1.1", body)

    def test_websocket_over_wss(self):
        import websockets
        ctx = ssl.create_default_context(cafile=self.cert)

        async def run():
            url = "wss://localhost:%d/ws?id=tls-client" % self.port
            async with websockets.connect(url, ssl=ctx, host="127.0.0.1",
                                          port=self.port) as ws:
                await asyncio.wait_for(ws.ping(), gwtest.WAIT_S)
        asyncio.run(run())

    def client_hello(self, alpn):
        """The first flight of a real TLS client offering alpn, from a memory BIO."""
        ctx = ssl.create_default_context(cafile=self.cert)
        ctx.set_alpn_protocols(alpn)
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        return out.read()

    def test_bad_clients_do_not_disturb_others(self):
        hello = self.client_hello(["h2"])
        silent = self.connect()
        partial = self.connect()
        partial.sendall(hello[:20])
        stalled = self.connect()  # a whole ClientHello offering h2, then nothing more
        stalled.sendall(hello)
        stalled_http = self.connect()  # the same for libwebsockets' side
        stalled_http.sendall(self.client_hello(["http/1.1"]))
        plain = self.connect()
        plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        noise = self.connect()
        noise.sendall(b"\x00\x01\x02 not tls at all")
        large = self.connect()
        large.sendall(b"\x16\x03\x01\x40\x00\x01\x00\xff\xff" + b"\x00" * 20000)
        unknown = self.connect()
        unknown.sendall(self.client_hello(["foo/1"]))
        # a good client meanwhile, on a connection of its own too
        self.assertEqual(self.ping(), b"Pong from comp1")
        with grpc.secure_channel("127.0.0.1:%d" % self.port,
                                 grpc.ssl_channel_credentials(self.cert_bytes()),
                                 options=(("grpc.ssl_target_name_override", "localhost"),)) as c:
            report = pb_grpc.GenesisStub(c).Status(pb.StatusQuery(), timeout=gwtest.WAIT_S)
            self.assertIn(report.mode, ("NORMAL", "SAFE", "EMERGENCY"))
        self.assertIn(b"400 Bad Request", self.wait_closed(plain))
        for s in (noise, large, unknown, silent, partial):
            self.wait_closed(s)
        self.assertGreater(len(self.wait_closed(stalled)), 0)  # its ServerHello, then the close
        stalled_http.close()  # libwebsockets times it out itself, after 10 s
        self.wait_log('not a TLS handshake (first bytes "GET /healthz HTTP/1.1')
        self.wait_log('not a TLS handshake (first bytes "\\x00\\x01\\x02 not tls')
        self.wait_log("a ClientHello larger than 16384 bytes")
        self.wait_log("no protocol served here among those offered by ALPN (foo/1)")
        self.wait_log("no complete ClientHello after %d s" % HEADER_TIMEOUT_S)
        self.wait_log("TLS handshake not complete after %d s" % HEADER_TIMEOUT_S)
        self.assertEqual(self.ping(), b"Pong from comp1")
        self.assertTrue(self.gw.alive())


if __name__ == "__main__":
    gwtest.main(sys.argv)
