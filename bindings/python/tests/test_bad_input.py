"""Bad input never reaches C as a crash: wrong types raise TypeError, bad values ValueError or
the status's own exception (with reason and message), closed handles raise Closed."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Callable

import pytest

import genesis
from genesis.errors import Status

WAIT = 10.0


def test_every_status_has_its_own_exception_class() -> None:
    for status in Status:
        if status == Status.OK:
            continue
        err = genesis.GenesisError.create(status, "why", genesis.Reason.QUEUE_FULL)
        assert isinstance(err, genesis.GenesisError)
        assert type(err) is not genesis.GenesisError, status
        assert err.status == status and err.reason == genesis.Reason.QUEUE_FULL
        assert err.message == "why" and "why" in str(err) and "QUEUE_FULL" in str(err)
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and again.message == "why"
    assert issubclass(genesis.Closed, genesis.FailedPrecondition)
    unknown = genesis.GenesisError.create(99, "from a newer library")
    assert type(unknown) is genesis.GenesisError and unknown.status == 99


def test_handler_exceptions_keep_status_reason_and_message() -> None:
    def handler(req: genesis.Request) -> str:
        if req.type == "missing":
            raise genesis.NotFound("no such thing")
        if req.type == "boom":
            raise ZeroDivisionError("bad math")
        return "ok"

    with genesis.Coordinator() as co:
        co.register("h", handler)
        with pytest.raises(genesis.NotFound) as nf:
            co.request("h", "missing", timeout=WAIT)
        assert nf.value.reason == genesis.Reason.HANDLER_ERROR
        assert nf.value.message == "no such thing"
        with pytest.raises(genesis.Unknown, match="ZeroDivisionError: bad math"):
            co.request("h", "boom", timeout=WAIT)
        with pytest.raises(genesis.NotFound) as missing:
            co.request("nobody", "x", timeout=WAIT)
        assert missing.value.reason == genesis.Reason.NOT_FOUND


BAD_CALLS: "list[tuple[str, Callable[[genesis.Coordinator], Any]]]" = [
    ("target int", lambda co: co.request(42, "x")),  # type: ignore[arg-type]
    ("type bytes", lambda co: co.request("t", b"x")),  # type: ignore[arg-type]
    ("payload object", lambda co: co.request("t", "x", object())),  # type: ignore[arg-type]
    ("timeout str", lambda co: co.request("t", "x", timeout="1")),  # type: ignore[arg-type]
    ("source int", lambda co: co.request("t", "x", source=3)),  # type: ignore[arg-type]
    ("request_id str", lambda co: co.request("t", "x", request_id="7")),  # type: ignore
    ("criticality str", lambda co: co.request("t", "x", criticality="HIGH")),  # type: ignore
    ("register id None", lambda co: co.register(None, lambda r: "x")),  # type: ignore[arg-type]
    ("handler not callable", lambda co: co.register("x", 5)),
    ("emit type None", lambda co: co.emit(None)),  # type: ignore[arg-type]
    ("policy id int", lambda co: co.get_policy(5)),  # type: ignore[arg-type]
    ("mode str", lambda co: co.set_mode("SAFE")),  # type: ignore[arg-type]
    ("breaker state str", lambda co: co.set_breaker("t", "open")),  # type: ignore[arg-type]
    ("policy field str", lambda co: co.set_policy("t", genesis.Policy(max_attempts="2"))),  # type: ignore
    ("admin arg int", lambda co: co.admin("mode", 1)),  # type: ignore[arg-type]
    ("child report dict", lambda co: co.report_child({"id": "x"})),  # type: ignore[arg-type]
    ("listen url None", lambda co: co.listen(None)),  # type: ignore[arg-type]
    ("policy str", lambda co: co.set_policy("t", "fast")),  # type: ignore[arg-type]
    ("fault dict", lambda co: co.inject_fault("t", {"error_rate": 1})),  # type: ignore[arg-type]
    ("fault rate str", lambda co: co.inject_fault("t", genesis.Fault(error_rate="1"))),  # type: ignore
    ("admin handler int", lambda co: co.set_admin_handler("x.", 5)),  # type: ignore[arg-type]
    ("checkpoint id int", lambda co: co.checkpoint_now(1)),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("what,bad", BAD_CALLS, ids=[w for w, _ in BAD_CALLS])
def test_wrong_argument_types_raise_type_error(what: str, bad: Callable[[genesis.Coordinator], Any]) -> None:
    with genesis.Coordinator() as co:
        co.register("t", lambda req: "ok")
        with pytest.raises(TypeError):
            bad(co)
        assert co.request("t", "x", timeout=WAIT).text() == "ok"  # still fine


def test_wrong_option_types_raise_type_error() -> None:
    for make in (lambda: genesis.Coordinator(worker_threads="4"),  # type: ignore[arg-type]
                 lambda: genesis.Coordinator(default_policy="x"),  # type: ignore[arg-type]
                 lambda: genesis.Coordinator(checkpoint_store=5),  # type: ignore[arg-type]
                 lambda: genesis.Client(name=5),  # type: ignore[arg-type]
                 lambda: genesis.Client(5),  # type: ignore[arg-type]
                 lambda: genesis.Service(5, lambda r: "x"),  # type: ignore[arg-type]
                 lambda: genesis.Service("s", "not callable")):
        with pytest.raises(TypeError):
            make()


def test_bad_values_raise_value_error_or_invalid_argument() -> None:
    with genesis.Coordinator() as co:
        co.register("t", lambda req: "ok")
        with pytest.raises(ValueError):
            co.request("t", "x", timeout=-1)
        with pytest.raises(ValueError):
            co.request("t\0evil", "x")
        with pytest.raises(ValueError):
            co.set_policy("t", genesis.Policy(max_attempts=-1))
        with pytest.raises(genesis.InvalidArgument) as err:
            co.register("bad id!", lambda req: "x")
        assert "bad id!" in err.value.message
        with pytest.raises(genesis.InvalidArgument):
            co.set_mode(7)  # type: ignore[arg-type]
        with pytest.raises(genesis.Unimplemented, match="unknown command"):
            co.admin("no-such-command")
        with pytest.raises(genesis.AlreadyExists):
            co.register("t", lambda req: "x")


def test_every_handle_refuses_calls_after_close(ipc_dir: str) -> None:
    co = genesis.Coordinator()
    co.register("t", lambda req: "ok")
    co.close()
    co.close()  # idempotent
    calls: "list[Callable[[], Any]]" = [
        lambda: co.request("t", "x"), lambda: co.emit("e"), lambda: co.stats(),
        lambda: co.status(), lambda: co.register("u", lambda r: "x"), lambda: co.mode,
        lambda: co.set_mode(genesis.Mode.SAFE), lambda: co.get_policy(),
        lambda: co.set_breaker("t", genesis.BreakerState.CLOSED), lambda: co.admin("mode"),
        lambda: co.checkpoint_now("t"), lambda: co.front_door_url,
        lambda: co.request_async("t", "x"), lambda: co.report_child(genesis.ChildReport("a", "RUNNING")),
    ]
    cl = genesis.Client(f"ipc://{ipc_dir}/none.sock")
    cl.close()
    calls += [lambda: cl.request("t", "x"), lambda: cl.emit("e"), lambda: cl.status(),
              lambda: cl.admin("mode"), lambda: cl.subscribe(""), lambda: cl.events_lost,
              lambda: cl.emit_to("t", "e")]
    svc = genesis.Service("s", lambda req: "ok")
    svc.close()
    calls += [lambda: svc.listen(f"ipc://{ipc_dir}/s.sock"), lambda: svc.checkpoint(b"x"),
              lambda: svc.requests_served, lambda: svc.emit("e"), lambda: svc.url,
              lambda: svc.inject_fault(None)]
    for call in calls:
        with pytest.raises(genesis.Closed, match="closed"):
            call()
    assert co.closed and cl.closed and svc.closed


def test_client_without_a_coordinator_fails_within_its_deadline(ipc_dir: str) -> None:
    with genesis.Client(f"ipc://{ipc_dir}/nobody.sock") as cl:
        with pytest.raises(genesis.GenesisError) as err:
            cl.request("comp", "ping", timeout=0.2)
        assert err.value.reason == genesis.Reason.UNREACHABLE
        assert isinstance(err.value, (genesis.DeadlineExceeded, genesis.Unavailable))


def test_missing_tls_files_are_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing-ca.pem")
    for make in (lambda: genesis.Coordinator(tls_ca=missing, tls_cert=missing, tls_key=missing),
                 lambda: genesis.Client(tls_ca=missing, tls_cert=missing, tls_key=missing),
                 lambda: genesis.Service("s", lambda r: "x", tls_ca=missing, tls_cert=missing,
                                         tls_key=missing)):
        with pytest.raises(genesis.GenesisError, match="missing-ca.pem"):
            make()
