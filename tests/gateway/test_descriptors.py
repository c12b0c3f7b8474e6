"""Out of file descriptors, established clients keep working: genesisd runs with `ulimit -n
256` (soft and hard, set in its shell before exec) and its connections are capped below that
(the front door at half, the gateway at a quarter; both caps in the status, the gateway's in
its section of GET /v1/status, and the metrics).
The test then floods it: front-door connections that complete the SP handshake (over the cap:
closed at once), idle connections that never send anything (they use up the descriptors), and
gateway connections. Meanwhile keep-alive HTTP clients, the gateway's own connection to the
front door and a remote component's keep working, and no listener is re-created (an EMFILE
probe is not a wedged listener)."""
import http.client
import json
import os
import re
import socket
import sys
import time
import unittest

import gwtest

LIMIT = 256
SP_REQ_HEADER = b"\x00SP\x00\x00\x30\x00\x00"  # a REQ peer's SP header (the front door is REP)


def host_port(url):
    m = re.match(r"\w+://\[?([^\]]+?)\]?:(\d+)$", url)
    return m.group(1), int(m.group(2))


class Descriptors(gwtest.GatewayCase):
    @classmethod
    def spawn_daemon(cls, extra, name="genesisd"):
        argv = ["/bin/sh", "-c", 'ulimit -n %d && exec "$0" "$@"' % LIMIT,
                gwtest.PATHS["genesisd"], "--demo", "--front-door", "tcp://127.0.0.1:0",
                "--events", "tcp://127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "info",
                "--http-keepalive", "3600"]
        p = cls.spawn(argv, name)
        line = p.wait_line("ready ")
        m = re.match(r"ready front_door=(\S+) event_bus=(\S+) http=(\S+)", line)
        p.front_door, p.event_bus, p.url = m.group(1), m.group(2), m.group(3)
        return p

    def status(self, conn):
        conn.request("GET", "/v1/status")
        r = conn.getresponse()
        body = r.read()
        self.assertEqual(r.status, 200, body)
        return json.loads(body)

    def ping(self, conn, comp):
        conn.request("POST", "/v1/components/%s/request" % comp, body='{"type":"ping"}',
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        body = r.read()
        self.assertEqual(r.status, 200, body)
        return json.loads(body)

    def test_established_clients_survive_a_flood(self):
        self.spawn_service("svc")
        gw_host, gw_port = host_port(self.url)
        fd_host, fd_port = host_port(self.daemon.front_door)
        clients = [http.client.HTTPConnection(gw_host, gw_port, timeout=gwtest.WAIT_S)
                   for _ in range(4)]
        for c in clients:
            self.assertEqual(self.ping(c, "comp1"), {"result": "Pong from comp1"})
        doc = self.status(clients[0])
        cap = doc["stats"]["front_door_connection_cap"]
        self.assertEqual(cap, (LIMIT - 64) // 2)
        self.assertGreaterEqual(doc["stats"]["front_door_connections"], 1)
        gw_cap = doc["gateway"]["connection_cap"]
        self.assertEqual(gw_cap, (LIMIT - 64) // 4)
        self.assertGreaterEqual(doc["gateway"]["connections"], len(clients))
        self.assertEqual(doc["gateway"]["websocket_sessions"], 0)
        self.assertEqual(doc["gateway"]["websocket_cap"], 100)

        flood = []
        try:
            # Over the front door's cap with connections that finish the SP handshake.
            for _ in range(cap + 40):
                s = socket.create_connection((fd_host, fd_port), timeout=5)
                s.sendall(SP_REQ_HEADER)
                flood.append(s)
            # Then idle ones to both ports, until this machine or the daemon runs out.
            for port in (fd_port, gw_port) * 150:
                try:
                    flood.append(socket.create_connection(("127.0.0.1", port), timeout=5))
                except OSError:
                    break
            # Two watchdog rounds while out of descriptors: each probe could not judge the
            # listeners (it used to re-create them, dropping every connection).
            deadline = time.monotonic() + 3 * gwtest.WAIT_S
            while time.monotonic() < deadline:
                err = self.daemon.stderr()
                starved = (err.count("no file descriptor for it") +
                           err.count("out of file descriptors"))
                if starved >= 2:
                    break
                time.sleep(0.2)
            self.assertGreaterEqual(starved, 2, "the watchdog never ran out of descriptors:\n" +
                                    self.daemon.stderr())
            for c in clients:
                self.assertEqual(self.ping(c, "comp1"), {"result": "Pong from comp1"})
                self.assertEqual(self.ping(c, "svc"), {"result": "pong:svc"})
            doc = self.status(clients[1])
            self.assertLessEqual(doc["stats"]["front_door_connections"], cap)
            self.assertEqual(doc["stats"]["listener_restarts"], 0)
            self.assertLessEqual(doc["gateway"]["connections"], gw_cap)
            clients[2].request("GET", "/metrics")
            r = clients[2].getresponse()
            metrics = r.read().decode()
            self.assertEqual(r.status, 200)
            self.assertIn("genesis_gateway_connection_cap %d" % ((LIMIT - 64) // 4), metrics)
            self.assertIn("genesis_coordinator_front_door_connection_cap %d" % cap, metrics)
            self.assertRegex(metrics, r"genesis_gateway_connections \d+")
        finally:
            for s in flood:
                s.close()
        # Afterwards new clients are served again, and nothing was re-created.
        deadline = time.monotonic() + gwtest.WAIT_S
        while True:
            try:
                fresh = http.client.HTTPConnection(gw_host, gw_port, timeout=5)
                self.assertEqual(self.ping(fresh, "comp2"), {"result": "Pong from comp2"})
                break
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        doc = self.status(fresh)
        self.assertEqual(doc["stats"]["listener_restarts"], 0)
        for c in clients + [fresh]:
            c.close()


if __name__ == "__main__":
    gwtest.main(sys.argv)
