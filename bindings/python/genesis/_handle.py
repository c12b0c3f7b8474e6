"""The common lifetime of a C handle: deterministic close, context manager, exit safety."""

from __future__ import annotations

import contextlib
import threading
import warnings
from typing import Any, Callable, Iterator, List, Optional, TypeVar

_H = TypeVar("_H", bound="Handle")

from . import _dispatch
from .errors import Closed, FailedPrecondition


class Handle:
    """Owns one C handle and the table keys of everything C may call back with.

    The C library requires its *_free to be the last call on a handle, so every call goes
    through _use(), which counts callers; close() refuses new calls, lets the subclass stop
    the C object (so that blocked calls return), waits for the callers still inside, then
    frees. close() waits for running callbacks, so it must not be called from a Genesis
    callback. It is idempotent, runs at interpreter exit for handles still open, and a
    handle that is garbage-collected open is closed then (with a ResourceWarning).
    """

    _free: Callable[[Any], None]
    _kind = "handle"

    def __init__(self) -> None:
        self._ptr: Optional[int] = None
        self._keys: List[int] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._calls = 0
        self._closing = False

    def _adopt(self, ptr: Optional[int]) -> None:
        self._ptr = ptr
        _dispatch.track(self)

    @contextlib.contextmanager
    def _use(self) -> Iterator[int]:
        """The C handle, valid (not freed) until the with block ends."""
        with self._lock:
            if not self._ptr or self._closing:
                raise Closed(f"the {self._kind} is closed")
            self._calls += 1
            ptr = self._ptr
        try:
            yield ptr
        finally:
            with self._lock:
                self._calls -= 1
                if self._calls == 0:
                    self._idle.notify_all()

    @property
    def closed(self) -> bool:
        """True once close() has started."""
        return not self._ptr or self._closing

    def _before_free(self, ptr: int) -> None:
        """Make calls blocked in C return (a coordinator stops); runs before the wait."""

    def close(self) -> None:
        """Stop and free the C object, then release the Python callables C could call."""
        if _dispatch.in_callback():
            raise FailedPrecondition(f"a {self._kind} cannot be closed from one of its callbacks")
        with self._lock:
            if self._closing or not self._ptr:
                # Another thread is closing it: wait until it is done.
                while self._ptr:
                    self._idle.wait()
                return
            self._closing = True
            ptr = self._ptr
        self._before_free(ptr)
        with self._lock:
            while self._calls:
                self._idle.wait()
            keys, self._keys = self._keys, []
        type(self)._free(ptr)  # releases the GIL; joins the C threads
        for key in keys:
            _dispatch.release(key)
        with self._lock:
            self._ptr = None
            self._idle.notify_all()

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) and not getattr(self, "_closing", True):
            if _dispatch.in_callback():
                return  # cannot join threads from one of them: leaked, C keeps running
            warnings.warn(f"unclosed genesis {self._kind}; use close() or a with block",
                          ResourceWarning, stacklevel=2)
            try:
                self.close()
            except Exception:  # noqa: BLE001 - never raise from __del__
                pass
