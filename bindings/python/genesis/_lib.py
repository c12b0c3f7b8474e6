"""Loading libgenesis and declaring the C ABI for ctypes.

Only this module knows the C declarations. Everything here mirrors
core/include/genesis/*.h at ABI version 1 (libgenesis.so.1); option structs are the
version-1 layouts, which later libraries keep accepting (option structs grow by appending
fields under a new version number).

The library is found, in order: the GENESIS_LIBRARY environment variable (a path to
libgenesis.so*), the build tree next to this package (build/lib/libgenesis.so.1 of the
repository, or $GENESIS_BUILD_DIR/lib), then the system's loader (an installed
libgenesis.so.1).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any, Optional
from ctypes import (
    CFUNCTYPE,
    POINTER,
    c_char,
    c_char_p,
    c_int,
    c_size_t,
    c_uint,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

ABI_VERSION = 1
SONAME = f"libgenesis.so.{ABI_VERSION}"


class LibraryNotFound(ImportError):
    """libgenesis could not be loaded; the message lists every place that was tried."""


def _candidates() -> list[str]:
    found: list[str] = []
    env = os.environ.get("GENESIS_LIBRARY")
    if env:
        found.append(env)
    repo = Path(__file__).resolve().parents[3]  # bindings/python/genesis/_lib.py -> repo
    build = os.environ.get("GENESIS_BUILD_DIR")
    if build:
        found.append(str((repo / build / "lib" / SONAME) if not os.path.isabs(build)
                         else Path(build) / "lib" / SONAME))
    found.append(str(repo / "build" / "lib" / SONAME))
    found.append(SONAME)  # the dynamic loader's search path (installed library)
    name = ctypes.util.find_library("genesis")
    if name:
        found.append(name)
    return found


def _load() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append(f"{path}: no such file")
            continue
        try:
            # CDLL (not PyDLL): every call releases the GIL, so C may block and C worker
            # threads may run Python callbacks meanwhile.
            return ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{path}: {exc}")
    raise LibraryNotFound(
        "cannot load libgenesis (set GENESIS_LIBRARY to the path of libgenesis.so.1, or build "
        "the repository with tools/setup); tried: " + "; ".join(errors))


lib = _load()

# ---- opaque handles ---------------------------------------------------------------------------
coordinator_p = c_void_p
client_p = c_void_p
service_p = c_void_p
result_p = c_void_p
request_p = c_void_p
reply_p = c_void_p
event_p = c_void_p

# ---- callbacks --------------------------------------------------------------------------------
request_fn = CFUNCTYPE(None, request_p, reply_p, c_void_p)
event_fn = CFUNCTYPE(None, event_p, c_void_p)
result_fn = CFUNCTYPE(None, result_p, c_void_p)
log_fn = CFUNCTYPE(None, c_int, c_char_p, c_void_p)

# ---- versioned structs (version-1 layouts) ----------------------------------------------------
CALL_OPTIONS_VERSION = 1
COORDINATOR_OPTIONS_VERSION = 1
CLIENT_OPTIONS_VERSION = 2  # 2: the TLS files
SERVICE_OPTIONS_VERSION = 2  # 2: the TLS files
COMPONENT_VERSION = 1
COORDINATOR_STATS_VERSION = 1


class CallOptions(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("timeout_ms", c_uint32),
        ("criticality", c_int),
        ("idempotent", c_int),
        ("source", c_char_p),
        ("content_type", c_char_p),
    ]


class CoordinatorOptions(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("worker_threads", c_uint),
        ("max_worker_threads", c_uint),
        ("front_door_contexts", c_uint),
        ("max_message_size", c_size_t),
        ("default_timeout_ms", c_uint32),
        ("max_concurrency", c_uint),
        ("max_queued_requests", c_uint),
        ("event_queue_depth", c_uint),
        ("max_components", c_uint),
        ("heartbeat_interval_ms", c_uint32),
        ("heartbeat_misses", c_uint),
        ("log_level", c_int),
        ("log", log_fn),
        ("log_arg", c_void_p),
    ]


class ClientOptions(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("name", c_char_p),
        ("max_message_size", c_size_t),
        ("default_timeout_ms", c_uint32),
        ("worker_threads", c_uint),
        ("tls_ca_file", c_char_p),
        ("tls_cert_file", c_char_p),
        ("tls_key_file", c_char_p),
        ("tls_server_name", c_char_p),
    ]


class ServiceOptions(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("max_concurrency", c_uint),
        ("max_message_size", c_size_t),
        ("heartbeat_interval_ms", c_uint32),
        ("event_queue_depth", c_uint),
        ("log_level", c_int),
        ("log", log_fn),
        ("log_arg", c_void_p),
        ("tls_ca_file", c_char_p),
        ("tls_cert_file", c_char_p),
        ("tls_key_file", c_char_p),
        ("tls_server_name", c_char_p),
    ]


class Component(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("on_request", request_fn),
        ("on_event", event_fn),
        ("arg", c_void_p),
    ]


STATS_FIELDS = (
    "requests", "succeeded", "failed", "timed_out", "rejected", "late_replies",
    "events_emitted", "events_delivered", "events_dropped", "events_published",
    "front_door_messages", "malformed", "components", "in_flight", "listener_restarts",
)


class CoordinatorStats(ctypes.Structure):
    _fields_ = [("version", c_uint)] + [(name, c_uint64) for name in STATS_FIELDS]


# ---- prototypes -------------------------------------------------------------------------------
def _proto(name: str, restype, *argtypes) -> None:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


_size_p = POINTER(c_size_t)
_uint_p = POINTER(c_uint)

# version.h, status.h
_proto("genesis_version_number", c_uint)
_proto("genesis_version_string", c_char_p)
_proto("genesis_strerror", c_char_p, c_int)
_proto("genesis_status_name", c_char_p, c_int)
_proto("genesis_reason_name", c_char_p, c_int)
_proto("genesis_last_error", c_char_p)

# message.h
_proto("genesis_call_options_init", c_int, POINTER(CallOptions), c_uint)
_proto("genesis_result_status", c_int, result_p)
_proto("genesis_result_reason", c_int, result_p)
_proto("genesis_result_message", c_char_p, result_p)
_proto("genesis_result_data", c_void_p, result_p, _size_p)
_proto("genesis_result_content_type", c_char_p, result_p)
_proto("genesis_result_free", None, result_p)
_proto("genesis_request_type", c_char_p, request_p)
_proto("genesis_request_source", c_char_p, request_p)
_proto("genesis_request_target", c_char_p, request_p)
_proto("genesis_request_data", c_void_p, request_p, _size_p)
_proto("genesis_request_content_type", c_char_p, request_p)
_proto("genesis_request_criticality", c_int, request_p)
_proto("genesis_request_remaining_ms", c_uint32, request_p)
_proto("genesis_request_id", c_uint64, request_p)
_proto("genesis_reply_set", c_int, reply_p, c_void_p, c_size_t, c_char_p)
_proto("genesis_reply_error", c_int, reply_p, c_int, c_char_p)
_proto("genesis_event_type", c_char_p, event_p)
_proto("genesis_event_source", c_char_p, event_p)
_proto("genesis_event_data", c_void_p, event_p, _size_p)
_proto("genesis_event_content_type", c_char_p, event_p)
_proto("genesis_event_sequence", c_uint64, event_p)
_proto("genesis_event_is_external", c_int, event_p)

# coordinator.h
_proto("genesis_coordinator_options_init", c_int, POINTER(CoordinatorOptions), c_uint)
_proto("genesis_coordinator_new", c_int, POINTER(coordinator_p), POINTER(CoordinatorOptions))
_proto("genesis_coordinator_listen", c_int, coordinator_p, c_char_p, c_char_p)
_proto("genesis_coordinator_get_url", c_int, coordinator_p, c_int, POINTER(c_char), c_size_t)
_proto("genesis_coordinator_register", c_int, coordinator_p, c_char_p, POINTER(Component))
_proto("genesis_coordinator_unregister", c_int, coordinator_p, c_char_p)
_proto("genesis_coordinator_request", c_int, coordinator_p, c_char_p, c_char_p, c_void_p,
       c_size_t, POINTER(CallOptions), POINTER(result_p))
_proto("genesis_coordinator_request_async", c_int, coordinator_p, c_char_p, c_char_p, c_void_p,
       c_size_t, POINTER(CallOptions), result_fn, c_void_p)
_proto("genesis_coordinator_emit", c_int, coordinator_p, c_char_p, c_void_p, c_size_t,
       POINTER(CallOptions), _uint_p, _uint_p)
_proto("genesis_coordinator_get_stats", c_int, coordinator_p, POINTER(CoordinatorStats))
_proto("genesis_coordinator_status", c_int, coordinator_p, POINTER(result_p))
_proto("genesis_coordinator_stop", c_int, coordinator_p)
_proto("genesis_coordinator_free", None, coordinator_p)

# client.h
_proto("genesis_client_options_init", c_int, POINTER(ClientOptions), c_uint)
_proto("genesis_client_new", c_int, POINTER(client_p), POINTER(ClientOptions))
_proto("genesis_client_dial", c_int, client_p, c_char_p, c_char_p)
_proto("genesis_client_request", c_int, client_p, c_char_p, c_char_p, c_void_p, c_size_t,
       POINTER(CallOptions), POINTER(result_p))
_proto("genesis_client_request_async", c_int, client_p, c_char_p, c_char_p, c_void_p, c_size_t,
       POINTER(CallOptions), result_fn, c_void_p)
_proto("genesis_client_emit", c_int, client_p, c_char_p, c_void_p, c_size_t,
       POINTER(CallOptions), POINTER(result_p))
_proto("genesis_client_status", c_int, client_p, c_uint32, POINTER(result_p))
_proto("genesis_client_subscribe", c_int, client_p, c_char_p, event_fn, c_void_p)
_proto("genesis_client_get_events_lost", c_uint64, client_p)
_proto("genesis_client_free", None, client_p)

# service.h
_proto("genesis_service_options_init", c_int, POINTER(ServiceOptions), c_uint)
_proto("genesis_service_new", c_int, POINTER(service_p), c_char_p, POINTER(Component),
       POINTER(ServiceOptions))
_proto("genesis_service_listen", c_int, service_p, c_char_p)
_proto("genesis_service_get_url", c_int, service_p, POINTER(c_char), c_size_t)
_proto("genesis_service_connect", c_int, service_p, c_char_p, c_char_p, c_uint32)
_proto("genesis_service_emit", c_int, service_p, c_char_p, c_void_p, c_size_t,
       POINTER(CallOptions), POINTER(result_p))
_proto("genesis_service_get_requests_served", c_uint64, service_p)
_proto("genesis_service_free", None, service_p)


def last_error() -> str:
    """The calling thread's genesis_last_error(), decoded."""
    return (lib.genesis_last_error() or b"").decode("utf-8", "replace")


def read_bytes(ptr: int | None, size: c_size_t) -> bytes:
    """Copy size bytes at ptr (a borrowed C buffer) into a Python bytes object."""
    if not ptr or size.value == 0:
        return b""
    return ctypes.string_at(ptr, size.value)


def set_tls(opts: Any, ca: Optional[str], cert: Optional[str], key: Optional[str],
            server_name: Optional[str]) -> None:
    """Fill the TLS fields of client/service options. The library reads the files (and copies
    the name) during *_new, so the bytes only need to live until then: they are kept on opts."""
    opts._tls_keepalive = [p.encode() if p else None for p in (ca, cert, key, server_name)]
    (opts.tls_ca_file, opts.tls_cert_file, opts.tls_key_file,
     opts.tls_server_name) = opts._tls_keepalive
