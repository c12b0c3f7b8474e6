"""Browser access: CORS preflights and headers for the allowed origins (--allowed-origin), none
for other origins or by default, for the HTTP+JSON routes, gRPC-Web and Connect; and a
WebSocket upgrade asking for an unknown subprotocol gets a clear 400. curl and raw sockets
as the clients, against real genesisd processes."""
import json
import socket
import sys

import gwtest
from gwtest import curl

ALLOWED = "http://app.example.test:5173"
OTHER = "http://evil.example.test"


def preflight(url, path, origin, method="POST", headers="content-type"):
    return curl(url + path, method="OPTIONS",
                headers=("Origin: " + origin, "Access-Control-Request-Method: " + method,
                         "Access-Control-Request-Headers: " + headers))


class Cors(gwtest.GatewayCase):
    daemon_args = ["--allowed-origin", ALLOWED,
                   "--allowed-origin", "https://other-allowed.example.test"]

    def test_preflight_rest_route(self):
        st, h, _ = preflight(self.url, "/v1/components/comp1/request", ALLOWED)
        self.assertEqual(st, 204)
        self.assertEqual(h.get("access-control-allow-origin"), ALLOWED)
        self.assertEqual(h.get("access-control-allow-methods"), "POST")
        self.assertIn("content-type", h.get("access-control-allow-headers", ""))
        self.assertIn("authorization", h.get("access-control-allow-headers", ""))
        self.assertEqual(h.get("access-control-max-age"), "600")
        self.assertEqual(h.get("vary"), "Origin")
        st, h, _ = preflight(self.url, "/v1/status", ALLOWED, method="GET")
        self.assertEqual(st, 204)
        self.assertEqual(h.get("access-control-allow-methods"), "GET")

    def test_preflight_grpc_web_and_connect(self):
        st, h, _ = preflight(self.url, "/genesis.v1.Genesis/Request", ALLOWED,
                             headers="content-type,x-grpc-web,x-user-agent,grpc-timeout")
        self.assertEqual(st, 204)
        allow = h.get("access-control-allow-headers", "")
        for name in ("x-grpc-web", "x-user-agent", "grpc-timeout", "connect-protocol-version",
                     "connect-timeout-ms", "content-type"):
            self.assertIn(name, allow)
        self.assertEqual(h.get("access-control-allow-methods"), "POST")

    def test_preflight_other_origin_refused(self):
        st, h, body = preflight(self.url, "/genesis.v1.Genesis/Request", OTHER)
        self.assertEqual(st, 403)
        self.assertNotIn("access-control-allow-origin", h)
        self.assertEqual(json.loads(body)["reason"], "ORIGIN_NOT_ALLOWED")

    def test_preflight_unknown_route(self):
        st, h, _ = preflight(self.url, "/no/such/route", ALLOWED)
        self.assertEqual(st, 404)

    def test_actual_requests(self):
        st, h, body = curl(self.url + "/genesis.v1.Genesis/Request", method="POST",
                           data=json.dumps({"target": "comp1", "type": "ping"}),
                           headers=("Content-Type: application/json", "Origin: " + ALLOWED))
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("access-control-allow-origin"), ALLOWED)
        self.assertIn("grpc-status", h.get("access-control-expose-headers", ""))
        st, h, _ = curl(self.url + "/v1/status", headers=("Origin: " + ALLOWED,))
        self.assertEqual(st, 200)
        self.assertEqual(h.get("access-control-allow-origin"), ALLOWED)
        st, h, _ = curl(self.url + "/v1/status", headers=("Origin: " + OTHER,))
        self.assertNotIn("access-control-allow-origin", h)
        self.assertEqual(h.get("vary"), "Origin")

    def upgrade(self, protocols):
        host, port = self.url.replace("http://", "").rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=gwtest.WAIT_S)
        req = ("GET /ws?id=comp1 HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n" % (host, port))
        if protocols:
            req += "Sec-WebSocket-Protocol: %s\r\n" % protocols
        s.sendall((req + "\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1]) if head else 0
        if status == 400:
            length = int([l.split(b":")[1] for l in head.split(b"\r\n")
                          if l.lower().startswith(b"content-length:")][0])
            while len(body) < length:
                chunk = s.recv(4096)
                if not chunk:
                    break
                body += chunk
        s.close()
        return status, head.decode(errors="replace"), body

    def test_websocket_unknown_subprotocol(self):
        status, _, body = self.upgrade("mqtt, graphql-ws")
        self.assertEqual(status, 400)
        err = json.loads(body)
        self.assertEqual(err["reason"], "UNKNOWN_SUBPROTOCOL")
        self.assertIn("graphql-ws", err["message"])
        self.assertIn("genesis", err["message"])
        status, head, _ = self.upgrade("genesis")
        self.assertEqual(status, 101)
        self.assertIn("genesis", head.lower())
        status, _, _ = self.upgrade(None)
        self.assertEqual(status, 101)


class CorsOffByDefault(gwtest.GatewayCase):
    def test_no_cors_by_default(self):
        st, h, _ = preflight(self.url, "/genesis.v1.Genesis/Request", ALLOWED)
        self.assertEqual(st, 403)
        self.assertNotIn("access-control-allow-origin", h)
        st, h, _ = curl(self.url + "/v1/status", headers=("Origin: " + ALLOWED,))
        self.assertEqual(st, 200)
        self.assertNotIn("access-control-allow-origin", h)
        self.assertNotIn("vary", h)


if __name__ == "__main__":
    gwtest.main(sys.argv)
