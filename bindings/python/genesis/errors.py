"""Status codes, reasons and the exception that carries them.

Status codes are gRPC's (same names, same numbers); reasons say why in more detail
(BULKHEAD_FULL, DEADLINE_EXCEEDED, COMPONENT_DOWN, ...). Both are append-only in the C
library, so a newer library may report a value this module does not name: such values stay
plain ints, and GenesisError still names them through the library.
"""

from __future__ import annotations

import enum
from typing import Any, Dict, Tuple, Type, Union

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
    STORAGE_FULL = 23
    STORAGE_ERROR = 24
    CHECKPOINT_CORRUPT = 25


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
    return bytes(_lib.lib.genesis_status_name(int(value))).decode()


def reason_name(value: int) -> str:
    """The library's canonical name of a reason, e.g. "BULKHEAD_FULL"."""
    return bytes(_lib.lib.genesis_reason_name(int(value))).decode()


class GenesisError(Exception):
    """A Genesis call failed.

    Attributes:
        status: the gRPC status code (a Status, or an int this module does not name).
        reason: the detailed reason (a Reason, or an int).
        message: the library's explanation, e.g. "no component 'comp9'".

    Raising GenesisError (or a subclass) from a request handler replies with that status and
    message; any other exception replies UNKNOWN with the exception's type and text.
    """

    status: Union[Status, int]
    reason: Union[Reason, int]
    message: str

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

    def __reduce__(self) -> Tuple[Any, Tuple[int, str, int]]:
        # Keeps the error picklable (e.g. across multiprocessing), as its own subclass.
        return (_rebuild, (int(self.status), self.message, int(self.reason)))

    @staticmethod
    def create(status: int, message: str = "", reason: int = Reason.NONE) -> "GenesisError":
        """The GenesisError subclass for status (GenesisError itself for an unknown code)."""
        cls = _BY_STATUS.get(int(status))
        if cls is None:
            return GenesisError(status, message, reason)
        return cls(message, reason)


def _rebuild(status: int, message: str, reason: int) -> GenesisError:
    return GenesisError.create(status, message, reason)


# One class per status code, so `except genesis.NotFound:` catches exactly that status.
# Hierarchy:
#   Exception
#    +-- GenesisError                 every failure a Genesis call reports (status, reason, message)
#         +-- Cancelled               CANCELLED
#         +-- Unknown                 UNKNOWN (also: a handler raised a non-Genesis exception)
#         +-- InvalidArgument         INVALID_ARGUMENT
#         +-- DeadlineExceeded        DEADLINE_EXCEEDED
#         +-- NotFound                NOT_FOUND
#         +-- AlreadyExists           ALREADY_EXISTS
#         +-- PermissionDenied        PERMISSION_DENIED
#         +-- ResourceExhausted       RESOURCE_EXHAUSTED
#         +-- FailedPrecondition      FAILED_PRECONDITION
#         |    +-- Closed             the handle was closed (raised by the binding itself)
#         +-- Aborted                 ABORTED
#         +-- OutOfRange              OUT_OF_RANGE
#         +-- Unimplemented           UNIMPLEMENTED
#         +-- Internal                INTERNAL
#         +-- Unavailable             UNAVAILABLE
#         +-- DataLoss                DATA_LOSS
#         +-- Unauthenticated         UNAUTHENTICATED
#    +-- ImportError
#         +-- LibraryNotFound         libgenesis could not be loaded (genesis._lib)
# Wrong argument types raise the built-in TypeError, values out of range ValueError, before
# anything reaches C.


class _StatusError(GenesisError):
    """Base of the per-status classes: the status is fixed by the class."""

    STATUS: Status = Status.UNKNOWN

    def __init__(self, message: str = "", reason: int = Reason.NONE) -> None:
        super().__init__(self.STATUS, message, reason)


class Cancelled(_StatusError):
    """The call was cancelled (CANCELLED): its handle closed, or its awaitable cancelled."""

    STATUS = Status.CANCELLED


class Unknown(_StatusError):
    """UNKNOWN: e.g. a component's handler raised an exception that is not a GenesisError."""

    STATUS = Status.UNKNOWN


class InvalidArgument(_StatusError):
    """A caller-supplied value is invalid (INVALID_ARGUMENT); the message names it."""

    STATUS = Status.INVALID_ARGUMENT


class DeadlineExceeded(_StatusError):
    """The deadline passed before the call completed (DEADLINE_EXCEEDED)."""

    STATUS = Status.DEADLINE_EXCEEDED


class NotFound(_StatusError):
    """No such component, or nothing stored for it (NOT_FOUND)."""

    STATUS = Status.NOT_FOUND


class AlreadyExists(_StatusError):
    """The component id is taken (ALREADY_EXISTS)."""

    STATUS = Status.ALREADY_EXISTS


class PermissionDenied(_StatusError):
    """PERMISSION_DENIED."""

    STATUS = Status.PERMISSION_DENIED


class ResourceExhausted(_StatusError):
    """A queue, bulkhead, disk or size limit was hit (RESOURCE_EXHAUSTED); see .reason."""

    STATUS = Status.RESOURCE_EXHAUSTED


class FailedPrecondition(_StatusError):
    """The call is not allowed in the current state (FAILED_PRECONDITION)."""

    STATUS = Status.FAILED_PRECONDITION


class Closed(FailedPrecondition):
    """The coordinator, client or service was closed before this call: nothing reached C."""


class Aborted(_StatusError):
    """ABORTED."""

    STATUS = Status.ABORTED


class OutOfRange(_StatusError):
    """OUT_OF_RANGE."""

    STATUS = Status.OUT_OF_RANGE


class Unimplemented(_StatusError):
    """The component does not serve this request type (UNIMPLEMENTED)."""

    STATUS = Status.UNIMPLEMENTED


class Internal(_StatusError):
    """An internal error (INTERNAL)."""

    STATUS = Status.INTERNAL


class Unavailable(_StatusError):
    """The component or coordinator cannot be reached or is stopping (UNAVAILABLE)."""

    STATUS = Status.UNAVAILABLE


class DataLoss(_StatusError):
    """DATA_LOSS."""

    STATUS = Status.DATA_LOSS


class Unauthenticated(_StatusError):
    """A TLS handshake failed or no certificate was presented (UNAUTHENTICATED)."""

    STATUS = Status.UNAUTHENTICATED


_BY_STATUS: Dict[int, Type[_StatusError]] = {
    cls.STATUS: cls for cls in (Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound,
                                AlreadyExists, PermissionDenied, ResourceExhausted,
                                FailedPrecondition, Aborted, OutOfRange, Unimplemented, Internal,
                                Unavailable, DataLoss, Unauthenticated)}


def check(rv: int, what: str) -> None:
    """Raise the GenesisError for a non-zero status returned by a C call (not a result)."""
    if rv != 0:
        detail = _lib.last_error()
        raise GenesisError.create(rv, f"{what}: {detail}" if detail else what)
