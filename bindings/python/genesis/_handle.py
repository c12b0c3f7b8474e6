"""The common lifetime of a C handle: deterministic close, context manager, exit safety."""

from __future__ import annotations

import threading
import warnings
from typing import Any, Callable, List, Optional

from . import _dispatch
from .errors import FailedPrecondition


class Handle:
    """Owns one C handle and the table keys of everything C may call back with.

    close() frees the handle; it waits for running callbacks, so it must not be called from a
    Genesis callback. It is idempotent, runs at interpreter exit for handles still open, and a
    handle that is garbage-collected open is closed then (with a ResourceWarning).
    """

    _free: Callable[[Any], None]
    _kind = "handle"

    def __init__(self) -> None:
        self._ptr: Optional[int] = None
        self._keys: List[int] = []
        self._lock = threading.Lock()

    def _adopt(self, ptr: int) -> None:
        self._ptr = ptr
        _dispatch.track(self)

    def _handle(self) -> int:
        ptr = self._ptr
        if not ptr:
            raise FailedPrecondition(f"the {self._kind} is closed")
        return ptr

    @property
    def closed(self) -> bool:
        """True once close() has run."""
        return not self._ptr

    def close(self) -> None:
        """Stop and free the C object, then release the Python callables C could call."""
        if _dispatch.in_callback():
            raise FailedPrecondition(f"a {self._kind} cannot be closed from one of its callbacks")
        with self._lock:
            ptr, self._ptr = self._ptr, None
            keys, self._keys = self._keys, []
        if ptr:
            type(self)._free(ptr)  # releases the GIL; joins the C threads
        for key in keys:
            _dispatch.release(key)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None):
            if _dispatch.in_callback():
                return  # cannot join threads from one of them: leaked, C keeps running
            warnings.warn(f"unclosed genesis {self._kind}; use close() or a with block",
                          ResourceWarning, stacklevel=2)
            try:
                self.close()
            except Exception:  # noqa: BLE001 - never raise from __del__
                pass
