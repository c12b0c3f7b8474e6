"""An embedded coordinator with components written in Python."""

from __future__ import annotations

import ctypes
import json
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

from . import _dispatch, _lib
from ._handle import Handle
from .errors import check
from .messages import (Criticality, Event, LogLevel, Payload, Request, Result, call_options,
                       cstr, encode_payload, opt_cstr, outcome, timeout_ms)
from .resilience import (BreakerState, CheckpointInfo, ChildReport, ComponentStats, Fault, Mode,
                         Policy, fault_struct, policy_struct, to_mode)

#: A request handler: gets a Request, returns the reply payload (bytes, str, dict/list for
#: JSON, a Reply, or None for an empty OK) or raises (GenesisError picks the status).
RequestHandler = Callable[[Request], Any]
#: An event callback: gets an Event; its return value is ignored, exceptions are logged.
EventHandler = Callable[[Event], Any]
#: An admin command handler: (command, args) -> the reply payload, or raises.
AdminHandler = _dispatch.AdminHandler
#: A snapshot callback: () -> the component's state as a payload.
SnapshotHandler = _dispatch.SnapshotFn
#: A restore callback: (state, generation) -> None; raising refuses that generation.
RestoreHandler = _dispatch.RestoreFn


@dataclass(frozen=True)
class EmitOutcome:
    """How many in-process components queued an emitted event, and how many dropped it."""

    delivered: int
    dropped: int


def admin_args(command: str, args: Sequence[str]) -> Tuple[bytes, Any, int]:
    """(command, char *const *args, nargs) for the admin calls; keep the array alive."""
    words = [cstr(a, "admin argument") for a in args]
    array = (ctypes.c_char_p * max(1, len(words)))(*words)
    return cstr(command, "admin command"), array, len(words)


class Coordinator(Handle):
    """A coordinator embedded in this process (genesis_coordinator).

    Components registered here are Python callables that run on the coordinator's worker
    threads (several at once, each taking the GIL while it runs Python code). Use it as a
    context manager, or call close(): it stops (drains in-flight requests) and frees.

        with genesis.Coordinator() as co:
            co.register("comp2", lambda req: "Pong")
            print(co.request("comp2", "ping").text())

    Thread safety: every method may be called from any thread, concurrently; close() must
    not be called from one of the coordinator's own callbacks.
    """

    _free = _lib.lib.genesis_coordinator_free
    _kind = "coordinator"

    def __init__(self, *, worker_threads: int = 0, max_worker_threads: int = 0,
                 front_door_contexts: int = 0, max_message_size: int = 0,
                 default_timeout: Optional[float] = None, max_concurrency: int = 0,
                 max_queued_requests: int = 0, event_queue_depth: int = 0,
                 max_components: int = 0, heartbeat_interval_ms: int = 0,
                 heartbeat_misses: int = 0, log_level: int = LogLevel.WARN,
                 log: Optional[Callable[[LogLevel, str], Any]] = None,
                 checkpoint_store: Optional[str] = None, checkpoint_interval_ms: int = 0,
                 checkpoint_generations: int = 0, default_policy: Optional[Policy] = None,
                 critical_types: Optional[str] = None, safe_mode_pct: int = 0,
                 emergency_mode_pct: int = 0, mode_hold_ms: int = 0,
                 admin_faults: bool = False,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None, tls_server_name: Optional[str] = None) -> None:
        """Create a coordinator; every option left at 0/None takes the library's default
        (documented in core/include/genesis/coordinator.h). default_timeout is in seconds.
        log(level, message) receives the library's log lines at or below log_level (default:
        stderr); it runs on library threads, possibly concurrently, and must not call back
        into this coordinator. genesis.log_to(logger) adapts a logging.Logger.
        checkpoint_store is a SQLite file for durable checkpoints (None: none);
        default_policy the Policy of components without their own; admin_faults lets the
        admin "fault" command inject faults (chaos runs)."""
        super().__init__()
        opts = _lib.CoordinatorOptions()
        check(_lib.lib.genesis_coordinator_options_init(ctypes.byref(opts),
                                                        _lib.COORDINATOR_OPTIONS_VERSION),
              "genesis_coordinator_options_init")
        opts.worker_threads = worker_threads
        opts.max_worker_threads = max_worker_threads
        opts.front_door_contexts = front_door_contexts
        opts.max_message_size = max_message_size
        opts.default_timeout_ms = int(default_timeout * 1000) if default_timeout else 0
        opts.max_concurrency = max_concurrency
        opts.max_queued_requests = max_queued_requests
        opts.event_queue_depth = event_queue_depth
        opts.max_components = max_components
        opts.heartbeat_interval_ms = heartbeat_interval_ms
        opts.heartbeat_misses = heartbeat_misses
        opts.log_level = int(log_level)
        opts.checkpoint_store = opt_cstr(checkpoint_store, "checkpoint_store")
        opts.checkpoint_interval_ms = checkpoint_interval_ms
        opts.checkpoint_generations = checkpoint_generations
        policy = policy_struct(default_policy, "default_policy")
        if policy is not None:
            opts.default_policy = ctypes.pointer(policy)
        opts.critical_types = (cstr(critical_types, "critical_types")
                               if critical_types is not None else None)
        opts.safe_mode_pct = safe_mode_pct
        opts.emergency_mode_pct = emergency_mode_pct
        opts.mode_hold_ms = mode_hold_ms
        opts.admin_faults = 1 if admin_faults else 0
        _lib.set_tls(opts, tls_ca, tls_cert, tls_key, tls_server_name)
        log_key = _dispatch.set_log(opts, log)
        ptr = _lib.coordinator_p()
        rv = _lib.lib.genesis_coordinator_new(ctypes.byref(ptr), ctypes.byref(opts))
        if rv != 0 and log_key is not None:
            _dispatch.release(log_key)
        check(rv, "create coordinator")
        if log_key is not None:
            self._keys.append(log_key)
        self._adopt(ptr.value)
        self._components: Dict[str, int] = {}
        self._admin_keys: Dict[str, int] = {}

    def listen(self, front_door: str, event_bus: Optional[str] = None) -> None:
        """Serve the front door (clients, remote components) and the event bus on NNG URLs
        (tcp://host:port with port 0 for a free one, ipc:///path, inproc://name)."""
        fd, bus = cstr(front_door, "front_door"), opt_cstr(event_bus, "event_bus")
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_listen(h, fd, bus), f"listen on {front_door}")

    def _url(self, endpoint: int) -> str:
        with self._use() as ptr:
            return _dispatch.string_buffer(
                lambda buf, size: int(
                    _lib.lib.genesis_coordinator_get_url(ptr, endpoint, buf, size)),
                "coordinator url")

    @property
    def front_door_url(self) -> str:
        """The URL the front door listens on (with the bound port for tcp port 0)."""
        return self._url(0)

    @property
    def event_bus_url(self) -> str:
        """The URL the event bus listens on."""
        return self._url(1)

    def register(self, id: str, on_request: Any, on_event: Optional[EventHandler] = None, *,
                 snapshot: Optional[SnapshotHandler] = None,
                 restore: Optional[RestoreHandler] = None) -> None:
        """Register an in-process component. on_request is a RequestHandler, or an object
        with on_request(request) and optionally on_event(event), snapshot() and
        restore(state, generation) methods. With a checkpoint store, snapshot hands over the
        component's state (called every checkpoint interval after it changed, and by
        checkpoint_now) and restore gets the latest stored state back before the component
        serves its first request. Raises AlreadyExists when the id is taken."""
        handlers = _dispatch.handlers_from(id, on_request, on_event, snapshot, restore)
        cid = cstr(id, "component id")
        key = _dispatch.hold(handlers)
        comp = _dispatch.component_struct(key, handlers)
        try:
            with self._use() as h:
                check(_lib.lib.genesis_coordinator_register(h, cid, ctypes.byref(comp)),
                      f"register {id}")
        except BaseException:
            _dispatch.release(key)
            raise
        with self._lock:
            self._keys.append(key)
            self._components[id] = key

    def unregister(self, id: str) -> None:
        """Remove a component; returns once its running callbacks have returned (unless
        called from one of them)."""
        cid = cstr(id, "component id")
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_unregister(h, cid), f"unregister {id}")
        if _dispatch.in_callback():
            return  # its other callbacks may still run; released at close()
        with self._lock:
            key = self._components.pop(id, None)
            if key is not None and key in self._keys:
                self._keys.remove(key)
        if key is not None:
            _dispatch.release(key)

    def request(self, target: str, type: str, data: Payload = None, *,
                timeout: Optional[float] = None, criticality: int = Criticality.DEFAULT,
                idempotent: bool = False, source: Optional[str] = None,
                content_type: Optional[str] = None, request_id: int = 0) -> Result:
        """Send a request to a component and wait. Returns the Result; raises GenesisError
        (status, reason, message) on failure. timeout is the overall deadline in seconds;
        request_id an end-to-end correlation id (0: the coordinator assigns one)."""
        ct, ty = cstr(target, "target"), cstr(type, "type")
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(timeout, criticality, idempotent, source, ctype, request_id)
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_coordinator_request(h, ct, ty, payload, len(payload),
                                                      ctypes.byref(opts), ctypes.byref(res))
        return outcome(rv, res.value, f"request {target}/{type}")

    def request_async(self, target: str, type: str, data: Payload = None, *,
                      timeout: Optional[float] = None, criticality: int = Criticality.DEFAULT,
                      idempotent: bool = False, source: Optional[str] = None,
                      content_type: Optional[str] = None,
                      request_id: int = 0) -> "Future[Result]":
        """Start a request; the concurrent.futures.Future resolves to the Result or raises its
        GenesisError (genesis.aio has the asyncio form)."""
        ct, ty = cstr(target, "target"), cstr(type, "type")
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(timeout, criticality, idempotent, source, ctype, request_id)
        with self._use() as ptr:
            return _dispatch.start_async(
                lambda cb, key: int(_lib.lib.genesis_coordinator_request_async(
                    ptr, ct, ty, payload, len(payload), ctypes.byref(opts), cb, key)),
                f"request {target}/{type}")

    def emit(self, type: str, data: Payload = None, *, source: Optional[str] = None,
             criticality: int = Criticality.DEFAULT,
             content_type: Optional[str] = None) -> EmitOutcome:
        """Emit a local event to every in-process component but source, and on the bus.
        Never blocks (a full component queue drops the event and counts it)."""
        ty = cstr(type, "type")
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(None, criticality, False, source, ctype)
        delivered, dropped = ctypes.c_uint(), ctypes.c_uint()
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_emit(h, ty, payload, len(payload),
                                                    ctypes.byref(opts), ctypes.byref(delivered),
                                                    ctypes.byref(dropped)),
                  f"emit {type}")
        return EmitOutcome(delivered.value, dropped.value)

    def emit_external(self, type: str, data: Payload = None, *, source: Optional[str] = None,
                      criticality: int = Criticality.DEFAULT,
                      content_type: Optional[str] = None) -> None:
        """Publish an external event ("external:<type>" on the bus) for external clients
        (the gateway pushes it to every WebSocket client but source). In-process components
        do not receive it. Never blocks."""
        ty = cstr(type, "type")
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(None, criticality, False, source, ctype)
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_emit_external(h, ty, payload, len(payload),
                                                             ctypes.byref(opts)),
                  f"emit external {type}")

    def stats(self) -> Dict[str, int]:
        """The coordinator's counters (genesis_coordinator_stats) as a dict."""
        stats = _lib.CoordinatorStats()
        stats.version = _lib.COORDINATOR_STATS_VERSION
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_get_stats(h, ctypes.byref(stats)),
                  "coordinator stats")
        return {name: int(getattr(stats, name)) for name in _lib.STATS_FIELDS}

    def status(self) -> Dict[str, Any]:
        """The JSON status report (mode, stats, components) as a dict."""
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_coordinator_status(h, ctypes.byref(res))
        parsed: Dict[str, Any] = json.loads(outcome(rv, res.value, "coordinator status").data)
        return parsed

    # ---- resilience ----------------------------------------------------------------------
    def set_policy(self, id: Optional[str], policy: Optional[Policy]) -> None:
        """Set component id's policy (id None: the default of every component without its
        own; policy None: remove id's own). Raises InvalidArgument naming a bad field."""
        cid = opt_cstr(id, "component id") if id is not None else None
        c = policy_struct(policy)
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_set_policy(
                h, cid, ctypes.byref(c) if c is not None else None),
                f"set policy of {id if id is not None else 'the default'}")

    def get_policy(self, id: Optional[str] = None) -> Policy:
        """The policy in force for id (its own or the default; None: the default)."""
        cid = cstr(id, "component id") if id is not None else None
        c = _lib.Policy()
        c.version = _lib.POLICY_VERSION
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_get_policy(h, cid, ctypes.byref(c)),
                  f"policy of {id if id is not None else 'the default'}")
        return Policy._from_c(c)

    @property
    def mode(self) -> Union[Mode, int]:
        """The degradation mode in force (NORMAL, SAFE, EMERGENCY)."""
        with self._use() as h:
            return to_mode(int(_lib.lib.genesis_coordinator_get_mode(h)))

    def set_mode(self, mode: Mode) -> None:
        """Force a mode, or Mode.AUTO to return to automatic."""
        if not isinstance(mode, int) or isinstance(mode, bool):
            raise TypeError(f"mode must be a genesis.Mode, not {type(mode).__name__}")
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_set_mode(h, int(mode)), "set mode")

    def set_breaker(self, id: str, state: BreakerState) -> None:
        """Operator control of id's breaker: FORCED_OPEN, DISABLED, or CLOSED (reset)."""
        cid = cstr(id, "component id")
        if not isinstance(state, int) or isinstance(state, bool):
            raise TypeError(f"state must be a genesis.BreakerState, not {type(state).__name__}")
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_set_breaker(h, cid, int(state)),
                  f"set breaker of {id}")

    def force_breaker_open(self, id: str, duration: Optional[float] = None) -> None:
        """Force id's breaker open for duration seconds (None: until reset, as
        set_breaker(FORCED_OPEN)); then it goes HALF_OPEN and probes decide."""
        cid = cstr(id, "component id")
        ms = timeout_ms(duration, "duration")
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_force_breaker_open(h, cid, ms),
                  f"force breaker of {id} open")

    def component_stats(self, id: str) -> ComponentStats:
        """Component id's statistics; NotFound if it is not registered."""
        cid = cstr(id, "component id")
        c = _lib.ComponentStats()
        c.version = _lib.COMPONENT_STATS_VERSION
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_get_component_stats(h, cid, ctypes.byref(c)),
                  f"stats of {id}")
        return ComponentStats._from_c(c)

    def inject_fault(self, id: str, fault: Optional[Fault]) -> None:
        """Inject a fault into in-process component id (None clears it and releases hung
        handlers). For tests and chaos runs."""
        cid = cstr(id, "component id")
        c = fault_struct(fault)
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_inject_fault(
                h, cid, ctypes.byref(c) if c is not None else None), f"inject fault into {id}")

    def admin(self, command: str, *args: str) -> Any:
        """Run an operator command ("mode", "breaker", "policy", "fault", "checkpoint", or
        one routed to a set_admin_handler handler) and return its JSON answer, parsed."""
        cmd, array, n = admin_args(command, args)
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_coordinator_admin(h, cmd, array, n, ctypes.byref(res))
        result = outcome(rv, res.value, f"admin {command}")
        return result.json() if result.data else None

    # ---- recovery ------------------------------------------------------------------------
    def checkpoint_mark_dirty(self, id: str) -> None:
        """Tell the coordinator that id's state changed outside a request, so the next
        interval checkpoints it. Never blocks."""
        cid = cstr(id, "component id")
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_checkpoint_mark_dirty(h, cid),
                  f"mark {id} dirty")

    def checkpoint_now(self, id: str) -> int:
        """Snapshot component id now and wait until it is durable; returns the generation.
        Must not be called from one of that component's own callbacks."""
        cid = cstr(id, "component id")
        generation = ctypes.c_uint64()
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_checkpoint_now(h, cid, ctypes.byref(generation)),
                  f"checkpoint {id}")
        return int(generation.value)

    def checkpoint_info(self, id: str) -> CheckpointInfo:
        """What the coordinator knows about id's checkpoints; NotFound when nothing."""
        cid = cstr(id, "component id")
        c = _lib.CheckpointInfo()
        c.version = _lib.CHECKPOINT_INFO_VERSION
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_get_checkpoint_info(h, cid, ctypes.byref(c)),
                  f"checkpoint info of {id}")
        return CheckpointInfo._from_c(c)

    def component_health(self, id: str) -> bool:
        """Whether component id can serve (registered and healthy); NotFound if unknown."""
        cid = cstr(id, "component id")
        up = ctypes.c_int()
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_get_component_health(h, cid, ctypes.byref(up)),
                  f"health of {id}")
        return bool(up.value)

    def set_admin_handler(self, prefix: str, handler: Optional[AdminHandler]) -> None:
        """Route admin commands starting with prefix to handler(command, args) (None
        removes it). The handler runs on one of the coordinator's worker threads (two admin
        commands at a time): it may block briefly."""
        cp = cstr(prefix, "prefix")
        if handler is not None and not callable(handler):
            raise TypeError("handler must be callable as handler(command, args)")
        key = _dispatch.hold(handler) if handler is not None else None
        try:
            with self._use() as h:
                check(_lib.lib.genesis_coordinator_set_admin_handler(
                    h, cp,
                    _dispatch._admin_trampoline if key is not None else _lib.null(_lib.admin_fn),
                    key), f"admin handler for {prefix!r}")
        except BaseException:
            if key is not None:
                _dispatch.release(key)
            raise
        # A replaced handler may still be running: every key stays held
        # until close().
        with self._lock:
            if key is not None:
                self._keys.append(key)
                self._admin_keys[prefix] = key
            else:
                self._admin_keys.pop(prefix, None)

    def report_child(self, report: ChildReport) -> None:
        """Record (or replace) a supervised process's report, shown in status()."""
        if not isinstance(report, ChildReport):
            raise TypeError(f"report must be a genesis.ChildReport, not {type(report).__name__}")
        c = report._to_c()
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_report_child(h, ctypes.byref(c)),
                  f"report child {report.id}")

    def _before_free(self, ptr: int) -> None:
        # Stopping first makes requests blocked in other threads return (UNAVAILABLE or
        # their outcome) before close() waits for them and frees.
        _lib.lib.genesis_coordinator_stop(ptr)

    def stop(self) -> None:
        """Refuse new work, drain in-flight requests and join the threads (idempotent).
        close() does this too; stop() alone keeps the handle for stats()."""
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_stop(h), "stop coordinator")
