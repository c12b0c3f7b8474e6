"""Python clients and Python services against real coordinators: genesisd (C) processes on
free tcp ports, and a coordinator embedded in this process, over ipc."""

from __future__ import annotations

import os
import queue
import threading

import pytest

import genesis
from genesis import Reason, Status

WAIT = 10.0


def test_client_requests_the_daemons_demo_components(genesisd):
    with genesis.Client(genesisd.front_door, genesisd.event_bus, name="pytest") as cl:
        assert cl.request("comp2", "ping", timeout=WAIT).text() == "Pong from comp2"
        res = cl.request("comp1", "echo", {"x": 1}, timeout=WAIT)
        assert res.json() == {"x": 1}
        with pytest.raises(genesis.NotFound) as info:
            cl.request("comp9", "ping", timeout=WAIT)
        assert info.value.reason == Reason.NOT_FOUND
        futures = [cl.request_async("comp1", "ping", timeout=WAIT) for _ in range(50)]
        assert {f.result(WAIT).text() for f in futures} == {"Pong from comp1"}
        status = cl.status(timeout=WAIT)
        assert {c["id"] for c in status["components"]} == {"comp1", "comp2"}


def test_subscribe_as_iterator_and_callback(genesisd):
    with genesis.Client(genesisd.front_door, genesisd.event_bus) as cl:
        sub = cl.subscribe("local:status_update")
        everything = cl.subscribe("")
        called = queue.Queue()
        cl.subscribe("local:", called.put)
        # The bus subscription connects in the background: emit until the first arrives.
        deadline_hit = True
        for i in range(100):
            cl.emit("status_update", {"n": i}, timeout=WAIT)
            try:
                first = sub.get(timeout=0.1)
                deadline_hit = False
                break
            except queue.Empty:
                continue
        assert not deadline_hit, "no event reached the subscriber"
        assert first.type == "status_update" and first.topic == "local:status_update"
        assert first.source == "client"  # the client's default name
        cl.emit("other", "x", timeout=WAIT)
        cl.emit("status_update", {"n": "last"}, timeout=WAIT)
        while sub.get(timeout=WAIT).json() != {"n": "last"}:
            pass  # earlier status_update events; "other" does not match the prefix
        seen = []
        while "other" not in seen:
            seen.append(everything.get(timeout=WAIT).type)
        assert called.get(timeout=WAIT).topic.startswith("local:")
        sub.close()
        with pytest.raises(StopIteration):
            next(sub)
        assert list(sub) == []  # a closed subscription iterates to its end at once
    # Closing the client ends the remaining iterations.
    with pytest.raises(StopIteration):
        while True:
            everything.get(timeout=WAIT)


def test_an_unreachable_coordinator_is_reported_as_such(ipc_dir):
    with genesis.Client(f"ipc://{ipc_dir}/nobody.sock") as cl:
        with pytest.raises(genesis.GenesisError) as info:
            cl.request("comp1", "ping", timeout=0.2)
        assert info.value.reason == Reason.UNREACHABLE
        assert info.value.status in (Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED)


class Counter:
    """A component as an object with on_request and on_event."""

    def __init__(self):
        self.events = queue.Queue()
        self.lock = threading.Lock()
        self.count = 0

    def on_request(self, req):
        if req.type == "add":
            with self.lock:
                self.count += int(req.text())
                return {"count": self.count, "pid": os.getpid()}
        if req.type == "fail":
            raise KeyError("no such key")
        raise genesis.Unimplemented(f"unknown type {req.type}")

    def on_event(self, ev):
        self.events.put(ev)


def test_a_python_service_behind_genesisd(genesisd, ipc_dir):
    counter = Counter()
    with genesis.Service("counter", counter) as svc:
        url = svc.listen(f"ipc://{ipc_dir}/counter.sock")
        assert url == f"ipc://{ipc_dir}/counter.sock"
        svc.connect(genesisd.front_door, genesisd.event_bus, timeout=WAIT)
        with genesis.Client(genesisd.front_door, genesisd.event_bus) as cl:
            futures = [cl.request_async("counter", "add", "1", timeout=WAIT) for _ in range(40)]
            assert max(f.result(WAIT).json()["count"] for f in futures) == 40
            assert cl.request("counter", "add", "2", timeout=WAIT).json()["pid"] == os.getpid()

            # A handler's exception crosses the network as an error reply.
            with pytest.raises(genesis.GenesisError) as info:
                cl.request("counter", "fail", timeout=WAIT)
            assert info.value.status == Status.UNKNOWN
            assert info.value.reason == Reason.HANDLER_ERROR
            assert "raised KeyError" in info.value.message
            with pytest.raises(genesis.Unimplemented):
                cl.request("counter", "nope", timeout=WAIT)

            # Events from the bus reach the service's on_event (retry until its SUB is up).
            for i in range(100):
                cl.emit("status_update", {"i": i}, timeout=WAIT)
                try:
                    ev = counter.events.get(timeout=0.1)
                    break
                except queue.Empty:
                    continue
            else:
                pytest.fail("no event reached the service")
            assert ev.type == "status_update"

            # The service's own emits reach the demo component (seen in stats).
            svc.emit("from_python", "hi", timeout=WAIT)
            assert svc.requests_served >= 43
            status = cl.status(timeout=WAIT)
            entry = [c for c in status["components"] if c["id"] == "counter"][0]
            assert entry["remote"] is True and entry["health"] == "UP"
    # Closed: the service unregistered itself.
    with genesis.Client(genesisd.front_door) as cl:
        with pytest.raises(genesis.GenesisError) as info:
            cl.request("counter", "add", "1", timeout=WAIT)
        assert info.value.status in (Status.NOT_FOUND, Status.UNAVAILABLE)


def test_a_python_service_behind_a_python_coordinator(ipc_dir):
    with genesis.Coordinator() as co:
        co.listen(f"ipc://{ipc_dir}/fd.sock", f"ipc://{ipc_dir}/bus.sock")
        with genesis.Service("svc", lambda req: b"remote:" + req.data) as svc:
            svc.listen(f"ipc://{ipc_dir}/svc.sock")
            svc.connect(co.front_door_url, co.event_bus_url, timeout=WAIT)
            assert co.request("svc", "echo", b"abc", timeout=WAIT).data == b"remote:abc"
            with pytest.raises(genesis.AlreadyExists):
                co.register("svc", lambda req: None)


def test_lists_of_front_doors_reach_every_node(ipc_dir):
    """A service given two coordinators' front doors registers with both; a client given both
    reaches the service through them."""
    with genesis.Coordinator() as a, genesis.Coordinator() as b:
        a.listen(f"ipc://{ipc_dir}/a-fd.sock", f"ipc://{ipc_dir}/a-bus.sock")
        b.listen(f"ipc://{ipc_dir}/b-fd.sock", f"ipc://{ipc_dir}/b-bus.sock")
        fronts = [a.front_door_url, b.front_door_url]
        with genesis.Service("svc", lambda req: b"ok") as svc:
            svc.listen(f"ipc://{ipc_dir}/svc.sock")
            svc.connect(fronts, [a.event_bus_url, b.event_bus_url], timeout=WAIT)
            for co in (a, b):  # registered with both (the second may take a heartbeat)
                for _ in range(100):
                    try:
                        assert co.request("svc", "get", timeout=WAIT).data == b"ok"
                        break
                    except genesis.NotFound:
                        threading.Event().wait(0.05)
                else:
                    pytest.fail("the service did not register with every coordinator")
            with genesis.Client(fronts) as cl:
                for _ in range(4):
                    assert cl.request("svc", "get", idempotent=True, timeout=WAIT).data == b"ok"
    with pytest.raises(ValueError):
        genesis.Client(["tcp://127.0.0.1:1", ""])
    with pytest.raises(TypeError):
        genesis.Client(7)  # type: ignore[arg-type]


def test_service_errors():
    with pytest.raises(genesis.InvalidArgument):
        genesis.Service("bad id!", lambda req: None)
    with genesis.Service("ok", lambda req: None) as svc:
        with pytest.raises(genesis.GenesisError):
            svc.listen("nonsense://x")
        with pytest.raises(genesis.GenesisError):
            svc.connect("tcp://127.0.0.1:1")  # not listening yet: connect before listen


def test_mutual_tls_client_and_service(tmp_path):
    """tls+tcp:// end to end from Python: a service and a client holding certificates from
    the CA genesisd trusts serve and call; a client with a foreign certificate is refused."""
    import subprocess

    from conftest import REPO, start_genesisd, stop_process

    pki = tmp_path / "pki"
    subprocess.run([str(REPO / "tests" / "tls" / "make-test-certs"), str(pki)], check=True)

    def files(name, ca="ca"):
        return dict(tls_ca=str(pki / f"{ca}.pem"), tls_cert=str(pki / f"{name}.pem"),
                    tls_key=str(pki / f"{name}.key"))

    daemon = start_genesisd(
        "--front-door", "tls+tcp://127.0.0.1:0", "--events", "tls+tcp://127.0.0.1:0",
        "--tls-ca", str(pki / "ca.pem"),
        "--tls-cert", str(pki / "coordinator.pem"), "--tls-key", str(pki / "coordinator.key"))
    try:
        with genesis.Service("pysecure", lambda req: "secure:" + req.text(),
                             **files("component")) as svc:
            svc.listen("tls+tcp://127.0.0.1:0")
            svc.connect(daemon.front_door, daemon.event_bus, timeout=WAIT)
            with genesis.Client(daemon.front_door, **files("client")) as cl:
                assert cl.request("pysecure", "echo", b"hi", timeout=WAIT).text() == "secure:hi"
        with pytest.raises(genesis.GenesisError) as err:
            genesis.Client(daemon.front_door, **files("rogue", ca="rogue-ca"))
        assert err.value.status == genesis.Status.UNAUTHENTICATED
        assert "TLS handshake" in str(err.value)
        with pytest.raises(genesis.GenesisError) as err:
            genesis.Client(**files("missing"))
        assert "missing.pem" in str(err.value)
    finally:
        assert stop_process(daemon.process) == 0
