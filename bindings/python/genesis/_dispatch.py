"""The bridge between C worker threads and Python callables.

C callbacks receive a `void *arg`; here it is a small integer key into a table of Python
objects, never a pointer to a Python object, so C can hold nothing that Python's garbage
collector might move or free. The ctypes trampolines are module-level objects that live as
long as the interpreter. ctypes acquires the GIL when C calls them from its worker threads.

Every live handle (coordinator, client, service) is tracked so that an atexit hook closes
them, newest first, while the interpreter is still whole: after that no C thread can call
into Python.
"""

from __future__ import annotations

import atexit
import ctypes
import itertools
import logging
import sys
import threading
import traceback
import weakref
from concurrent.futures import Future
from typing import Any, Callable, Dict, Optional

from . import _lib
from .errors import GenesisError, Status
from .messages import Event, Reply, Request, encode_payload, outcome

log = logging.getLogger("genesis")

_keys = itertools.count(1)
_table: Dict[int, Any] = {}
_table_lock = threading.Lock()
_local = threading.local()


def hold(obj: Any) -> int:
    """Keep obj alive under a new key that C passes back as a callback's arg."""
    key = next(_keys)
    with _table_lock:
        _table[key] = obj
    return key


def release(key: int) -> Any:
    """Drop the object held under key (returns it, or None)."""
    with _table_lock:
        return _table.pop(key, None)


def _lookup(key: Optional[int]) -> Any:
    with _table_lock:
        return _table.get(key or 0)


def in_callback() -> bool:
    """True on a thread that is running a Genesis callback right now."""
    return getattr(_local, "depth", 0) > 0


class _CallbackScope:
    def __enter__(self) -> None:
        _local.depth = getattr(_local, "depth", 0) + 1

    def __exit__(self, *exc: object) -> None:
        _local.depth -= 1


class Handlers:
    """A component's Python callables, held in the table while C may call them."""

    def __init__(self, name: str, on_request: Callable[[Request], Any],
                 on_event: Optional[Callable[[Event], Any]]) -> None:
        self.name = name
        self.on_request = on_request
        self.on_event = on_event


def handlers_from(name: str, handler: Any, on_event: Optional[Callable[[Event], Any]]) -> Handlers:
    """Handlers from a callable, or from an object with on_request (and on_event) methods."""
    if hasattr(handler, "on_request"):
        on_request = handler.on_request
        on_event = on_event or getattr(handler, "on_event", None)
    else:
        on_request = handler
    if not callable(on_request):
        raise TypeError("a component needs a callable on_request(request) handler")
    if on_event is not None and not callable(on_event):
        raise TypeError("on_event must be callable")
    return Handlers(name, on_request, on_event)


def component_struct(key: int, with_events: bool) -> _lib.Component:
    """A genesis_component whose callbacks reach the handlers held under key."""
    comp = _lib.Component()
    comp.version = _lib.COMPONENT_VERSION
    comp.on_request = _request_trampoline
    comp.on_event = _event_trampoline if with_events else _lib.event_fn()
    comp.arg = key
    return comp


def _set_reply(reply: int, value: Any) -> None:
    lib = _lib.lib
    if isinstance(value, Reply):
        data, content_type = encode_payload(value.data, value.content_type)
    else:
        data, content_type = encode_payload(value, None)
    rv = lib.genesis_reply_set(reply, data, len(data),
                               content_type.encode() if content_type else None)
    if rv != 0:
        lib.genesis_reply_error(reply, rv, _lib.last_error().encode() or b"reply refused")


def _reply_error(reply: int, status: int, message: str) -> None:
    # The C library refuses OK as an error status; a handler raising GenesisError(OK) is a bug.
    if int(status) == Status.OK:
        status, message = Status.UNKNOWN, "handler raised GenesisError with status OK: " + message
    _lib.lib.genesis_reply_error(reply, int(status), message.encode("utf-8", "replace"))


@_lib.request_fn
def _request_trampoline(req: int, reply: int, arg: Optional[int]) -> None:
    # Nothing may escape: an exception here would only be printed by ctypes, and the caller
    # would see an empty OK reply.
    try:
        with _CallbackScope():
            handlers = _lookup(arg)
            if handlers is None:
                _reply_error(reply, Status.UNAVAILABLE, "component is being unregistered")
                return
            try:
                value = handlers.on_request(Request._from_c(req))
            except GenesisError as exc:
                _reply_error(reply, exc.status, exc.message)
                return
            except BaseException as exc:  # noqa: BLE001 - every failure becomes a reply
                log.debug("handler of %s raised", handlers.name, exc_info=True)
                _reply_error(reply, Status.UNKNOWN,
                             f"handler of {handlers.name} raised {type(exc).__name__}: {exc}")
                return
            try:
                _set_reply(reply, value)
            except (TypeError, ValueError) as exc:
                _reply_error(reply, Status.INTERNAL,
                             f"handler of {handlers.name} returned an unusable reply: {exc}")
    except BaseException:  # noqa: BLE001 - last resort, keep the C thread alive
        _print_unraisable("request handler")


@_lib.event_fn
def _event_trampoline(ev: int, arg: Optional[int]) -> None:
    try:
        with _CallbackScope():
            target = _lookup(arg)
            if target is None:
                return
            event = Event._from_c(ev)
            callback = target.on_event if isinstance(target, Handlers) else target
            if callback is None:
                return
            try:
                callback(event)
            except BaseException:  # noqa: BLE001 - an event has nobody to answer to
                log.warning("event callback for %s raised", event.type, exc_info=True)
    except BaseException:  # noqa: BLE001
        _print_unraisable("event callback")


@_lib.log_fn
def _log_trampoline(level: int, message: Optional[bytes], arg: Optional[int]) -> None:
    try:
        sink = _lookup(arg)
        if sink is not None:
            sink(level, (message or b"").decode("utf-8", "replace"))
    except BaseException:  # noqa: BLE001 - a log sink must not break the library's thread
        _print_unraisable("log callback")


def set_log(opts: Any, sink: Optional[Callable[[int, str], Any]]) -> Optional[int]:
    """Point an options struct's log/log_arg at sink; returns the key to release at close."""
    if sink is None:
        return None
    if not callable(sink):
        raise TypeError("log must be callable as log(level, message)")
    key = hold(lambda level, message: sink(_log_level(level), message))
    opts.log = _log_trampoline
    opts.log_arg = key
    return key


def _log_level(level: int) -> Any:
    from .messages import LogLevel  # late: messages imports this module's siblings

    try:
        return LogLevel(level)
    except ValueError:
        return level


class _Pending:
    def __init__(self, future: Future, what: str) -> None:
        self.future = future
        self.what = what


@_lib.result_fn
def _result_trampoline(res: Optional[int], arg: Optional[int]) -> None:
    try:
        with _CallbackScope():
            pending = release(arg or 0)
            if pending is None:  # cannot happen: every started call holds its entry
                _lib.lib.genesis_result_free(res)
                return
            try:
                value = outcome(Status.RESOURCE_EXHAUSTED, res, pending.what)
            except BaseException as exc:  # noqa: BLE001
                if not pending.future.cancelled():
                    pending.future.set_exception(exc)
                return
            if not pending.future.cancelled():
                pending.future.set_result(value)
    except BaseException:  # noqa: BLE001
        _print_unraisable("completion callback")


def start_async(start: Callable[[Any, int], int], what: str) -> "Future":
    """Run start(trampoline, key) and return the Future its completion callback resolves."""
    future: Future = Future()
    future.set_running_or_notify_cancel()
    key = hold(_Pending(future, what))
    rv = start(_result_trampoline, key)
    if rv != 0:
        release(key)  # the callback will never run
        detail = _lib.last_error()
        raise GenesisError.create(rv, f"{what}: {detail}" if detail else what)
    return future


def _print_unraisable(where: str) -> None:
    try:
        sys.stderr.write(f"genesis: unexpected error in {where}:\n{traceback.format_exc()}")
    except BaseException:  # noqa: BLE001 - stderr may be gone at exit
        pass


# ---- lifetime of handles ----------------------------------------------------------------------
_handles: "list[weakref.ref]" = []
_handles_lock = threading.Lock()


def track(obj: Any) -> None:
    """Close obj at interpreter exit if its owner did not."""
    with _handles_lock:
        _handles[:] = [r for r in _handles if r() is not None]
        _handles.append(weakref.ref(obj))


@atexit.register
def _close_all() -> None:
    with _handles_lock:
        live = [r() for r in reversed(_handles)]
        _handles.clear()
    for obj in live:
        if obj is not None:
            try:
                obj.close()
            except BaseException:  # noqa: BLE001
                _print_unraisable("close at exit")


def string_buffer(fill: Callable[[Any, int], int], what: str) -> str:
    """Call fill(buf, size) with a growing buffer until it fits; return the string."""
    size = 256
    while True:
        buf = ctypes.create_string_buffer(size)
        rv = fill(buf, size)
        if rv == Status.OUT_OF_RANGE and size < 65536:
            size *= 4
            continue
        if rv != 0:
            detail = _lib.last_error()
            raise GenesisError.create(rv, f"{what}: {detail}" if detail else what)
        return buf.value.decode()
