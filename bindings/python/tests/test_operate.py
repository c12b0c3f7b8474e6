"""The operator and recovery API: policies, modes, breakers, statistics, faults, admin
commands and handlers, checkpoints (in-process and remote), external events, child reports."""

from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path

import pytest

import genesis

from conftest import start_genesisd, stop_process

WAIT = 10.0


def request_up(cl: genesis.Client, target: str, type: str) -> genesis.Result:
    """cl.request, again while the remote target is DOWN: on a loaded machine its heartbeats
    can arrive late for a moment (the refused request never reached it)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return cl.request(target, type, timeout=WAIT)
        except genesis.Unavailable as err:
            if err.reason != genesis.Reason.COMPONENT_DOWN or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Counter:
    """A component with durable state: the number of requests it served."""

    def __init__(self) -> None:
        self.n = 0
        self.restored: list[tuple[bytes, int]] = []
        self.lock = threading.Lock()

    def on_request(self, req: genesis.Request) -> str:
        with self.lock:
            self.n += 1
            return str(self.n)

    def snapshot(self) -> str:
        with self.lock:
            return str(self.n)

    def restore(self, state: bytes, generation: int) -> None:
        self.restored.append((state, generation))
        self.n = int(state or b"0")


def test_policy_defaults_validate_set_and_get() -> None:
    policy = genesis.Policy()
    assert policy.max_attempts >= 1 and policy.breaker_open_ms > 0
    policy.validate()
    with pytest.raises(genesis.InvalidArgument, match="backoff_multiplier_pct"):
        policy.replace(backoff_multiplier_pct=10).validate()
    with genesis.Coordinator(default_policy=policy.replace(max_attempts=2)) as co:
        co.register("p", lambda req: "ok")
        assert co.get_policy().max_attempts == 2
        assert co.get_policy("p").max_attempts == 2
        co.set_policy("p", policy.replace(max_attempts=1))
        assert co.get_policy("p").max_attempts == 1
        assert co.admin("policy", "p")["policy"]["max_attempts"] == 1
        co.set_policy("p", None)  # back to the default
        assert co.get_policy("p").max_attempts == 2
        with pytest.raises(genesis.InvalidArgument, match="backoff_multiplier_pct"):
            co.set_policy(None, policy.replace(backoff_multiplier_pct=10))


def test_mode_breaker_and_component_stats() -> None:
    with genesis.Coordinator() as co:
        co.register("b", lambda req: "ok")
        assert co.mode == genesis.Mode.NORMAL
        co.set_mode(genesis.Mode.SAFE)
        assert co.mode == genesis.Mode.SAFE
        assert co.admin("mode")["mode"] == "SAFE"
        co.set_mode(genesis.Mode.AUTO)
        assert co.mode == genesis.Mode.NORMAL
        assert genesis.mode_name(genesis.Mode.EMERGENCY) == "EMERGENCY"

        co.set_breaker("b", genesis.BreakerState.FORCED_OPEN)
        with pytest.raises(genesis.Unavailable) as err:
            co.request("b", "x", timeout=WAIT)
        assert err.value.reason == genesis.Reason.BREAKER_OPEN
        stats = co.component_stats("b")
        assert stats.breaker_state == genesis.BreakerState.FORCED_OPEN
        assert stats.fail_fast == 1 and stats.failures_by_reason == {genesis.Reason.BREAKER_OPEN: 1}
        assert genesis.breaker_state_name(stats.breaker_state) == "FORCED_OPEN"
        co.set_breaker("b", genesis.BreakerState.CLOSED)
        assert co.request("b", "x", timeout=WAIT).text() == "ok"
        assert co.component_stats("b").succeeded == 1
        with pytest.raises(genesis.NotFound):
            co.set_breaker("nobody", genesis.BreakerState.CLOSED)
        with pytest.raises(genesis.NotFound):
            co.component_stats("nobody")


def test_fault_injection_and_health() -> None:
    with genesis.Coordinator() as co:
        co.register("f", lambda req: "ok")
        co.set_policy("f", genesis.Policy(max_attempts=1))
        co.inject_fault("f", genesis.Fault(error_rate=1.0))
        with pytest.raises(genesis.Unavailable, match="injected"):
            co.request("f", "x", timeout=WAIT)
        co.inject_fault("f", None)
        assert co.request("f", "x", timeout=WAIT).text() == "ok"
        assert co.component_health("f") is True
        with pytest.raises(ValueError):
            co.inject_fault("f", genesis.Fault(error_rate=2.0))


def test_admin_handler_and_child_report() -> None:
    with genesis.Coordinator() as co:
        seen: list[tuple[str, list[str]]] = []

        def handler(command: str, args: list[str]) -> dict[str, object]:
            seen.append((command, args))
            if args == ["fail"]:
                raise genesis.FailedPrecondition("asked to fail")
            return {"command": command, "args": args}

        co.set_admin_handler("demo.", handler)
        assert co.admin("demo.hello", "a", "b") == {"command": "demo.hello", "args": ["a", "b"]}
        with pytest.raises(genesis.FailedPrecondition, match="asked to fail"):
            co.admin("demo.hello", "fail")
        co.set_admin_handler("demo.", None)
        with pytest.raises(genesis.GenesisError):
            co.admin("demo.hello")
        assert len(seen) == 2

        co.report_child(genesis.ChildReport("kid", "RUNNING", pid=1234, restarts=2,
                                            last_exit="exit 1"))
        supervised = json.dumps(co.status().get("supervised"))
        assert "kid" in supervised and "1234" in supervised


def test_in_process_checkpoints_survive_a_coordinator_restart(tmp_path: Path) -> None:
    store = str(tmp_path / "checkpoints.db")
    first = Counter()
    with genesis.Coordinator(checkpoint_store=store) as co:
        co.register("counter", first)
        for _ in range(3):
            co.request("counter", "inc", timeout=WAIT)
        generation = co.checkpoint_now("counter")
        assert generation >= 1
        info = co.checkpoint_info("counter")
        assert info.generation == generation and info.size == 1
        co.checkpoint_mark_dirty("counter")
        listed = co.admin("checkpoint", "list", "counter")
        assert listed["checkpoints"][0]["component"] == "counter"
    second = Counter()
    with genesis.Coordinator(checkpoint_store=store) as co:
        co.register("counter", second)
        assert second.restored and second.restored[-1][0] == b"3"
        assert co.request("counter", "inc", timeout=WAIT).text() == "4"


def test_checkpoint_without_a_store_fails_with_a_reason() -> None:
    with genesis.Coordinator() as co:
        co.register("counter", Counter())
        with pytest.raises(genesis.FailedPrecondition) as err:
            co.checkpoint_now("counter")
        assert err.value.reason == genesis.Reason.STORAGE_ERROR or "store" in err.value.message


def test_remote_service_checkpoint_restore_emit_to_and_admin(tmp_path: Path,
                                                            ipc_dir: str) -> None:
    daemon = start_genesisd("--checkpoint-db", str(tmp_path / "cp.db"))
    try:
        restored: list[tuple[bytes, int]] = []
        events: "list[genesis.Event]" = []
        got_event = threading.Event()

        def on_event(ev: genesis.Event) -> None:
            events.append(ev)
            got_event.set()

        with genesis.Service("svc", lambda req: "ok", on_event,
                             restore=lambda s, g: restored.append((s, g))) as svc:
            svc.listen(f"ipc://{ipc_dir}/svc.sock")
            svc.connect(daemon.front_door, daemon.event_bus, timeout=WAIT)
            generation = svc.checkpoint({"count": 7}, timeout=WAIT)
            assert generation >= 1
            with genesis.Client(daemon.front_door) as cl:
                cl.emit_to("svc", "chat", "hello", source="ws-1", timeout=WAIT)
                assert got_event.wait(WAIT)
                assert events[0].external and events[0].source == "ws-1"
                with pytest.raises(genesis.NotFound):
                    cl.emit_to("nobody", "chat", "x", timeout=WAIT)
                assert cl.admin("mode", timeout=WAIT)["mode"] == "NORMAL"
                cl.admin("breaker", "svc", "open", timeout=WAIT)
                with pytest.raises(genesis.Unavailable) as err:
                    cl.request("svc", "x", timeout=WAIT)
                assert err.value.reason == genesis.Reason.BREAKER_OPEN
                cl.admin("breaker", "svc", "reset", timeout=WAIT)
                assert request_up(cl, "svc", "x").text() == "ok"
                shown = cl.admin("checkpoint", "list", "svc", timeout=WAIT)
                assert shown["checkpoints"][0]["generation"] == generation
        # A new incarnation of the service gets the stored state back on connect.
        with genesis.Service("svc", lambda req: "ok",
                             restore=lambda s, g: restored.append((s, g))) as svc:
            svc.listen(f"ipc://{ipc_dir}/svc2.sock")
            svc.connect(daemon.front_door, daemon.event_bus, timeout=WAIT)
            assert restored and json.loads(restored[-1][0]) == {"count": 7}
            assert restored[-1][1] == generation
    finally:
        assert stop_process(daemon.process) == 0


def test_emit_external_reaches_bus_subscribers() -> None:
    with genesis.Coordinator() as co:
        co.listen("tcp://127.0.0.1:0", "tcp://127.0.0.1:0")
        with genesis.Client(co.front_door_url, co.event_bus_url) as cl:
            sub = cl.subscribe("external:")
            # Subscriptions connect in the background: publish until one arrives.
            for _ in range(200):
                co.emit_external("notice", "hi", source="comp1")
                try:
                    ev = sub.get(timeout=0.05)
                    break
                except queue.Empty:  # the subscription is not connected yet
                    continue
            else:
                pytest.fail("no external event arrived")
            assert ev.external and ev.type == "notice" and ev.text() == "hi"


def test_request_id_reaches_the_handler() -> None:
    with genesis.Coordinator() as co:
        co.register("r", lambda req: str(req.id))
        assert co.request("r", "x", request_id=424242, timeout=WAIT).text() == "424242"


def test_force_breaker_open_metrics_only_and_policy_version_2_fields() -> None:
    with genesis.Coordinator() as co:
        co.register("v2", lambda req: "ok")
        co.force_breaker_open("v2")  # until reset
        with pytest.raises(genesis.Unavailable) as err:
            co.request("v2", "x", timeout=WAIT)
        assert err.value.reason == genesis.Reason.BREAKER_OPEN
        co.set_breaker("v2", genesis.BreakerState.METRICS_ONLY)
        assert co.component_stats("v2").breaker_state == genesis.BreakerState.METRICS_ONLY
        assert co.request("v2", "x", timeout=WAIT).text() == "ok"
        co.set_breaker("v2", genesis.BreakerState.CLOSED)
        policy = genesis.Policy(hedge_percentile=95, breaker_open_multiplier_pct=150)
        co.set_policy("v2", policy)
        got = co.get_policy("v2")
        assert got.hedge_percentile == 95 and got.breaker_open_multiplier_pct == 150
        stats = co.component_stats("v2")
        assert stats.concurrency_limit >= 1 and stats.hedges == 0
        assert stats.failure_rate_pct == -1 or stats.failure_rate_pct >= 0
        with pytest.raises(genesis.NotFound):
            co.force_breaker_open("nobody", 1.0)
