"""Genesis from Python: a ctypes binding over libgenesis's stable C ABI (libgenesis.so.1).

Three roles, as in C:
  - Coordinator: embed a coordinator and register components written in Python;
  - Client: request, emit, status and subscribe against a coordinator over NNG;
  - Service: serve a component from this process to a coordinator elsewhere.

Failures raise GenesisError (status, reason, message). Handlers run on the library's worker
threads; an exception in a handler becomes an error reply, never a crash. Every handle is a
context manager; handles still open at interpreter exit are closed by an atexit hook.
"""

from ._lib import ABI_VERSION, LibraryNotFound
from ._lib import lib as _clib
from .client import Client, Subscription
from .coordinator import Coordinator, EmitOutcome, EventHandler, RequestHandler
from .errors import (AlreadyExists, Cancelled, DeadlineExceeded, FailedPrecondition,
                     GenesisError, Internal, InvalidArgument, NotFound, Reason,
                     ResourceExhausted, Status, Unavailable, Unimplemented, reason_name,
                     status_name)
from .messages import Criticality, Event, LogLevel, Payload, Reply, Request, Result, log_to
from .service import Service


def library_version() -> str:
    """The version string of the loaded libgenesis, e.g. "0.1.0"."""
    return _clib.genesis_version_string().decode()


__all__ = [
    "ABI_VERSION", "AlreadyExists", "Cancelled", "Client", "Coordinator", "Criticality",
    "DeadlineExceeded", "EmitOutcome", "Event", "EventHandler", "FailedPrecondition",
    "GenesisError", "Internal", "InvalidArgument", "LibraryNotFound", "LogLevel", "NotFound",
    "Payload", "Reason", "Reply", "Request", "RequestHandler", "ResourceExhausted", "Result",
    "Service", "Status", "Subscription", "Unavailable", "Unimplemented", "library_version",
    "log_to", "reason_name", "status_name",
]
