"""An embedded coordinator with components written in Python."""

from __future__ import annotations

import ctypes
import json
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from . import _dispatch, _lib
from ._handle import Handle
from .errors import check
from .messages import Criticality, Event, LogLevel, Payload, Request, Result, call_options, \
    encode_payload, outcome

#: A request handler: gets a Request, returns the reply payload (bytes, str, dict/list for
#: JSON, a Reply, or None for an empty OK) or raises (GenesisError picks the status).
RequestHandler = Callable[[Request], Any]
#: An event callback: gets an Event; its return value is ignored, exceptions are logged.
EventHandler = Callable[[Event], Any]


@dataclass(frozen=True)
class EmitOutcome:
    """How many in-process components queued an emitted event, and how many dropped it."""

    delivered: int
    dropped: int


class Coordinator(Handle):
    """A coordinator embedded in this process (genesis_coordinator).

    Components registered here are Python callables that run on the coordinator's worker
    threads (several at once, each taking the GIL while it runs Python code). Use it as a
    context manager, or call close(): it stops (drains in-flight requests) and frees.

        with genesis.Coordinator() as co:
            co.register("comp2", lambda req: "Pong")
            print(co.request("comp2", "ping").text())
    """

    _free = _lib.lib.genesis_coordinator_free
    _kind = "coordinator"

    def __init__(self, *, worker_threads: int = 0, max_worker_threads: int = 0,
                 front_door_contexts: int = 0, max_message_size: int = 0,
                 default_timeout: Optional[float] = None, max_concurrency: int = 0,
                 max_queued_requests: int = 0, event_queue_depth: int = 0,
                 max_components: int = 0, heartbeat_interval_ms: int = 0,
                 heartbeat_misses: int = 0, log_level: int = LogLevel.WARN,
                 log: Optional[Callable[[LogLevel, str], Any]] = None) -> None:
        """Create a coordinator; every option left at 0/None takes the library's default
        (documented in core/include/genesis/coordinator.h). default_timeout is in seconds.
        log(level, message) receives the library's log lines at or below log_level (default:
        stderr); it runs on library threads, possibly concurrently, and must not call back
        into this coordinator. genesis.log_to(logger) adapts a logging.Logger."""
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

    def listen(self, front_door: str, event_bus: Optional[str] = None) -> None:
        """Serve the front door (clients, remote components) and the event bus on NNG URLs
        (tcp://host:port with port 0 for a free one, ipc:///path, inproc://name)."""
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_listen(h, front_door.encode(),
                                                      event_bus.encode() if event_bus else None),
                  f"listen on {front_door}")

    def _url(self, endpoint: int) -> str:
        with self._use() as ptr:
            return _dispatch.string_buffer(
                lambda buf, size: _lib.lib.genesis_coordinator_get_url(ptr, endpoint, buf, size),
                "coordinator url")

    @property
    def front_door_url(self) -> str:
        """The URL the front door listens on (with the bound port for tcp port 0)."""
        return self._url(0)

    @property
    def event_bus_url(self) -> str:
        """The URL the event bus listens on."""
        return self._url(1)

    def register(self, id: str, on_request: Any,
                 on_event: Optional[EventHandler] = None) -> None:
        """Register an in-process component. on_request is a RequestHandler, or an object
        with on_request(request) and optionally on_event(event) methods. Raises AlreadyExists
        when the id is taken."""
        handlers = _dispatch.handlers_from(id, on_request, on_event)
        key = _dispatch.hold(handlers)
        comp = _dispatch.component_struct(key, handlers.on_event is not None)
        try:
            with self._use() as h:
                check(_lib.lib.genesis_coordinator_register(h, id.encode(),
                                                            ctypes.byref(comp)),
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
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_unregister(h, id.encode()),
                  f"unregister {id}")
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
                content_type: Optional[str] = None) -> Result:
        """Send a request to a component and wait. Returns the Result; raises GenesisError
        (status, reason, message) on failure. timeout is the overall deadline in seconds."""
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(timeout, criticality, idempotent, source, ctype)
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_coordinator_request(h, target.encode(), type.encode(),
                                                      payload, len(payload), ctypes.byref(opts),
                                                      ctypes.byref(res))
        return outcome(rv, res.value, f"request {target}/{type}")

    def request_async(self, target: str, type: str, data: Payload = None, *,
                      timeout: Optional[float] = None, criticality: int = Criticality.DEFAULT,
                      idempotent: bool = False, source: Optional[str] = None,
                      content_type: Optional[str] = None) -> "Future[Result]":
        """Start a request; the concurrent.futures.Future resolves to the Result or raises its
        GenesisError (await it with asyncio.wrap_future in async code)."""
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(timeout, criticality, idempotent, source, ctype)
        with self._use() as ptr:
            return _dispatch.start_async(
                lambda cb, key: _lib.lib.genesis_coordinator_request_async(
                    ptr, target.encode(), type.encode(), payload, len(payload), ctypes.byref(opts),
                    cb, key),
                f"request {target}/{type}")

    def emit(self, type: str, data: Payload = None, *, source: Optional[str] = None,
             criticality: int = Criticality.DEFAULT,
             content_type: Optional[str] = None) -> EmitOutcome:
        """Emit a local event to every in-process component but source, and on the bus."""
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(None, criticality, False, source, ctype)
        delivered, dropped = ctypes.c_uint(), ctypes.c_uint()
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_emit(h, type.encode(), payload,
                                                    len(payload), ctypes.byref(opts),
                                                    ctypes.byref(delivered), ctypes.byref(dropped)),
                  f"emit {type}")
        return EmitOutcome(delivered.value, dropped.value)

    def stats(self) -> Dict[str, int]:
        """The coordinator's counters (genesis_coordinator_stats) as a dict."""
        stats = _lib.CoordinatorStats()
        stats.version = _lib.COORDINATOR_STATS_VERSION
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_get_stats(h, ctypes.byref(stats)),
                  "coordinator stats")
        return {name: getattr(stats, name) for name in _lib.STATS_FIELDS}

    def status(self) -> Dict[str, Any]:
        """The JSON status report (mode, stats, components) as a dict."""
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_coordinator_status(h, ctypes.byref(res))
        return json.loads(outcome(rv, res.value, "coordinator status").data)

    def _before_free(self, ptr: int) -> None:
        # Stopping first makes requests blocked in other threads return (UNAVAILABLE or
        # their outcome) before close() waits for them and frees.
        _lib.lib.genesis_coordinator_stop(ptr)

    def stop(self) -> None:
        """Refuse new work, drain in-flight requests and join the threads (idempotent).
        close() does this too; stop() alone keeps the handle for stats()."""
        with self._use() as h:
            check(_lib.lib.genesis_coordinator_stop(h), "stop coordinator")
