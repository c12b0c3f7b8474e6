"""A remote component: a Python process that serves a coordinator over NNG."""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Optional

from . import _dispatch, _lib
from ._handle import Handle
from .coordinator import EventHandler, RestoreHandler
from .errors import check
from .messages import (Criticality, LogLevel, Payload, Urls, call_options, cstr,
                       encode_payload, outcome, timeout_ms, url_list)
from .resilience import Fault, fault_struct


class Service(Handle):
    """A component served from this process to a coordinator elsewhere (genesis_service).

    It listens on its own address, which the coordinator dials, registers, heartbeats in the
    background and runs the handler for each request on its worker threads.

        with genesis.Service("comp3", handler) as svc:
            svc.listen("ipc:///tmp/comp3.sock")
            svc.connect("tcp://127.0.0.1:7400", "tcp://127.0.0.1:7401")
            ...  # serve until done; close() unregisters
    """

    _free = _lib.lib.genesis_service_free
    _kind = "service"

    def __init__(self, id: str, on_request: Any, on_event: Optional[EventHandler] = None, *,
                 restore: Optional[RestoreHandler] = None,
                 max_concurrency: int = 0, max_message_size: int = 0,
                 heartbeat_interval_ms: int = 0, event_queue_depth: int = 0,
                 log_level: int = LogLevel.WARN,
                 log: Optional[Callable[[LogLevel, str], Any]] = None,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None, tls_server_name: Optional[str] = None) -> None:
        """on_request is a request handler (see Coordinator.register) or an object with
        on_request/on_event methods. Options at 0 take the library's defaults; log as for
        Coordinator. tls_ca/tls_cert/tls_key (PEM paths, all or none) enable mutual TLS for
        tls+tcp:// URLs (listen and connect); they are read here. restore(state,
        generation) (or the object's restore method) gets the latest checkpoint the
        coordinator holds for id during the first successful connect(), before the first
        request is served; checkpoint() stores one."""
        super().__init__()
        self.id = id
        opts = _lib.ServiceOptions()
        check(_lib.lib.genesis_service_options_init(ctypes.byref(opts),
                                                    _lib.SERVICE_OPTIONS_VERSION),
              "genesis_service_options_init")
        opts.max_concurrency = max_concurrency
        opts.max_message_size = max_message_size
        opts.heartbeat_interval_ms = heartbeat_interval_ms
        opts.event_queue_depth = event_queue_depth
        opts.log_level = int(log_level)
        _lib.set_tls(opts, tls_ca, tls_cert, tls_key, tls_server_name)
        handlers = _dispatch.handlers_from(id, on_request, on_event, None, restore)
        handlers.snapshot = None  # services decide when to checkpoint (checkpoint())
        cid = cstr(id, "service id")
        log_key = _dispatch.set_log(opts, log)
        key = _dispatch.hold(handlers)
        comp = _dispatch.component_struct(key, handlers)
        ptr = _lib.service_p()
        rv = _lib.lib.genesis_service_new(ctypes.byref(ptr), cid, ctypes.byref(comp),
                                          ctypes.byref(opts))
        if rv != 0:
            _dispatch.release(key)
            if log_key is not None:
                _dispatch.release(log_key)
        check(rv, f"create service {id}")
        self._keys.append(key)
        if log_key is not None:
            self._keys.append(log_key)
        self._adopt(ptr.value)

    def listen(self, url: str) -> str:
        """Listen for the coordinator on url (tcp port 0 allowed); returns the bound URL."""
        cu = cstr(url, "url")
        with self._use() as h:
            check(_lib.lib.genesis_service_listen(h, cu), f"listen on {url}")
        return self.url

    @property
    def url(self) -> str:
        """The URL this service listens on."""
        with self._use() as ptr:
            return _dispatch.string_buffer(
                lambda buf, size: int(_lib.lib.genesis_service_get_url(ptr, buf, size)),
                "service url")

    def connect(self, front_door: Urls, event_bus: Optional[Urls] = None,
                timeout: Optional[float] = None) -> None:
        """Register with the coordinator at front_door (waiting up to timeout seconds, default
        10), then heartbeat; with event_bus, local events reach on_event. front_door and
        event_bus may be lists of cluster nodes' URLs: the service registers with every node
        (returning once one accepted), heartbeats each and registers again with one that comes
        back."""
        fd, bus = url_list(front_door, "front_door"), url_list(event_bus, "event_bus")
        if fd is None:
            raise ValueError("front_door must name at least one URL")
        ms = timeout_ms(timeout)
        with self._use() as h:
            check(_lib.lib.genesis_service_connect(h, fd, bus, ms),
                  f"connect {self.id} to {front_door}")

    def emit(self, type: str, data: Payload = None, *, timeout: Optional[float] = None,
             criticality: int = Criticality.DEFAULT, content_type: Optional[str] = None) -> None:
        """Emit a local event through the coordinator (source = this service's id)."""
        ty = cstr(type, "type")
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(timeout, criticality, False, None, ctype)
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_service_emit(h, ty, payload, len(payload),
                                               ctypes.byref(opts), ctypes.byref(res))
        outcome(rv, res.value, f"emit {type}")

    def checkpoint(self, state: Payload, timeout: Optional[float] = None) -> int:
        """Hand state to the coordinator and wait until it is durable in its checkpoint
        store; returns the stored generation. On an error the previous checkpoint is kept:
        NotFound (not registered yet: try again), ResourceExhausted (STORAGE_FULL,
        QUEUE_FULL), FailedPrecondition (the coordinator has no store), Unavailable."""
        data, _ = encode_payload(state, None)
        ms = timeout_ms(timeout)
        generation = ctypes.c_uint64()
        with self._use() as h:
            check(_lib.lib.genesis_service_checkpoint(h, data, len(data), ms,
                                                      ctypes.byref(generation)),
                  f"checkpoint {self.id}")
        return int(generation.value)

    def inject_fault(self, fault: Optional[Fault]) -> None:
        """Inject a fault into this service's request handling (None clears it). A crash
        fault kills this whole process on the next request, as a real crash would."""
        c = fault_struct(fault)
        with self._use() as h:
            check(_lib.lib.genesis_service_inject_fault(h, ctypes.byref(c) if c is not None
                                                        else None),
                  f"inject fault into {self.id}")

    @property
    def requests_served(self) -> int:
        """Requests served so far."""
        with self._use() as h:
            return int(_lib.lib.genesis_service_get_requests_served(h))
