"""An embedded coordinator with Python components: requests, replies, errors, events,
concurrency on C worker threads, and handle lifetime."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import wait

import pytest

import genesis
from genesis import GenesisError, Reason, Status

WAIT = 10.0  # bounded waits: a failure is reported, never a hang


@pytest.fixture
def co():
    with genesis.Coordinator() as coordinator:
        yield coordinator


def test_the_ping_pong_scenario_ping_and_a_local_event(co):
    seen = {"comp1": [], "comp2": []}
    got = {name: threading.Event() for name in seen}

    class Comp:
        def __init__(self, name):
            self.name = name

        def on_request(self, req):
            if req.type == "ping":
                return f"Pong from {self.name}"
            raise genesis.Unimplemented(f"{self.name} serves only ping")

        def on_event(self, ev):
            seen[self.name].append(ev)
            got[self.name].set()

    co.register("comp1", Comp("comp1"))
    co.register("comp2", Comp("comp2"))
    res = co.request("comp2", "ping", source="comp1")
    assert res.text() == "Pong from comp2"
    assert res.content_type == "text/plain"

    out = co.emit("status_update", {"ok": True}, source="comp1")
    assert out == genesis.EmitOutcome(delivered=1, dropped=0)
    assert got["comp2"].wait(WAIT)
    ev = seen["comp2"][0]
    assert (ev.type, ev.source, ev.json(), ev.external) == ("status_update", "comp1",
                                                             {"ok": True}, False)
    assert ev.content_type == "application/json"
    assert seen["comp1"] == []  # the source does not get its own event

    with pytest.raises(genesis.Unimplemented) as info:
        co.request("comp1", "dance")
    assert info.value.reason == Reason.HANDLER_ERROR
    assert info.value.message == "comp1 serves only ping"


def test_reply_payload_kinds(co):
    replies = {
        "bytes": b"\x00\x01binary",
        "str": "héllo",
        "json": {"a": [1, 2]},
        "list": [1, "two"],
        "none": None,
        "explicit": genesis.Reply(b"<b>hi</b>", "text/html"),
    }
    co.register("kinds", lambda req: replies[req.type])
    assert co.request("kinds", "bytes").data == b"\x00\x01binary"
    assert co.request("kinds", "str").text() == "héllo"
    assert co.request("kinds", "json").json() == {"a": [1, 2]}
    assert co.request("kinds", "json").content_type == "application/json"
    assert co.request("kinds", "list").json() == [1, "two"]
    assert co.request("kinds", "none").data == b""
    res = co.request("kinds", "explicit")
    assert (res.data, res.content_type) == (b"<b>hi</b>", "text/html")


def test_the_request_as_the_handler_sees_it(co):
    seen = []
    co.register("echo", lambda req: seen.append(req) or req.data)
    res = co.request("echo", "put", {"k": 1}, source="tester", timeout=5,
                     criticality=genesis.Criticality.CRITICAL)
    assert res.json() == {"k": 1}
    req = seen[0]
    assert (req.type, req.source, req.target) == ("put", "tester", "echo")
    assert req.content_type == "application/json"
    assert req.criticality == genesis.Criticality.CRITICAL
    assert 0 < req.remaining_ms <= 5000
    assert req.id != 0


def test_handler_exceptions_become_error_replies_and_the_process_lives_on(co):
    def handler(req):
        if req.type == "value":
            raise ValueError("bad input 42")
        if req.type == "exit":
            raise SystemExit(3)
        if req.type == "not-a-payload":
            return object()
        if req.type == "status":
            raise genesis.ResourceExhausted("too busy")
        return "fine"

    co.register("flaky", handler)
    with pytest.raises(GenesisError) as info:
        co.request("flaky", "value")
    err = info.value
    assert (err.status, err.reason) == (Status.UNKNOWN, Reason.HANDLER_ERROR)
    assert err.message == "handler of flaky raised ValueError: bad input 42"
    assert str(err) == "UNKNOWN (HANDLER_ERROR): handler of flaky raised ValueError: bad input 42"

    with pytest.raises(GenesisError, match="raised SystemExit"):
        co.request("flaky", "exit")
    # A client-side status such as RESOURCE_EXHAUSTED is not a component failure, so it also
    # ends the run of failures: three in a row would open flaky's circuit breaker.
    with pytest.raises(genesis.ResourceExhausted, match="too busy"):
        co.request("flaky", "status")
    with pytest.raises(GenesisError, match="unusable reply") as info:
        co.request("flaky", "not-a-payload")
    assert info.value.status == Status.INTERNAL
    assert co.request("flaky", "ok").text() == "fine"


def test_failures_carry_status_reason_and_message(co):
    with pytest.raises(genesis.NotFound) as info:
        co.request("nobody", "ping")
    assert info.value.reason == Reason.NOT_FOUND
    assert "nobody" in info.value.message
    assert isinstance(info.value, GenesisError)

    release = threading.Event()
    co.register("slow", lambda req: release.wait(WAIT) and "late")
    try:
        with pytest.raises(genesis.DeadlineExceeded) as info:
            co.request("slow", "work", timeout=0.05)
        assert info.value.reason == Reason.DEADLINE_EXCEEDED
    finally:
        release.set()


def test_registration_errors(co):
    co.register("dup", lambda req: None)
    with pytest.raises(genesis.AlreadyExists):
        co.register("dup", lambda req: None)
    with pytest.raises(genesis.InvalidArgument):
        co.register("bad id with spaces", lambda req: None)
    with pytest.raises(TypeError):
        co.register("x", 42)
    co.unregister("dup")
    with pytest.raises(genesis.NotFound):
        co.request("dup", "ping")
    co.register("dup", lambda req: "again")  # the id is free again
    assert co.request("dup", "ping").text() == "again"


def test_handlers_run_concurrently_on_c_worker_threads(co):
    # Four handlers must be inside the barrier at once: proof that C calls release the GIL
    # and that handlers run in parallel on several worker threads.
    barrier = threading.Barrier(4, timeout=WAIT)
    threads = set()

    def handler(req):
        threads.add(threading.get_ident())
        barrier.wait()
        return "through"

    co.register("par", handler)
    futures = [co.request_async("par", "go") for _ in range(4)]
    done, _ = wait(futures, timeout=WAIT)
    assert len(done) == 4
    assert [f.result().text() for f in futures] == ["through"] * 4
    assert len(threads) == 4
    assert threading.get_ident() not in threads


def test_many_async_requests_and_nested_calls():
    with genesis.Coordinator(max_queued_requests=1000) as co:
        _many_async_requests_and_nested_calls(co)


def _many_async_requests_and_nested_calls(co):
    co.register("leaf", lambda req: req.data)
    # A handler that calls another component from its worker thread.
    co.register("middle", lambda req: co.request("leaf", "echo", req.data).data + b"!")
    futures = [co.request_async("middle", "go", str(i)) for i in range(500)]
    done, _ = wait(futures, timeout=60)
    assert len(done) == 500
    assert sorted(f.result().text() for f in futures) == sorted(f"{i}!" for i in range(500))
    failing = co.request_async("nobody", "ping")
    with pytest.raises(genesis.NotFound):
        failing.result(WAIT)


def test_a_full_bulkhead_rejects_at_once():
    release = threading.Event()
    with genesis.Coordinator(max_concurrency=1, max_queued_requests=1) as co:
        started = threading.Event()
        co.register("one", lambda req: started.set() or (release.wait(WAIT) and "done"))
        first = co.request_async("one", "a")
        assert started.wait(WAIT)  # one running: the next one waits in the queue
        second = co.request_async("one", "b")
        try:
            with pytest.raises(genesis.ResourceExhausted) as info:
                co.request("one", "c")
            assert info.value.reason == Reason.BULKHEAD_FULL
        finally:
            release.set()
        assert first.result(WAIT).text() == second.result(WAIT).text() == "done"


def test_event_callback_exceptions_are_contained(co):
    got = threading.Event()
    events = []

    def on_event(ev):
        events.append(ev.type)
        if ev.type == "first":
            raise RuntimeError("event handler bug")
        got.set()

    co.register("listener", lambda req: None, on_event=on_event)
    co.emit("first")
    co.emit("second", "x")
    assert got.wait(WAIT)
    assert events == ["first", "second"]


def test_status_stats_and_listening_endpoints(co):
    co.register("comp", lambda req: "ok")
    co.listen("tcp://127.0.0.1:0", "tcp://127.0.0.1:0")
    assert co.front_door_url.startswith("tcp://127.0.0.1:")
    assert not co.front_door_url.endswith(":0")
    co.request("comp", "ping")
    stats = co.stats()
    assert stats["requests"] == 1 and stats["succeeded"] == 1 and stats["components"] == 1
    status = co.status()
    assert [c["id"] for c in status["components"]] == ["comp"]

    # A client over tcp reaches the Python component through this coordinator.
    with genesis.Client(co.front_door_url, co.event_bus_url, name="py-client") as cl:
        assert cl.request("comp", "ping", timeout=WAIT).text() == "ok"
        assert cl.status()["components"][0]["id"] == "comp"


def test_closed_handles_and_close_from_a_callback():
    co = genesis.Coordinator()
    outcome = {}

    def handler(req):
        try:
            co.close()
        except GenesisError as exc:
            outcome["error"] = exc
        return "still here"

    co.register("closer", handler)
    assert co.request("closer", "x").text() == "still here"
    assert isinstance(outcome["error"], genesis.FailedPrecondition)
    co.close()
    co.close()  # idempotent
    assert co.closed
    with pytest.raises(genesis.FailedPrecondition, match="closed"):
        co.request("closer", "x")


def test_stop_drains_then_refuses(co):
    co.register("comp", lambda req: "ok")
    co.stop()
    with pytest.raises(genesis.Unavailable) as info:
        co.request("comp", "x")
    assert info.value.reason == Reason.SHUTTING_DOWN
    assert co.stats()["succeeded"] == 0


def test_interpreter_exit_with_open_handles_and_busy_handlers(tmp_path):
    # Handles left open, slow handlers running and async calls outstanding when the
    # interpreter exits: the atexit hook must drain and free everything, without a crash
    # or a hang.
    script = tmp_path / "exit.py"
    script.write_text(
        "import threading, time, genesis\n"
        "co = genesis.Coordinator()\n"
        "co.register('slow', lambda req: time.sleep(0.2) or 'done')\n"
        "co.register('ev', lambda req: None, on_event=lambda ev: time.sleep(0.05))\n"
        "co.listen('tcp://127.0.0.1:0', 'tcp://127.0.0.1:0')\n"
        "cl = genesis.Client(co.front_door_url, co.event_bus_url)\n"
        "sub = cl.subscribe('')\n"
        "futures = [co.request_async('slow', 'x') for _ in range(20)]\n"
        "for i in range(20): co.emit('tick', str(i))\n"
        "print('exiting', flush=True)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "exiting\n"
    assert "Traceback" not in proc.stderr and "unexpected error" not in proc.stderr


def test_library_version():
    assert genesis.library_version().count(".") == 2
    assert genesis.ABI_VERSION == 1


def test_an_oversized_reply_becomes_a_clear_error():
    with genesis.Coordinator(max_message_size=1024) as co:
        co.register("big", lambda req: b"x" * int(req.text()))
        assert len(co.request("big", "make", "512").data) == 512
        with pytest.raises(genesis.ResourceExhausted) as info:
            co.request("big", "make", "4096")
        assert info.value.message  # the library's explanation, not an empty string
        assert co.request("big", "make", "16").data == b"x" * 16


def test_close_while_other_threads_are_calling():
    # close() must wait for calls in other threads before freeing the C handle (freeing it
    # under them would be a use-after-free); every caller ends with a result or an error.
    co = genesis.Coordinator()
    co.register("slow", lambda req: threading.Event().wait(0.01) or "ok")
    outcomes, stop = [], threading.Event()

    def caller():
        while not stop.is_set():
            try:
                co.request("slow", "x", timeout=WAIT)
                outcomes.append("ok")
            except GenesisError as exc:
                outcomes.append(type(exc).__name__)
                if co.closed:
                    return

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    while outcomes.count("ok") < 8:
        threading.Event().wait(0.01)
    co.close()
    stop.set()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive()
    assert set(outcomes) <= {"ok", "Unavailable", "Closed"}


def test_client_close_cancels_requests_in_other_threads():
    release = threading.Event()
    with genesis.Coordinator() as co:
        co.register("stuck", lambda req: release.wait(WAIT) and "late")
        co.listen("tcp://127.0.0.1:0")
        cl = genesis.Client(co.front_door_url)
        errors = []

        def call():
            try:
                cl.request("stuck", "x", timeout=WAIT)
            except GenesisError as exc:
                errors.append(exc)

        t = threading.Thread(target=call)
        t.start()
        try:
            while co.stats()["in_flight"] == 0:
                threading.Event().wait(0.01)
            cl.close()  # does not wait for the request's 10 s deadline
            t.join(WAIT)
            assert not t.is_alive()
            assert len(errors) == 1, errors
            assert (errors[0].status, errors[0].reason) == (Status.CANCELLED,
                                                             Reason.SHUTTING_DOWN)
        finally:
            release.set()  # also when an assertion failed: the handler must not outlive co


def test_library_logs_reach_a_python_sink():
    import logging

    lines = []
    with genesis.Coordinator(log_level=genesis.LogLevel.DEBUG,
                             log=lambda level, msg: lines.append((level, msg))) as co:
        co.register("logged", lambda req: None)
    assert any("logged" in msg for _, msg in lines), lines
    assert all(isinstance(level, genesis.LogLevel) for level, _ in lines)

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("genesis-test")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Keep())
    with genesis.Coordinator(log_level=genesis.LogLevel.INFO, log=genesis.log_to(logger)) as co:
        co.register("logged", lambda req: None)
    assert any("logged" in r.getMessage() for r in records)
    with pytest.raises(TypeError):
        genesis.Coordinator(log=42)
