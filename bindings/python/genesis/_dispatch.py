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
from typing import Any, Callable, Dict, List, Optional

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


#: snapshot() -> the component's state as a payload (bytes, str, dict/list as JSON).
SnapshotFn = Callable[[], Any]
#: restore(data, generation): take back a state handed over earlier; raising refuses it.
RestoreFn = Callable[[bytes, int], Any]


class Handlers:
    """A component's Python callables, held in the table while C may call them."""

    def __init__(self, name: str, on_request: Callable[[Request], Any],
                 on_event: Optional[Callable[[Event], Any]],
                 snapshot: Optional[SnapshotFn] = None,
                 restore: Optional[RestoreFn] = None) -> None:
        self.name = name
        self.on_request = on_request
        self.on_event = on_event
        self.snapshot = snapshot
        self.restore = restore


def handlers_from(name: str, handler: Any, on_event: Optional[Callable[[Event], Any]],
                  snapshot: Optional[SnapshotFn] = None,
                  restore: Optional[RestoreFn] = None) -> Handlers:
    """Handlers from a callable, or from an object with on_request (and on_event, snapshot,
    restore) methods; explicit arguments win over the object's methods."""
    if not isinstance(name, str):
        raise TypeError(f"component id must be a str, not {type(name).__name__}")
    if hasattr(handler, "on_request"):
        on_request = handler.on_request
        on_event = on_event or getattr(handler, "on_event", None)
        snapshot = snapshot or getattr(handler, "snapshot", None)
        restore = restore or getattr(handler, "restore", None)
    else:
        on_request = handler
    if not callable(on_request):
        raise TypeError("a component needs a callable on_request(request) handler")
    for what, fn in (("on_event", on_event), ("snapshot", snapshot), ("restore", restore)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{what} must be callable")
    return Handlers(name, on_request, on_event, snapshot, restore)


def component_struct(key: int, handlers: Handlers) -> _lib.Component:
    """A genesis_component whose callbacks reach the handlers held under key."""
    comp = _lib.Component()
    comp.version = _lib.COMPONENT_VERSION
    comp.on_request = _request_trampoline
    comp.on_event = _event_trampoline if handlers.on_event is not None else _lib.null(_lib.event_fn)
    comp.arg = key
    comp.snapshot = (_snapshot_trampoline if handlers.snapshot is not None
                     else _lib.null(_lib.snapshot_fn))
    comp.restore = (_restore_trampoline if handlers.restore is not None
                    else _lib.null(_lib.restore_fn))
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


@_lib.callback(_lib.request_fn)
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


@_lib.callback(_lib.event_fn)
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


def _status_of(exc: BaseException) -> int:
    return int(exc.status) if isinstance(exc, GenesisError) and exc.status else Status.UNKNOWN


@_lib.callback(_lib.snapshot_fn)
def _snapshot_trampoline(snap: int, arg: Optional[int]) -> int:
    try:
        with _CallbackScope():
            handlers = _lookup(arg)
            if handlers is None or handlers.snapshot is None:
                return int(Status.UNAVAILABLE)
            try:
                data, _ = encode_payload(handlers.snapshot(), None)
            except BaseException as exc:  # noqa: BLE001 - skip this checkpoint, logged by C
                log.warning("snapshot of %s raised", handlers.name, exc_info=True)
                return _status_of(exc)
            return int(_lib.lib.genesis_snapshot_set(snap, data, len(data)))
    except BaseException:  # noqa: BLE001
        _print_unraisable("snapshot callback")
        return int(Status.INTERNAL)


@_lib.callback(_lib.restore_fn)
def _restore_trampoline(data: Optional[int], size: int, generation: int,
                        arg: Optional[int]) -> int:
    try:
        with _CallbackScope():
            handlers = _lookup(arg)
            if handlers is None or handlers.restore is None:
                return int(Status.UNAVAILABLE)
            state = ctypes.string_at(data, size) if data and size else b""
            try:
                handlers.restore(state, int(generation))
            except BaseException as exc:  # noqa: BLE001 - the next older generation is offered
                log.warning("restore of %s (generation %d) raised", handlers.name, generation,
                            exc_info=True)
                return _status_of(exc)
            return 0
    except BaseException:  # noqa: BLE001
        _print_unraisable("restore callback")
        return int(Status.INTERNAL)


#: admin(command, args) -> the reply payload; raising replies with the error.
AdminHandler = Callable[[str, List[str]], Any]


@_lib.callback(_lib.admin_fn)
def _admin_trampoline(command: Optional[bytes], args: Any, nargs: int, reply: int,
                      arg: Optional[int]) -> None:
    try:
        with _CallbackScope():
            handler = _lookup(arg)
            if handler is None:
                _reply_error(reply, Status.UNAVAILABLE, "admin handler removed")
                return
            words = [(args[i] or b"").decode("utf-8", "replace") for i in range(nargs)]
            name = (command or b"").decode("utf-8", "replace")
            try:
                value = handler(name, words)
            except GenesisError as exc:
                _reply_error(reply, exc.status, exc.message)
                return
            except BaseException as exc:  # noqa: BLE001 - every failure becomes a reply
                _reply_error(reply, Status.UNKNOWN,
                             f"admin handler for {name} raised {type(exc).__name__}: {exc}")
                return
            try:
                _set_reply(reply, value)
            except (TypeError, ValueError) as exc:
                _reply_error(reply, Status.INTERNAL,
                             f"admin handler returned an unusable reply: {exc}")
    except BaseException:  # noqa: BLE001
        _print_unraisable("admin handler")


@_lib.callback(_lib.log_fn)
def _log_trampoline(level: int, message: Optional[bytes], arg: Optional[int]) -> None:
    try:
        sink = _lookup(arg)
        if sink is not None:
            sink(level, (message or b"").decode("utf-8", "replace"))
    except BaseException:  # noqa: BLE001 - a log sink must not break the library's thread
        _print_unraisable("log callback")


def set_log(opts: Any, sink: Optional[Callable[[Any, str], Any]]) -> Optional[int]:
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
    def __init__(self, future: "Future[Any]", what: str) -> None:
        self.future = future
        self.what = what


@_lib.callback(_lib.result_fn)
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


def start_async(start: Callable[[Any, int], int], what: str) -> "Future[Any]":
    """Run start(trampoline, key) and return the Future its completion callback resolves."""
    future: "Future[Any]" = Future()
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
_handles: "List[weakref.ref[Any]]" = []
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
