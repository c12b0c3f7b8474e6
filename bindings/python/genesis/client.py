"""A client of a coordinator in another process: requests, emits, status, subscriptions."""

from __future__ import annotations

import ctypes
import json
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, Iterator, List, Optional

from . import _dispatch, _lib
from ._handle import Handle
from .errors import check
from .messages import (Criticality, Event, Payload, Result, Urls, call_options, cstr,
                       encode_payload, opt_cstr, outcome, timeout_ms, url_list)

_END = object()


class Subscription:
    """Events whose topic ("local:<type>" / "external:<type>") starts with a prefix.

    Without a callback it is an iterator over events (blocking); events wait in a bounded
    queue, and when it is full new ones are dropped and counted in `dropped` (C worker
    threads never wait for Python). close() (or the client's close) ends the iteration.
    """

    def __init__(self, client: "Client", prefix: str,
                 callback: Optional[Callable[[Event], Any]], queue_size: int) -> None:
        self.prefix = prefix
        self.dropped = 0
        self._client = client
        self._callback = callback
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=queue_size)
        self._closed = False
        self._lock = threading.Lock()  # orders deliveries against close()

    def _deliver(self, event: Event) -> None:
        if self._closed:
            return
        if self._callback is not None:
            self._callback(event)
            return
        with self._lock:
            if self._closed:
                return
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                self.dropped += 1

    def get(self, timeout: Optional[float] = None) -> Event:
        """The next event; raises queue.Empty after timeout seconds, StopIteration once
        closed."""
        item = self._queue.get(timeout=timeout)
        if item is _END:
            self._queue.put_nowait(_END)  # keep later get() calls ending too
            raise StopIteration
        assert isinstance(item, Event)
        return item

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        return self.get()

    def close(self) -> None:
        """Stop delivering to this subscription, discard the events still waiting and end its
        iteration."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # Pending events are discarded: the iteration ends at once. Nothing is added
            # after this (closed), so the queue has room for the end marker.
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put_nowait(_END)
        self._client._forget(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Router:
    """The one event callback the C client has; fans events out to Python subscriptions."""

    def __init__(self) -> None:
        self.subs: List[Subscription] = []
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self.lock:
            subs = [s for s in self.subs if event.topic.startswith(s.prefix)]
        for sub in subs:
            sub._deliver(event)


class Client(Handle):
    """A client of a coordinator over NNG (genesis_client).

        with genesis.Client("tcp://127.0.0.1:7400", "tcp://127.0.0.1:7401") as cl:
            print(cl.request("comp2", "ping").text())
    """

    _free = _lib.lib.genesis_client_free
    _kind = "client"

    def __init__(self, front_door: Optional[Urls] = None, event_bus: Optional[Urls] = None, *,
                 name: Optional[str] = None, default_timeout: Optional[float] = None,
                 max_message_size: int = 0, worker_threads: int = 0,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None, tls_server_name: Optional[str] = None) -> None:
        """Create a client, and dial front_door (and event_bus for subscriptions) if given.
        name is the default source of its requests; default_timeout is in seconds.
        tls_ca/tls_cert/tls_key (PEM paths, all or none) enable mutual TLS for tls+tcp://
        URLs; they are read here (a bad file raises, naming it)."""
        super().__init__()
        opts = _lib.ClientOptions()
        check(_lib.lib.genesis_client_options_init(ctypes.byref(opts),
                                                   _lib.CLIENT_OPTIONS_VERSION),
              "genesis_client_options_init")
        self._name = opt_cstr(name, "name")  # kept alive while C reads it
        opts.name = self._name
        opts.max_message_size = max_message_size
        opts.default_timeout_ms = int(default_timeout * 1000) if default_timeout else 0
        opts.worker_threads = worker_threads
        _lib.set_tls(opts, tls_ca, tls_cert, tls_key, tls_server_name)
        ptr = _lib.client_p()
        check(_lib.lib.genesis_client_new(ctypes.byref(ptr), ctypes.byref(opts)), "create client")
        self._adopt(ptr.value)
        self._router = _Router()
        self._router_key: Optional[int] = None
        if front_door:
            self.dial(front_door, event_bus)

    def dial(self, front_door: Urls, event_bus: Optional[Urls] = None) -> None:
        """Connect to a coordinator (in the background; requests wait for the connection).
        front_door and event_bus may be lists of cluster nodes' URLs: when the node serving a
        call is lost, an idempotent request (or status) is sent again to another node within
        its timeout; other calls raise UNAVAILABLE (reason UNREACHABLE) saying the call may or
        may not have run. Subscriptions receive from every listed bus."""
        fd, bus = url_list(front_door, "front_door"), url_list(event_bus, "event_bus")
        if fd is None:
            raise ValueError("front_door must name at least one URL")
        with self._use() as h:
            check(_lib.lib.genesis_client_dial(h, fd, bus), f"dial {front_door}")

    def request(self, target: str, type: str, data: Payload = None, *,
                timeout: Optional[float] = None, criticality: int = Criticality.DEFAULT,
                idempotent: bool = False, source: Optional[str] = None,
                content_type: Optional[str] = None, request_id: int = 0) -> Result:
        """Request a component through the coordinator and wait; raises GenesisError on
        failure.

        Without a coordinator the call waits for one until its deadline (timeout, default
        the client's default_timeout, 10 s), then raises DeadlineExceeded with reason
        UNREACHABLE: the connection is made in the background and re-made after failures, so
        a coordinator that starts or restarts within the deadline still answers (gRPC's
        wait-for-ready). Pass a short timeout to find out sooner."""
        # Started asynchronously and waited for here: close() from another thread then
        # cancels it (Cancelled) instead of waiting for its deadline, and Ctrl-C interrupts
        # the wait.
        return self.request_async(target, type, data, timeout=timeout, criticality=criticality,
                                  idempotent=idempotent, source=source,
                                  content_type=content_type, request_id=request_id).result()

    def request_async(self, target: str, type: str, data: Payload = None, *,
                      timeout: Optional[float] = None, criticality: int = Criticality.DEFAULT,
                      idempotent: bool = False, source: Optional[str] = None,
                      content_type: Optional[str] = None,
                      request_id: int = 0) -> "Future[Result]":
        """Start a request; the Future resolves to the Result or raises its GenesisError.
        Calls still outstanding at close() fail with Cancelled."""
        ct, ty = cstr(target, "target"), cstr(type, "type")
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(timeout, criticality, idempotent, source, ctype, request_id)
        with self._use() as ptr:
            return _dispatch.start_async(
                lambda cb, key: int(_lib.lib.genesis_client_request_async(
                    ptr, ct, ty, payload, len(payload), ctypes.byref(opts), cb, key)),
                f"request {target}/{type}")

    def emit(self, type: str, data: Payload = None, *, timeout: Optional[float] = None,
             source: Optional[str] = None, criticality: int = Criticality.DEFAULT,
             content_type: Optional[str] = None) -> None:
        """Emit a local event through the coordinator and wait for its acknowledgement."""
        ty = cstr(type, "type")
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(timeout, criticality, False, source, ctype)
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_client_emit(h, ty, payload, len(payload),
                                              ctypes.byref(opts), ctypes.byref(res))
        outcome(rv, res.value, f"emit {type}")

    def emit_to(self, target: str, type: str, data: Payload = None, *,
                timeout: Optional[float] = None, source: Optional[str] = None,
                criticality: int = Criticality.DEFAULT,
                content_type: Optional[str] = None) -> None:
        """Send an external event to one component (as the gateway does with a WebSocket
        client's message) and wait for the acknowledgement: the target's on_event sees it
        with Event.external True. NotFound when target is not registered,
        FailedPrecondition when it takes no events."""
        ct, ty = cstr(target, "target"), cstr(type, "type")
        payload, ctype = encode_payload(data, content_type)
        opts = call_options(timeout, criticality, False, source, ctype)
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_client_emit_to(h, ct, ty, payload, len(payload),
                                                 ctypes.byref(opts), ctypes.byref(res))
        outcome(rv, res.value, f"emit {type} to {target}")

    def admin(self, command: str, *args: str, timeout: Optional[float] = None) -> Any:
        """Send an operator command to the coordinator ("mode SAFE", "breaker comp open",
        "policy comp max_attempts=1", "checkpoint list", ...; see genesis_coordinator_admin)
        and return its JSON answer, parsed."""
        from .coordinator import admin_args

        cmd, array, n = admin_args(command, args)
        ms = timeout_ms(timeout)
        res = _lib.result_p()
        with self._use() as h:
            rv = _lib.lib.genesis_client_admin(h, cmd, array, n, ms, ctypes.byref(res))
        result = outcome(rv, res.value, f"admin {command}")
        return result.json() if result.data else None

    def status(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """The coordinator's JSON status report as a dict."""
        res = _lib.result_p()
        ms = timeout_ms(timeout)
        with self._use() as h:
            rv = _lib.lib.genesis_client_status(h, ms, ctypes.byref(res))
        parsed: Dict[str, Any] = json.loads(outcome(rv, res.value, "status").data)
        return parsed

    def subscribe(self, prefix: str = "", callback: Optional[Callable[[Event], Any]] = None, *,
                  queue_size: int = 1024) -> Subscription:
        """Receive bus events whose topic starts with prefix ("local:", "local:status_update",
        "external:", "" for all). With a callback, it runs on a worker thread, one event at a
        time; without one, iterate over the returned Subscription. Needs an event_bus URL."""
        cprefix = cstr(prefix, "prefix")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable as callback(event)")
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        sub = Subscription(self, prefix, callback, queue_size)
        with self._use() as ptr:
            with self._lock:
                if self._router_key is None:
                    self._router_key = _dispatch.hold(self._router)
                    self._keys.append(self._router_key)
                key = self._router_key
            with self._router.lock:
                self._router.subs.append(sub)
            try:
                check(_lib.lib.genesis_client_subscribe(ptr, cprefix,
                                                        _dispatch._event_trampoline, key),
                      f"subscribe {prefix!r}")
            except BaseException:
                self._forget(sub)
                raise
            return sub

    def _forget(self, sub: Subscription) -> None:
        with self._router.lock:
            if sub in self._router.subs:
                self._router.subs.remove(sub)

    @property
    def events_lost(self) -> int:
        """Bus events missed so far (sequence gaps plus local queue drops in C)."""
        with self._use() as h:
            return int(_lib.lib.genesis_client_get_events_lost(h))

    def close(self) -> None:
        """Cancel outstanding requests (they fail with Cancelled), close the sockets, free;
        ends every subscription. An emit() or status() running in another thread is waited
        for (their deadlines bound them)."""
        super().close()
        with self._router.lock:
            subs = list(self._router.subs)
        for sub in subs:
            sub.close()
