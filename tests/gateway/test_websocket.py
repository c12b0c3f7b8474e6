"""WebSocket sessions through the gateway with a real client (python3-websockets): client
messages reach components as external events, components' external events reach every other
client; topics, the connection cap, slow consumers, oversized and binary frames, idle
timeout."""
import asyncio
import json
import re
import socket
import sys
import time

import websockets
import websockets.exceptions

import gwtest
from gwtest import curl, post_json


def metric(url, name):
    text = curl(url + "/metrics")[2].decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


async def recv_json(ws, timeout=gwtest.WAIT_S):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def expect_silence(ws, seconds=0.3):
    try:
        msg = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError("unexpected message: %s" % msg)


class Flow(gwtest.GatewayCase):
    def test_both_directions(self):
        url = self.ws_url + "/ws?id=comp1"

        async def run():
            async with websockets.connect(url) as a, websockets.connect(url) as b, \
                    websockets.connect(self.ws_url + "/ws?id=comp2") as c:
                # a -> comp1 (external event) -> comp1 relays it -> every client but a
                await a.send(json.dumps({"type": "chat", "data": {"text": "hi"}}))
                mb, mc = await recv_json(b), await recv_json(c)
                self.assertEqual(mb, mc)
                self.assertEqual((mb["type"], mb["data"]), ("chat", {"text": "hi"}))
                self.assertRegex(mb["source"], r"^ws-\d+$")
                self.assertGreater(mb["seq"], 0)
                await expect_silence(a)
                # plain text becomes a "message" event; sequence numbers grow
                await b.send("plain text")
                ma = await recv_json(a)
                self.assertEqual((ma["type"], ma["data"]), ("message", "plain text"))
                self.assertEqual(ma["seq"], mb["seq"] + 1)
                self.assertNotEqual(ma["source"], mb["source"])
                await expect_silence(b)
        asyncio.run(run())

    def test_topics(self):
        async def run():
            async with websockets.connect(self.ws_url + "/ws?id=comp1&topic=alert,news") as t, \
                    websockets.connect(self.ws_url + "/ws?id=comp1") as s:
                await s.send(json.dumps({"type": "chat", "data": 1}))
                await s.send(json.dumps({"type": "alert.fire", "data": 2}))
                m = await recv_json(t)
                self.assertEqual((m["type"], m["data"]), ("alert.fire", 2))
                await expect_silence(t)
        asyncio.run(run())

    def test_transitions_only_for_sessions_that_ask(self):
        """Breaker and mode transitions (the coordinator's genesis.* events) reach sessions whose
        topic filter names them or is "*" (the dashboard); unfiltered sessions never see them."""
        breaker = self.url + "/v1/admin/components/comp2/breaker"

        async def next_breaker(ws):
            while True:  # mode transitions may come first
                m = await recv_json(ws)
                if m["type"] == "genesis.breaker":
                    return m

        async def run():
            async with websockets.connect(self.ws_url + "/ws?id=x&topic=genesis.") as t, \
                    websockets.connect(self.ws_url + "/ws?id=x&topic=*") as a, \
                    websockets.connect(self.ws_url + "/ws?id=comp1") as s, \
                    websockets.connect(self.ws_url + "/ws?id=comp1&topic=alert") as f:
                self.assertEqual(post_json(breaker, {"state": "open"})[0], 200)
                for ws in (t, a):
                    m = await next_breaker(ws)
                    self.assertEqual(m["source"], "genesis")
                    self.assertEqual((m["data"]["component"], m["data"]["from"], m["data"]["to"]),
                                     ("comp2", "CLOSED", "FORCED_OPEN"))
                self.assertEqual(post_json(breaker, {"state": "close"})[0], 200)
                for ws in (t, a):
                    self.assertEqual((await next_breaker(ws))["data"]["to"], "CLOSED")
                await expect_silence(s)
                await expect_silence(f)
        asyncio.run(run())

    def test_unknown_component_gets_an_error_frame(self):
        async def run():
            async with websockets.connect(self.ws_url + "/ws?id=nobody") as c:
                await c.send("hello?")
                m = await recv_json(c)
                self.assertEqual((m["type"], m["source"]), ("error", "gateway"))
                self.assertEqual(m["data"]["reason"], "NOT_FOUND")
                self.assertIn("nobody", m["data"]["message"])
        asyncio.run(run())

    def test_remote_component_receives_client_messages(self):
        self.spawn_service("comp3")

        async def run():
            async with websockets.connect(self.ws_url + "/ws?id=comp3") as c:
                await c.send(json.dumps({"type": "hello-remote", "data": "x"}))
                await c.send(json.dumps({"type": "second", "data": "y"}))
        asyncio.run(run())
        deadline = time.monotonic() + gwtest.WAIT_S
        while time.monotonic() < deadline:
            st, _, body = post_json(self.url + "/v1/components/comp3/request", {"type": "events"})
            text = json.loads(body)["result"]
            if "second" in text:
                break
            time.sleep(0.05)
        self.assertEqual(st, 200)
        self.assertRegex(text, r"^2 hello-remote,second")

    def test_bad_upgrades(self):
        async def run():
            for path, status in [("/ws", 400), ("/elsewhere?id=comp1", 404)]:
                with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                    async with websockets.connect(self.ws_url + path):
                        pass
                self.assertEqual(e.exception.status_code, status)
        asyncio.run(run())


class Limits(gwtest.GatewayCase):
    daemon_args = ["--max-ws-clients", "3", "--max-ws-message", "1024", "--ws-ping", "1",
                   "--ws-idle", "2"]

    def test_connection_cap_is_503(self):
        url = self.ws_url + "/ws?id=comp1"
        before = metric(self.url, "genesis_gateway_websocket_rejected_cap_total")

        async def run():
            conns = [await websockets.connect(url) for _ in range(3)]
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                async with websockets.connect(url):
                    pass
            self.assertEqual(e.exception.status_code, 503)
            self.assertEqual(curl(self.url + "/healthz")[0], 200)  # HTTP still served
            await conns[0].close()
            for _ in range(100):  # the slot frees once the gateway saw the close
                try:
                    extra = await websockets.connect(url)
                    break
                except websockets.exceptions.InvalidStatusCode:
                    await asyncio.sleep(0.05)
            await extra.ping()
            for c in conns[1:] + [extra]:
                await c.close()
        asyncio.run(run())
        self.assertGreaterEqual(metric(self.url, "genesis_gateway_websocket_rejected_cap_total"),
                                before + 1)

    def wait_slots(self):
        deadline = time.monotonic() + gwtest.WAIT_S
        while metric(self.url, "genesis_gateway_websocket_connections") != 0:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def test_oversized_and_binary_frames_close_only_that_client(self):
        self.wait_slots()

        async def run():
            async with websockets.connect(self.ws_url + "/ws?id=comp1") as bystander:
                c = await websockets.connect(self.ws_url + "/ws?id=comp1")
                await c.send("x" * 2000)
                with self.assertRaises(websockets.exceptions.ConnectionClosed) as e:
                    await asyncio.wait_for(c.recv(), gwtest.WAIT_S)
                self.assertEqual(e.exception.code, 1009)
                c = await websockets.connect(self.ws_url + "/ws?id=comp1")
                await c.send(b"\x00\x01")
                with self.assertRaises(websockets.exceptions.ConnectionClosed) as e:
                    await asyncio.wait_for(c.recv(), gwtest.WAIT_S)
                self.assertEqual(e.exception.code, 1003)
                await bystander.ping()
                # a message just under the limit still goes through
                other = await websockets.connect(self.ws_url + "/ws?id=comp1")
                await other.send(json.dumps({"type": "fits", "data": "y" * 900}))
                self.assertEqual((await recv_json(bystander))["type"], "fits")
                await other.close()
        asyncio.run(run())
        self.assertGreaterEqual(metric(self.url, "genesis_gateway_websocket_oversized_total"), 1)

    def raw_upgrade(self):
        host, port = self.url[len("http://"):].rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=gwtest.WAIT_S)
        s.sendall(b"GET /ws?id=comp1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  b"Sec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        self.assertIn(b" 101 ", head.split(b"\r\n")[0])
        return s

    def test_invalid_utf8_text_closes_with_1007(self):
        self.wait_slots()
        s = self.raw_upgrade()
        payload, mask = b"\xff\xfe\xfd", b"\x01\x02\x03\x04"
        s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask +
                  bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        close = data.find(b"\x88")  # the server's close frame: code in its first 2 bytes
        self.assertGreaterEqual(close, 0, data)
        self.assertEqual(int.from_bytes(data[close + 2:close + 4], "big"), 1007)

    def test_idle_client_is_disconnected(self):
        """A raw client that completes the handshake and then never answers pings is closed
        after --ws-idle seconds."""
        self.wait_slots()
        s = self.raw_upgrade()
        start = time.monotonic()
        data = b"HTTP/1.1 101\r\n"
        while True:
            chunk = s.recv(4096)  # pings arrive; we never pong
            if not chunk:
                break
            data += chunk
        elapsed = time.monotonic() - start
        s.close()
        self.assertIn(b"101", data.split(b"\r\n")[0])
        self.assertIn(b"\x89", data)  # a ping frame was sent
        self.assertGreater(elapsed, 1.0)


class SlowConsumer(gwtest.GatewayCase):
    daemon_args = ["--ws-queue", "8", "--max-ws-message", "200000"]

    def test_slow_client_loses_its_own_messages_only(self):
        n, size = 300, 100000
        url = self.ws_url + "/ws?id=comp1"

        async def run():
            # max_queue=1: the client stops reading its socket once one message waits, so
            # TCP backpressure reaches the gateway as from a stalled browser tab.
            slow = await websockets.connect(url, max_queue=1, max_size=None)
            fast = await websockets.connect(url, max_size=None)
            sender = await websockets.connect(url, max_size=None)
            for i in range(n):
                await sender.send(json.dumps({"type": "bulk", "data": "%06d" % i + "z" * size}))
                m = await recv_json(fast)  # lock step: the fast client gets every message
                self.assertEqual(m["data"][:6], "%06d" % i)
            await sender.close()
            await fast.close()
            slow.transport.abort()
        asyncio.run(run())
        dropped = metric(self.url, "genesis_gateway_websocket_dropped_total")
        self.assertGreater(dropped, 0)
        self.assertGreaterEqual(metric(self.url, "genesis_gateway_websocket_slow_closed_total"), 1)


if __name__ == "__main__":
    gwtest.main(sys.argv)
