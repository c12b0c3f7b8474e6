"""Genesis from Python: a ctypes binding over libgenesis's stable C ABI (libgenesis.so.1).

Three roles, as in C:
  - Coordinator: embed a coordinator and register components written in Python;
  - Client: request, emit, status, admin and subscribe against a coordinator over NNG;
  - Service: serve a component from this process to a coordinator elsewhere.
genesis.aio has the same three for asyncio, with cancellable awaitables.

Failures raise GenesisError subclasses, one per status (NotFound, Unavailable, ...), carrying
status, reason and message. Handlers run on the library's worker threads; an exception in a
handler becomes an error reply, never a crash. Every handle is a context manager; handles still
open at interpreter exit are closed by an atexit hook; a closed handle raises Closed.
"""

from ._lib import ABI_VERSION, LibraryNotFound, library_path
from ._lib import lib as _clib
from .client import Client, Subscription
from .coordinator import (AdminHandler, Coordinator, EmitOutcome, EventHandler, RequestHandler,
                          RestoreHandler, SnapshotHandler)
from .errors import (Aborted, AlreadyExists, Cancelled, Closed, DataLoss, DeadlineExceeded,
                     FailedPrecondition, GenesisError, Internal, InvalidArgument, NotFound,
                     OutOfRange, PermissionDenied, Reason, ResourceExhausted, Status,
                     Unauthenticated, Unavailable, Unimplemented, Unknown, reason_name,
                     status_name)
from .messages import Criticality, Event, LogLevel, Payload, Reply, Request, Result, log_to
from .resilience import (BreakerState, CheckpointInfo, ChildReport, ComponentStats, Fault, Mode,
                         Policy, breaker_state_name, mode_name)
from .service import Service


def library_version() -> str:
    """The version string of the loaded libgenesis, e.g. "0.1.0"."""
    return bytes(_clib.genesis_version_string()).decode()


def library_version_number() -> int:
    """The loaded libgenesis's version as MAJOR*10000 + MINOR*100 + PATCH."""
    return int(_clib.genesis_version_number())


__all__ = [
    "ABI_VERSION", "Aborted", "AdminHandler", "AlreadyExists", "BreakerState", "Cancelled",
    "CheckpointInfo", "ChildReport", "Client", "Closed", "ComponentStats", "Coordinator",
    "Criticality", "DataLoss", "DeadlineExceeded", "EmitOutcome", "Event", "EventHandler",
    "FailedPrecondition", "Fault", "GenesisError", "Internal", "InvalidArgument",
    "LibraryNotFound", "LogLevel", "Mode", "NotFound", "OutOfRange", "Payload",
    "PermissionDenied", "Policy", "Reason", "Reply", "Request", "RequestHandler",
    "ResourceExhausted", "RestoreHandler", "Result", "Service", "SnapshotHandler", "Status",
    "Subscription", "Unauthenticated", "Unavailable", "Unimplemented", "Unknown",
    "breaker_state_name", "library_path", "library_version", "library_version_number",
    "log_to", "mode_name", "reason_name", "status_name",
]
