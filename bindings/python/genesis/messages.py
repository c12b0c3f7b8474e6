"""Requests, replies, results and events as Python values.

Every object the C library lends to a callback is copied into one of these before the callback
runs, so they stay valid after it returns. Payloads are bytes; helpers decode text and JSON.
"""

from __future__ import annotations

import ctypes
import enum
import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

from . import _lib
from .errors import GenesisError, Status

#: What a payload argument may be: bytes-like (sent as is), str (UTF-8, text/plain),
#: a dict or list (JSON, application/json) or None (empty).
Payload = Union[bytes, bytearray, memoryview, str, dict, list, None]


class Criticality(enum.IntEnum):
    """Google SRE criticality of a request or event; degradation modes shed from the bottom."""

    DEFAULT = 0
    CRITICAL = 1
    SHEDDABLE = 2


class LogLevel(enum.IntEnum):
    """genesis_log_level: messages above the configured level are dropped."""

    ERROR = 0
    WARN = 1
    INFO = 2
    DEBUG = 3


def log_to(logger: Any) -> Callable[[int, str], None]:
    """A log sink for Coordinator/Service(log=...) that writes to a logging.Logger."""
    import logging

    levels: Dict[int, int] = {LogLevel.ERROR: logging.ERROR, LogLevel.WARN: logging.WARNING,
              LogLevel.INFO: logging.INFO, LogLevel.DEBUG: logging.DEBUG}

    def sink(level: int, message: str) -> None:
        logger.log(levels.get(level, logging.DEBUG), "%s", message)

    return sink


def encode_payload(data: Payload, content_type: Optional[str]) -> Tuple[bytes, Optional[str]]:
    """The bytes and media type for a payload argument (see Payload)."""
    if data is None:
        return b"", content_type
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), content_type
    if isinstance(data, str):
        return data.encode("utf-8"), content_type or "text/plain"
    if isinstance(data, (dict, list)):
        return json.dumps(data).encode("utf-8"), content_type or "application/json"
    raise TypeError(f"payload must be bytes, str, dict, list or None, not {type(data).__name__}")


class _Body:
    data: bytes
    content_type: str

    def text(self, encoding: str = "utf-8") -> str:
        """The payload decoded as text (invalid bytes replaced)."""
        return self.data.decode(encoding, "replace")

    def json(self) -> Any:
        """The payload parsed as JSON (raises ValueError when it is not JSON)."""
        return json.loads(self.data)


@dataclass(frozen=True)
class Request(_Body):
    """A request as a component's handler sees it."""

    type: str
    source: str
    target: str
    data: bytes
    content_type: str
    criticality: int
    remaining_ms: int  #: milliseconds left before the caller's deadline when the handler began
    id: int  #: end-to-end correlation id (for logs)

    @staticmethod
    def _from_c(req: int) -> "Request":
        lib = _lib.lib
        size = ctypes.c_size_t()
        ptr = lib.genesis_request_data(req, ctypes.byref(size))
        return Request(
            type=_text(lib.genesis_request_type(req)),
            source=_text(lib.genesis_request_source(req)),
            target=_text(lib.genesis_request_target(req)),
            data=_lib.read_bytes(ptr, size),
            content_type=_text(lib.genesis_request_content_type(req)),
            criticality=lib.genesis_request_criticality(req),
            remaining_ms=lib.genesis_request_remaining_ms(req),
            id=lib.genesis_request_id(req),
        )


@dataclass(frozen=True)
class Event(_Body):
    """A local or external event."""

    type: str
    source: str
    data: bytes
    content_type: str
    sequence: int
    external: bool

    @property
    def topic(self) -> str:
        """The event-bus topic: "local:<type>" or "external:<type>"."""
        return ("external:" if self.external else "local:") + self.type

    @staticmethod
    def _from_c(ev: int) -> "Event":
        lib = _lib.lib
        size = ctypes.c_size_t()
        ptr = lib.genesis_event_data(ev, ctypes.byref(size))
        return Event(
            type=_text(lib.genesis_event_type(ev)),
            source=_text(lib.genesis_event_source(ev)),
            data=_lib.read_bytes(ptr, size),
            content_type=_text(lib.genesis_event_content_type(ev)),
            sequence=lib.genesis_event_sequence(ev),
            external=bool(lib.genesis_event_is_external(ev)),
        )


@dataclass(frozen=True)
class Result(_Body):
    """The successful outcome of a request (failures raise GenesisError instead)."""

    data: bytes
    content_type: str


@dataclass(frozen=True)
class Reply:
    """What a handler may return to choose the reply's media type explicitly."""

    data: Payload = None
    content_type: Optional[str] = None


def _text(value: Optional[bytes]) -> str:
    return value.decode("utf-8", "replace") if value else ""


def take_result(res: Optional[int]) -> Tuple[int, int, str, bytes, str]:
    """Read (status, reason, message, data, content_type) out of a C result and free it."""
    lib = _lib.lib
    try:
        size = ctypes.c_size_t()
        ptr = lib.genesis_result_data(res, ctypes.byref(size))
        return (lib.genesis_result_status(res), lib.genesis_result_reason(res),
                _text(lib.genesis_result_message(res)), _lib.read_bytes(ptr, size),
                _text(lib.genesis_result_content_type(res)))
    finally:
        lib.genesis_result_free(res)


def outcome(rv: int, res: Optional[int], what: str) -> Result:
    """Turn a C call's return value and result into a Result, or raise its GenesisError."""
    if not res:
        # No result: bad parameters (INVALID_ARGUMENT); the thread's last error explains.
        if rv == 0:
            return Result(b"", "")
        detail = _lib.last_error()
        raise GenesisError.create(rv, f"{what}: {detail}" if detail else what)
    status, reason, message, data, content_type = take_result(res)
    if status != Status.OK:
        raise GenesisError.create(status, message, reason)
    return Result(data, content_type)


def cstr(value: Any, what: str) -> bytes:
    """value (a str) as UTF-8 bytes for C; TypeError for another type, ValueError for a NUL."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    data = value.encode("utf-8")
    if b"\0" in data:
        raise ValueError(f"{what} must not contain NUL characters")
    return data


Urls = Union[str, Sequence[str]]
"""One URL, or the URLs of several cluster nodes."""


def url_list(value: Any, what: str) -> Optional[bytes]:
    """A URL, or a list of URLs (the front doors or event buses of several cluster nodes), as
    the C API's comma-separated string; None (and "" or an empty list) for None."""
    if value is None or isinstance(value, str):
        return opt_cstr(value, what)
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{what} must be a str or a list of str, not {type(value).__name__}")
    for url in value:
        if not isinstance(url, str) or not url.strip():
            raise ValueError(f"{what} must list non-empty URL strings, not {url!r}")
    return opt_cstr(",".join(value), what)


def opt_cstr(value: Any, what: str) -> Optional[bytes]:
    """cstr(value), or None for None (and for "")."""
    if value is None:
        return None
    return cstr(value, what) or None


def timeout_ms(timeout: Optional[float], what: str = "timeout") -> int:
    """Seconds (None = the library's default, 0) as the C API's milliseconds."""
    if timeout is None:
        return 0
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {type(timeout).__name__}")
    if not timeout > 0:
        raise ValueError(f"{what} must be positive (seconds)")
    return max(1, min(int(round(timeout * 1000)), 0xFFFFFFFF))


def call_options(timeout: Optional[float], criticality: int, idempotent: bool,
                 source: Optional[str], content_type: Optional[str],
                 request_id: int = 0) -> _lib.CallOptions:
    """A genesis_call_options for one call. timeout is in seconds (None = the default)."""
    opts = _lib.CallOptions()
    rv = _lib.lib.genesis_call_options_init(ctypes.byref(opts), _lib.CALL_OPTIONS_VERSION)
    if rv != 0:
        raise GenesisError.create(rv, "genesis_call_options_init: " + _lib.last_error())
    opts.timeout_ms = timeout_ms(timeout)
    if isinstance(criticality, bool) or not isinstance(criticality, int):
        raise TypeError(f"criticality must be a Criticality, not {type(criticality).__name__}")
    opts.criticality = int(criticality)
    opts.idempotent = 1 if idempotent else 0
    opts.source = opt_cstr(source, "source")
    opts.content_type = opt_cstr(content_type, "content_type")
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        raise TypeError(f"request_id must be an int, not {type(request_id).__name__}")
    if not 0 <= request_id <= 0xFFFFFFFFFFFFFFFF:
        raise ValueError("request_id must fit in 64 bits unsigned")
    opts.request_id = request_id
    return opts
