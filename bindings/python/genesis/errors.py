"""Status codes, reasons and the exception that carries them.

Status codes are gRPC's (same names, same numbers); reasons say why in more detail
(BULKHEAD_FULL, DEADLINE_EXCEEDED, COMPONENT_DOWN, ...). Both are append-only in the C
library, so a newer library may report a value this module does not name: such values stay
plain ints, and GenesisError still names them through the library.
"""

from __future__ import annotations

import enum
from typing import Union

from . import _lib


class Status(enum.IntEnum):
    """gRPC status codes, as genesis_status."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class Reason(enum.IntEnum):
    """Why a call failed, as genesis_reason."""

    NONE = 0
    BREAKER_OPEN = 1
    BULKHEAD_FULL = 2
    SHED_BY_MODE = 3
    RETRY_BUDGET_EXHAUSTED = 4
    DEADLINE_EXCEEDED = 5
    COMPONENT_DOWN = 6
    NOT_FOUND = 7
    ALREADY_REGISTERED = 8
    MALFORMED_MESSAGE = 9
    MESSAGE_TOO_LARGE = 10
    HANDLER_ERROR = 11
    TRANSPORT_ERROR = 12
    SHUTTING_DOWN = 13
    QUEUE_FULL = 14
    INVALID_ARGUMENT = 15
    NO_MEMORY = 16
    UNSUPPORTED_VERSION = 17
    UNKNOWN_MESSAGE = 18
    NO_HANDLER = 19
    TIMEOUT = 20
    UNREACHABLE = 21
    LIMIT_REACHED = 22


def to_status(value: int) -> Union[Status, int]:
    """value as a Status member, or the plain int when this module does not know it."""
    try:
        return Status(value)
    except ValueError:
        return value


def to_reason(value: int) -> Union[Reason, int]:
    """value as a Reason member, or the plain int when this module does not know it."""
    try:
        return Reason(value)
    except ValueError:
        return value


def status_name(value: int) -> str:
    """The library's canonical name of a status code, e.g. "DEADLINE_EXCEEDED"."""
    return _lib.lib.genesis_status_name(int(value)).decode()


def reason_name(value: int) -> str:
    """The library's canonical name of a reason, e.g. "BULKHEAD_FULL"."""
    return _lib.lib.genesis_reason_name(int(value)).decode()


class GenesisError(Exception):
    """A Genesis call failed.

    Attributes:
        status: the gRPC status code (a Status, or an int this module does not name).
        reason: the detailed reason (a Reason, or an int).
        message: the library's explanation, e.g. "no component 'comp9'".

    Raising GenesisError (or a subclass) from a request handler replies with that status and
    message; any other exception replies UNKNOWN with the exception's type and text.
    """

    def __init__(self, status: int, message: str = "", reason: int = Reason.NONE) -> None:
        self.status = to_status(int(status))
        self.reason = to_reason(int(reason))
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        text = status_name(self.status)
        if int(self.reason) != Reason.NONE:
            text += f" ({reason_name(self.reason)})"
        if self.message:
            text += f": {self.message}"
        return text

    def __reduce__(self):  # keeps the error picklable (e.g. across multiprocessing)
        return (_rebuild, (int(self.status), self.message, int(self.reason)))

    @staticmethod
    def create(status: int, message: str = "", reason: int = Reason.NONE) -> "GenesisError":
        """The most specific GenesisError subclass for status."""
        cls = _BY_STATUS.get(int(status), GenesisError)
        if cls is GenesisError:
            return GenesisError(status, message, reason)
        return cls(message, reason)


def _rebuild(status: int, message: str, reason: int) -> GenesisError:
    return GenesisError.create(status, message, reason)


def _subclass(name: str, status: Status, doc: str) -> type:
    def __init__(self, message: str = "", reason: int = Reason.NONE) -> None:
        GenesisError.__init__(self, status, message, reason)

    return type(name, (GenesisError,), {"__init__": __init__, "__doc__": doc,
                                        "STATUS": status})


InvalidArgument = _subclass("InvalidArgument", Status.INVALID_ARGUMENT,
                            "A caller-supplied value is invalid (INVALID_ARGUMENT).")
DeadlineExceeded = _subclass("DeadlineExceeded", Status.DEADLINE_EXCEEDED,
                             "The deadline passed before the call completed.")
NotFound = _subclass("NotFound", Status.NOT_FOUND, "No such component (NOT_FOUND).")
AlreadyExists = _subclass("AlreadyExists", Status.ALREADY_EXISTS,
                          "The component id is taken (ALREADY_EXISTS).")
ResourceExhausted = _subclass("ResourceExhausted", Status.RESOURCE_EXHAUSTED,
                              "A queue or size limit was hit (RESOURCE_EXHAUSTED).")
FailedPrecondition = _subclass("FailedPrecondition", Status.FAILED_PRECONDITION,
                               "The call is not allowed in the current state.")
Unimplemented = _subclass("Unimplemented", Status.UNIMPLEMENTED,
                          "The component does not serve this request type.")
Unavailable = _subclass("Unavailable", Status.UNAVAILABLE,
                        "The component or coordinator cannot be reached or is stopping.")
Cancelled = _subclass("Cancelled", Status.CANCELLED, "The call was cancelled.")
Internal = _subclass("Internal", Status.INTERNAL, "An internal error (INTERNAL).")

_BY_STATUS = {cls.STATUS: cls for cls in (InvalidArgument, DeadlineExceeded, NotFound,
                                           AlreadyExists, ResourceExhausted,
                                           FailedPrecondition, Unimplemented, Unavailable,
                                           Cancelled, Internal)}


def check(rv: int, what: str) -> None:
    """Raise the GenesisError for a non-zero status returned by a C call (not a result)."""
    if rv != 0:
        detail = _lib.last_error()
        raise GenesisError.create(rv, f"{what}: {detail}" if detail else what)
