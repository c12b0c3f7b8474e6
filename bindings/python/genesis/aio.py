"""Genesis for asyncio: Client, Service and Coordinator whose calls are awaitables.

    import asyncio, genesis.aio

    async def main() -> None:
        async with genesis.aio.Client("tcp://127.0.0.1:7400") as cl:
            replies = await asyncio.gather(*(cl.request("comp2", "ping") for _ in range(500)))

Requests are started in the C library without a thread per call: the completion callback
resolves an asyncio future on the loop that awaits it, so thousands can be in flight.

Cancellation: cancelling a request's awaitable (task.cancel(), asyncio.wait_for's timeout,
a TaskGroup failing) raises CancelledError in the awaiting task at once, and the request is
abandoned: its reply, when it comes, is freed and dropped, and nothing of it reaches Python.
When the handler is a coroutine of an aio.Coordinator or aio.Service in this process, it is
cancelled too (CancelledError inside it; a handler that had not started yet does not start).
Elsewhere it cannot be: NNG's request/reply protocol has no cancel message, so a handler in
another process keeps running until it finishes or its deadline passes (handlers see the
deadline in Request.remaining_ms); pass a timeout to bound that. Calls the C library only
offers blocking (emit, status, admin, checkpoint_now, connect, close) run on the loop's
default executor; cancelling them stops the wait, and the call completes in the background
within its deadline.

Handlers may be plain functions (they run on the library's worker threads) or coroutine
functions: those run on the event loop the Service or Coordinator was created on, and the
worker thread waits for them (at most until the request's deadline). A handler coroutine
must therefore never wait for something that only the blocked worker could provide.

Thread safety: these objects belong to the event loop they were created on; call them from
that loop's thread. Closing them is a coroutine (await close(), or async with), because it
waits for running handlers, which may need the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import itertools
import random
import threading
from concurrent.futures import Future
from types import TracebackType
from typing import (Any, Awaitable, Callable, Dict, List, Optional, Set, Type, TypeVar,
                    Union)

from . import client as _client
from . import coordinator as _coordinator
from . import service as _service
from .errors import Cancelled, DeadlineExceeded, GenesisError
from .messages import Criticality, Event, Payload, Request, Result, Urls
from .resilience import BreakerState, CheckpointInfo, ComponentStats, Fault, Mode, Policy

T = TypeVar("T")
_A = TypeVar("_A", bound="_AsyncHandle")

#: An async request handler: gets a Request, returns the reply payload (as for the sync API).
AsyncRequestHandler = Callable[[Request], Awaitable[Any]]


async def _await_call(future: "Future[T]") -> T:
    """Await a concurrent Future resolved by a C completion callback."""
    return await asyncio.wrap_future(future)


async def _in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))


class _InFlight:
    """Coroutine handlers running in this process, by request id, so that cancelling a
    request's awaitable also cancels its handler when that runs here (an aio.Coordinator's or
    aio.Service's). Ids of cancelled requests are remembered until their outcome arrives, so a
    handler that had not started yet refuses to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Dict[int, "Set[concurrent.futures.Future[Any]]"] = {}
        self._cancelled: Set[int] = set()
        self._ids = itertools.count(random.getrandbits(62) | (1 << 62))

    def new_id(self) -> int:
        """A request id unlikely to meet one the coordinator assigns (those count from 1)."""
        with self._lock:
            return next(self._ids)

    def cancelled(self, rid: int) -> bool:
        with self._lock:
            return rid in self._cancelled

    def start(self, rid: int, future: "concurrent.futures.Future[Any]") -> bool:
        with self._lock:
            if rid in self._cancelled:
                return False
            self._running.setdefault(rid, set()).add(future)
            return True

    def finish(self, rid: int, future: "concurrent.futures.Future[Any]") -> None:
        with self._lock:
            running = self._running.get(rid)
            if running is not None:
                running.discard(future)
                if not running:
                    del self._running[rid]

    def cancel(self, rid: int) -> None:
        with self._lock:
            self._cancelled.add(rid)
            running = list(self._running.get(rid, ()))
        for future in running:
            future.cancel()  # the coroutine gets CancelledError on its loop

    def forget(self, rid: int) -> None:
        with self._lock:
            self._cancelled.discard(rid)


_in_flight = _InFlight()


async def _cancellable(start: Callable[[int], "Future[Result]"], request_id: int) -> Result:
    """Start a request under a known id and await it; on cancellation, cancel its handler too
    when that runs in this process."""
    rid = request_id or _in_flight.new_id()
    future = start(rid)
    try:
        return await _await_call(future)
    except asyncio.CancelledError:
        _in_flight.cancel(rid)
        future.add_done_callback(lambda _: _in_flight.forget(rid))
        raise


def _request_bridge(loop: asyncio.AbstractEventLoop, fn: Any) -> Any:
    """A request handler for a library worker thread: a coroutine function runs on loop and
    the worker waits for it, at most until the request's deadline; a plain callable is
    returned as it is."""
    if not inspect.iscoroutinefunction(fn):
        return fn

    def on_request(req: Request) -> Any:
        if _in_flight.cancelled(req.id):
            raise Cancelled("the caller cancelled the request")
        future = asyncio.run_coroutine_threadsafe(fn(req), loop)
        if not _in_flight.start(req.id, future):
            future.cancel()
            raise Cancelled("the caller cancelled the request")
        try:
            return future.result(timeout=req.remaining_ms / 1000 if req.remaining_ms else 0)
        except concurrent.futures.TimeoutError:
            future.cancel()  # the coroutine gets CancelledError on the loop
            raise DeadlineExceeded(f"async handler did not finish within {req.remaining_ms} ms")
        except concurrent.futures.CancelledError:
            raise Cancelled("the caller cancelled the request") from None
        finally:
            _in_flight.finish(req.id, future)

    return on_request


def _bridge_handlers(loop: asyncio.AbstractEventLoop, on_request: Any,
                     on_event: Any, **extra: Any) -> Dict[str, Any]:
    """Every callable of a component, bridged to loop (an object's methods too)."""
    if hasattr(on_request, "on_request"):
        obj = on_request
        on_request = obj.on_request
        on_event = on_event or getattr(obj, "on_event", None)
        for name in ("snapshot", "restore"):
            if extra.get(name) is None and getattr(obj, name, None) is not None:
                extra[name] = getattr(obj, name)
    bridged = {"on_request": _request_bridge(loop, on_request)}
    if on_event is not None:
        bridged["on_event"] = _event_bridge(loop, on_event)
    for name, fn in extra.items():
        bridged[name] = _bridge_any(loop, fn) if fn is not None else None
    return bridged


def _event_bridge(loop: asyncio.AbstractEventLoop, fn: Any) -> Any:
    if not inspect.iscoroutinefunction(fn):
        return fn

    def on_event(ev: Event) -> None:
        # Events are delivered one at a time: wait, so their order holds.
        asyncio.run_coroutine_threadsafe(fn(ev), loop).result()

    return on_event


def _bridge_any(loop: asyncio.AbstractEventLoop, fn: Any) -> Any:
    if not inspect.iscoroutinefunction(fn):
        return fn

    def call(*args: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(fn(*args), loop).result()

    return call


class AsyncSubscription:
    """Bus events for `async for event in subscription`. Events wait in a bounded queue on the
    loop; when it is full new ones are dropped and counted in `dropped`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue_size: int) -> None:
        self._loop = loop
        self._queue: "asyncio.Queue[Optional[Event]]" = asyncio.Queue(maxsize=queue_size)
        self._sync: Optional[_client.Subscription] = None
        self.dropped = 0

    def _put(self, event: Optional[Event]) -> None:  # on the loop
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    def _deliver(self, event: Event) -> None:  # on a library thread
        try:
            self._loop.call_soon_threadsafe(self._put, event)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    async def get(self) -> Event:
        """The next event; raises StopAsyncIteration once the subscription is closed."""
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)  # later get() calls end too
            raise StopAsyncIteration
        return event

    def __aiter__(self) -> "AsyncSubscription":
        return self

    async def __anext__(self) -> Event:
        return await self.get()

    def close(self) -> None:
        """Stop delivering and end the iteration (events still queued are discarded)."""
        if self._sync is not None:
            self._sync.close()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)


class _AsyncHandle:
    _sync: Any

    @property
    def closed(self) -> bool:
        """True once close() has started."""
        return bool(self._sync.closed)

    async def close(self) -> None:
        """Close the underlying handle without blocking the loop (handlers may need it)."""
        await _in_thread(self._sync.close)

    async def __aenter__(self: _A) -> _A:
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.close()


class Client(_AsyncHandle):
    """genesis.Client for asyncio. Keyword arguments are those of genesis.Client."""

    _sync: _client.Client

    def __init__(self, front_door: Optional[Urls] = None, event_bus: Optional[Urls] = None,
                 **options: Any) -> None:
        self._sync = _client.Client(front_door, event_bus, **options)
        self._subs: List[AsyncSubscription] = []

    @property
    def sync(self) -> _client.Client:
        """The blocking client underneath (for calls this class does not wrap)."""
        return self._sync

    async def request(self, target: str, type: str, data: Payload = None, *,
                      timeout: Optional[float] = None, criticality: int = Criticality.DEFAULT,
                      idempotent: bool = False, source: Optional[str] = None,
                      content_type: Optional[str] = None, request_id: int = 0) -> Result:
        """Request a component through the coordinator; cancellable (see the module doc).
        Without a coordinator it waits for one until the deadline (DeadlineExceeded,
        reason UNREACHABLE), as genesis.Client.request does."""
        return await _cancellable(
            lambda rid: self.sync.request_async(target, type, data, timeout=timeout,
                                                criticality=criticality, idempotent=idempotent,
                                                source=source, content_type=content_type,
                                                request_id=rid), request_id)

    async def emit(self, type: str, data: Payload = None, **kw: Any) -> None:
        """Emit a local event through the coordinator and wait for the acknowledgement."""
        await _in_thread(self.sync.emit, type, data, **kw)

    async def emit_to(self, target: str, type: str, data: Payload = None, **kw: Any) -> None:
        """Send an external event to one component and wait for the acknowledgement."""
        await _in_thread(self.sync.emit_to, target, type, data, **kw)

    async def status(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """The coordinator's status report."""
        return await _in_thread(self.sync.status, timeout)

    async def admin(self, command: str, *args: str, timeout: Optional[float] = None) -> Any:
        """An operator command, as genesis.Client.admin."""
        return await _in_thread(self.sync.admin, command, *args, timeout=timeout)

    def subscribe(self, prefix: str = "", *, queue_size: int = 1024) -> AsyncSubscription:
        """Bus events whose topic starts with prefix, for `async for`."""
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        sub = AsyncSubscription(asyncio.get_running_loop(), queue_size)
        sub._sync = self.sync.subscribe(prefix, sub._deliver)
        self._subs.append(sub)
        return sub

    @property
    def events_lost(self) -> int:
        """Bus events missed so far."""
        return self.sync.events_lost

    async def close(self) -> None:
        """Close the client: outstanding requests fail with Cancelled, subscriptions end."""
        await super().close()
        for sub in self._subs:
            sub.close()


class Coordinator(_AsyncHandle):
    """genesis.Coordinator for asyncio. Keyword arguments are those of genesis.Coordinator.
    Create it inside a running event loop: coroutine handlers run on that loop."""

    _sync: _coordinator.Coordinator

    def __init__(self, **options: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._sync = _coordinator.Coordinator(**options)

    @property
    def sync(self) -> _coordinator.Coordinator:
        """The blocking coordinator underneath (every other method is there)."""
        return self._sync

    def listen(self, front_door: str, event_bus: Optional[str] = None) -> None:
        """Serve the front door and the event bus (does not block)."""
        self.sync.listen(front_door, event_bus)

    @property
    def front_door_url(self) -> str:
        return self.sync.front_door_url

    @property
    def event_bus_url(self) -> str:
        return self.sync.event_bus_url

    async def register(self, id: str, on_request: Any, on_event: Any = None, *,
                       snapshot: Any = None, restore: Any = None) -> None:
        """Register a component whose callables may be coroutine functions (run on this
        loop). Awaitable because registering runs restore (which may need the loop)."""
        h = _bridge_handlers(self._loop, on_request, on_event, snapshot=snapshot,
                             restore=restore)
        await _in_thread(self.sync.register, id, h["on_request"], h.get("on_event"),
                         snapshot=h.get("snapshot"), restore=h.get("restore"))

    async def unregister(self, id: str) -> None:
        """Remove a component (waits for its running callbacks, off the loop)."""
        await _in_thread(self.sync.unregister, id)

    async def request(self, target: str, type: str, data: Payload = None, *,
                      timeout: Optional[float] = None, criticality: int = Criticality.DEFAULT,
                      idempotent: bool = False, source: Optional[str] = None,
                      content_type: Optional[str] = None, request_id: int = 0) -> Result:
        """Request a component; cancellable (see the module doc)."""
        return await _cancellable(
            lambda rid: self.sync.request_async(target, type, data, timeout=timeout,
                                                criticality=criticality, idempotent=idempotent,
                                                source=source, content_type=content_type,
                                                request_id=rid), request_id)

    def emit(self, type: str, data: Payload = None, **kw: Any) -> _coordinator.EmitOutcome:
        """Emit a local event (never blocks, so not a coroutine)."""
        return self.sync.emit(type, data, **kw)

    def emit_external(self, type: str, data: Payload = None, **kw: Any) -> None:
        """Publish an external event (never blocks)."""
        self.sync.emit_external(type, data, **kw)

    async def status(self) -> Dict[str, Any]:
        return await _in_thread(self.sync.status)

    def stats(self) -> Dict[str, int]:
        return self.sync.stats()

    async def admin(self, command: str, *args: str) -> Any:
        """An operator command, as genesis.Coordinator.admin."""
        return await _in_thread(self.sync.admin, command, *args)

    def set_policy(self, id: Optional[str], policy: Optional[Policy]) -> None:
        self.sync.set_policy(id, policy)

    def get_policy(self, id: Optional[str] = None) -> Policy:
        return self.sync.get_policy(id)

    @property
    def mode(self) -> Union[Mode, int]:
        return self.sync.mode

    def set_mode(self, mode: Mode) -> None:
        self.sync.set_mode(mode)

    def set_breaker(self, id: str, state: BreakerState) -> None:
        self.sync.set_breaker(id, state)

    def component_stats(self, id: str) -> ComponentStats:
        return self.sync.component_stats(id)

    def inject_fault(self, id: str, fault: Optional[Fault]) -> None:
        self.sync.inject_fault(id, fault)

    async def checkpoint_now(self, id: str) -> int:
        """Snapshot id now and wait until durable (the snapshot may run on this loop)."""
        return await _in_thread(self.sync.checkpoint_now, id)

    def checkpoint_info(self, id: str) -> CheckpointInfo:
        return self.sync.checkpoint_info(id)


class Service(_AsyncHandle):
    """genesis.Service for asyncio; handlers may be coroutine functions (run on the loop the
    service was created on). Keyword arguments are those of genesis.Service."""

    _sync: _service.Service

    def __init__(self, id: str, on_request: Any, on_event: Any = None, *,
                 restore: Any = None, **options: Any) -> None:
        self._loop = asyncio.get_running_loop()
        h = _bridge_handlers(self._loop, on_request, on_event, restore=restore)
        self._sync = _service.Service(id, h["on_request"], h.get("on_event"),
                                      restore=h.get("restore"), **options)

    @property
    def sync(self) -> _service.Service:
        """The blocking service underneath."""
        return self._sync

    @property
    def id(self) -> str:
        return self.sync.id

    def listen(self, url: str) -> str:
        """Listen for the coordinator on url; returns the bound URL (does not block)."""
        return self.sync.listen(url)

    async def connect(self, front_door: Urls, event_bus: Optional[Urls] = None,
                      timeout: Optional[float] = None) -> None:
        """Register with the coordinator (restore, if any, runs on this loop meanwhile)."""
        await _in_thread(self.sync.connect, front_door, event_bus, timeout)

    async def emit(self, type: str, data: Payload = None, **kw: Any) -> None:
        await _in_thread(self.sync.emit, type, data, **kw)

    async def checkpoint(self, state: Payload, timeout: Optional[float] = None) -> int:
        """Store state durably in the coordinator; returns the generation."""
        return await _in_thread(self.sync.checkpoint, state, timeout)

    def inject_fault(self, fault: Optional[Fault]) -> None:
        self.sync.inject_fault(fault)

    @property
    def requests_served(self) -> int:
        return self.sync.requests_served


__all__ = ["AsyncRequestHandler", "AsyncSubscription", "Client", "Coordinator", "GenesisError",
           "Service"]
