"""A remote component: a Python process that serves a coordinator over NNG."""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Optional

from . import _dispatch, _lib
from ._handle import Handle
from .coordinator import EventHandler
from .errors import check
from .messages import Criticality, LogLevel, Payload, call_options, encode_payload, outcome


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
                 max_concurrency: int = 0, max_message_size: int = 0,
                 heartbeat_interval_ms: int = 0, event_queue_depth: int = 0,
                 log_level: int = LogLevel.WARN,
                 log: Optional[Callable[[LogLevel, str], Any]] = None,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None, tls_server_name: Optional[str] = None) -> None:
        """on_request is a request handler (see Coordinator.register) or an object with
        on_request/on_event methods. Options at 0 take the library's defaults; log as for
        Coordinator. tls_ca/tls_cert/tls_key (PEM paths, all or none) enable mutual TLS for
        tls+tcp:// URLs (listen and connect); they are read here."""
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
        handlers = _dispatch.handlers_from(id, on_request, on_event)
        log_key = _dispatch.set_log(opts, log)
        key = _dispatch.hold(handlers)
        comp = _dispatch.component_struct(key, handlers.on_event is not None)
        ptr = _lib.service_p()
        rv = _lib.lib.genesis_service_new(ctypes.byref(ptr), id.encode(), ctypes.byref(comp),
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
        with self._use() as h:
            check(_lib.lib.genesis_service_listen(h, url.encode()), f"listen on {url}")
        return self.url

    @property
    def url(self) -> str:
        """The URL this service listens on."""
        with self._use() as ptr:
            return _dispatch.string_buffer(
                lambda buf, size: _lib.lib.genesis_service_get_url(ptr, buf, size), "service url")

    def connect(self, front_door: str, event_bus: Optional[str] = None,
                timeout: Optional[float] = None) -> None:
        """Register with the coordinator at front_door (waiting up to timeout seconds, default
        10), then heartbeat; with event_bus, local events reach on_event."""
        ms = int(timeout * 1000) if timeout else 0
        with self._use() as h:
            check(_lib.lib.genesis_service_connect(h, front_door.encode(),
                                                   event_bus.encode() if event_bus else None, ms),
                  f"connect {self.id} to {front_door}")

    def emit(self, type: str, data: Payload = None, *, timeout: Optional[float] = None,
             criticality: int = Criticality.DEFAULT, content_type: Optional[str] = None) -> None:
        """Emit a local event through the coordinator (source = this service's id)."""
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(timeout, criticality, False, None, ctype)
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_service_emit(h, type.encode(), payload, len(payload),
                                               ctypes.byref(opts), ctypes.byref(res))
        outcome(rv, res.value, f"emit {type}")

    @property
    def requests_served(self) -> int:
        """Requests served so far."""
        with self._use() as h:
            return _lib.lib.genesis_service_get_requests_served(h)
