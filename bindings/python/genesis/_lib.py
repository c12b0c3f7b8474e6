"""Loading libgenesis and declaring the C ABI for ctypes.

Only this module knows the C declarations. Everything here mirrors
core/include/genesis/*.h at ABI version 1 (libgenesis.so.1); option structs are filled for
the versions named below, which later libraries keep accepting (option structs grow by
appending fields under a new version number).

The library is found, in order (the first that loads wins; no environment variable is needed
for an installed Genesis or a wheel):
  1. GENESIS_LIBRARY, a path to libgenesis.so* (explicit override);
  2. the copy a wheel carries inside the package (genesis/_libs/libgenesis.so.1);
  3. the build tree of the repository this package sits in (build/lib, or
     $GENESIS_BUILD_DIR/lib);
  4. the system's loader: an installed libgenesis.so.1 in a directory the loader searches
     (/usr/lib, /usr/local/lib after ldconfig, LD_LIBRARY_PATH);
  5. the lib directories of the prefix this package is installed in, and of this Python's
     prefix (pip install --prefix P next to cmake --install --prefix P, a virtual
     environment);
  6. pkg-config's libdir for genesis (an install under a prefix on PKG_CONFIG_PATH).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
from typing import Any, Callable, List, Optional
from ctypes import (
    CFUNCTYPE,
    POINTER,
    c_char,
    c_char_p,
    c_double,
    c_int,
    c_int64,
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


def _pkg_config_libdir() -> Optional[str]:
    exe = shutil.which("pkg-config")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--variable=libdir", "genesis"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _candidates() -> List[str]:
    found: List[str] = []
    env = os.environ.get("GENESIS_LIBRARY")
    if env:
        found.append(env)
    here = Path(__file__).resolve().parent
    found.append(str(here / "_libs" / SONAME))  # a wheel's own copy
    if len(here.parents) >= 3:
        repo = here.parents[2]  # bindings/python/genesis -> repo
        build = os.environ.get("GENESIS_BUILD_DIR")
        if build:
            found.append(str(Path(build) / "lib" / SONAME if os.path.isabs(build)
                             else repo / build / "lib" / SONAME))
        found.append(str(repo / "build" / "lib" / SONAME))
    found.append(SONAME)  # the dynamic loader's search path (installed library)
    # The prefix this package is installed in: <prefix>/lib/pythonX.Y/site-packages/genesis,
    # or Debian's <prefix>/local/lib/pythonX.Y/dist-packages/genesis.
    site = here.parent
    own = [str(p) for p in site.parents][1:4] if site.name in ("site-packages",
                                                               "dist-packages") else []
    for prefix in dict.fromkeys(own + [sys.prefix, sys.base_prefix]):
        for libdir in ("lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu"):
            found.append(str(Path(prefix) / libdir / SONAME))
    return found


def _late_candidates() -> List[str]:
    """Places that cost a process to find: only tried when the others failed."""
    found: List[str] = []
    libdir = _pkg_config_libdir()
    if libdir:
        found.append(str(Path(libdir) / SONAME))
    name = ctypes.util.find_library("genesis")
    if name:
        found.append(name)
    return found


def _load() -> "tuple[ctypes.CDLL, str]":
    errors: List[str] = []
    for batch in (_candidates, _late_candidates):
        for path in batch():
            if os.sep in path and not os.path.exists(path):
                if path == os.environ.get("GENESIS_LIBRARY"):
                    errors.append(f"{path} (GENESIS_LIBRARY): no such file")
                continue
            try:
                # CDLL (not PyDLL): every call releases the GIL, so C may block and C worker
                # threads may run Python callbacks meanwhile.
                return ctypes.CDLL(path), path
            except OSError as exc:
                errors.append(f"{path}: {exc}")
    raise LibraryNotFound(
        "cannot load libgenesis.so.1: install Genesis (cmake --install, then ldconfig for a "
        "system prefix), install the wheel built by bindings/python/build-wheel, or set "
        "GENESIS_LIBRARY to the library's path; tried: " + ("; ".join(errors) or "nothing"))


lib, _path = _load()


def library_path() -> str:
    """Where the loaded libgenesis came from (a path, or the bare SONAME when the system's
    loader found it)."""
    return _path


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
snapshot_p = c_void_p
snapshot_fn = CFUNCTYPE(c_int, snapshot_p, c_void_p)
restore_fn = CFUNCTYPE(c_int, c_void_p, c_size_t, c_uint64, c_void_p)
admin_fn = CFUNCTYPE(None, c_char_p, POINTER(c_char_p), c_size_t, reply_p, c_void_p)
clock_fn = CFUNCTYPE(c_int64, c_void_p)
random_fn = CFUNCTYPE(c_uint64, c_void_p)

# ---- versioned structs (the layouts of the versions named here) -------------------------------
CALL_OPTIONS_VERSION = 2  # 2: request_id
COORDINATOR_OPTIONS_VERSION = 3  # 2: checkpoints and resilience, 3: the TLS files
CLIENT_OPTIONS_VERSION = 2  # 2: the TLS files
SERVICE_OPTIONS_VERSION = 2  # 2: the TLS files
COMPONENT_VERSION = 3  # 2: snapshot and restore; 3: flags (none used from Python)
COORDINATOR_STATS_VERSION = 1
POLICY_VERSION = 2  # 2: the breaker's classification, windows, adaptive concurrency, hedging
COMPONENT_STATS_VERSION = 2  # 2: window rates, slow and ignored calls, concurrency, hedges
FAULT_VERSION = 1
CHECKPOINT_INFO_VERSION = 1
CHILD_REPORT_VERSION = 1
REASON_SLOTS = 64


class CallOptions(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("timeout_ms", c_uint32),
        ("criticality", c_int),
        ("idempotent", c_int),
        ("source", c_char_p),
        ("content_type", c_char_p),
        ("request_id", c_uint64),
    ]


#: Every field of genesis_policy after version, in declaration order (GENESIS_POLICY_FIELDS).
POLICY_FIELDS = (
    "per_try_timeout_ms", "max_attempts", "backoff_initial_ms", "backoff_multiplier_pct",
    "backoff_max_ms", "budget_max_tokens", "budget_token_ratio_pct", "breaker_failure_rate_pct",
    "breaker_window", "breaker_min_calls", "breaker_consecutive_failures", "breaker_slow_call_ms",
    "breaker_open_ms", "breaker_open_max_ms", "breaker_half_open_probes", "max_concurrency",
    "max_queued", "queue_warn",
    # version 2
    "breaker_slow_call_rate_pct", "breaker_window_ms", "breaker_half_open_rate_pct",
    "breaker_half_open_max_wait_ms", "breaker_active_probe", "breaker_failure_statuses",
    "breaker_ignored_statuses", "breaker_failure_reasons", "breaker_ignored_reasons",
    "breaker_open_multiplier_pct", "breaker_open_reset_ms", "adaptive_concurrency",
    "hedge_percentile",
)


class Policy(ctypes.Structure):
    _fields_ = [("version", c_uint)] + [(name, c_uint32) for name in POLICY_FIELDS]


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
        # version 2
        ("checkpoint_store", c_char_p),
        ("checkpoint_interval_ms", c_uint32),
        ("checkpoint_generations", c_uint),
        ("default_policy", POINTER(Policy)),
        ("critical_types", c_char_p),
        ("safe_mode_pct", c_uint),
        ("emergency_mode_pct", c_uint),
        ("mode_hold_ms", c_uint32),
        ("clock_ms", clock_fn),
        ("random", random_fn),
        ("clock_arg", c_void_p),
        ("admin_faults", c_int),
        # version 3
        ("tls_ca_file", c_char_p),
        ("tls_cert_file", c_char_p),
        ("tls_key_file", c_char_p),
        ("tls_server_name", c_char_p),
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
        ("snapshot", snapshot_fn),
        ("restore", restore_fn),
        # GENESIS_COMPONENT_NONBLOCKING is never set: a Python handler takes the GIL, which can
        # block, so it always runs on a worker.
        ("flags", c_uint),
    ]


STATS_FIELDS = (
    "requests", "succeeded", "failed", "timed_out", "rejected", "late_replies",
    "events_emitted", "events_delivered", "events_dropped", "events_published",
    "front_door_messages", "malformed", "components", "in_flight", "listener_restarts",
)


class CoordinatorStats(ctypes.Structure):
    _fields_ = [("version", c_uint)] + [(name, c_uint64) for name in STATS_FIELDS]


class ComponentStats(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("remote", c_int),
        ("healthy", c_int),
        ("ready", c_int),
        ("breaker_state", c_int),
        ("requests", c_uint64),
        ("succeeded", c_uint64),
        ("failed", c_uint64),
        ("attempts", c_uint64),
        ("retries", c_uint64),
        ("budget_denied", c_uint64),
        ("fail_fast", c_uint64),
        ("breaker_opens", c_uint64),
        ("breaker_transitions", c_uint64),
        ("failures_by_reason", c_uint64 * REASON_SLOTS),
        ("in_flight", c_uint32),
        ("queued", c_uint32),
        ("latency_count", c_uint64),
        ("latency_p50_us", c_uint32),
        ("latency_p90_us", c_uint32),
        ("latency_p99_us", c_uint32),
        ("latency_max_us", c_uint32),
        # version 2
        ("failure_rate_pct", c_double),
        ("slow_call_rate_pct", c_double),
        ("window_calls", c_uint64),
        ("slow_calls", c_uint64),
        ("ignored_calls", c_uint64),
        ("concurrency_limit", c_uint32),
        ("reserved", c_uint32),
        ("hedges", c_uint64),
        ("hedge_wins", c_uint64),
    ]


class Fault(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("error_rate", c_double),
        ("added_latency_ms", c_uint32),
        ("hang", c_int),
        ("crash", c_int),
    ]


class CheckpointInfo(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("generation", c_uint64),
        ("size", c_uint64),
        ("age_ms", c_int64),
        ("written", c_uint64),
        ("failures", c_uint64),
        ("last_reason", c_int),
    ]


class ChildReport(ctypes.Structure):
    _fields_ = [
        ("version", c_uint),
        ("id", c_char_p),
        ("state", c_char_p),
        ("pid", c_int),
        ("restarts", c_uint64),
        ("last_exit", c_char_p),
        ("started_ms", c_int64),
    ]


# ---- prototypes -------------------------------------------------------------------------------
def _proto(name: str, restype: Any, *argtypes: Any) -> None:
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
_proto("genesis_coordinator_emit_external", c_int, coordinator_p, c_char_p, c_void_p, c_size_t,
       POINTER(CallOptions))
_proto("genesis_snapshot_set", c_int, snapshot_p, c_void_p, c_size_t)
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
_proto("genesis_client_emit_to", c_int, client_p, c_char_p, c_char_p, c_void_p, c_size_t,
       POINTER(CallOptions), POINTER(result_p))
_proto("genesis_client_admin", c_int, client_p, c_char_p, POINTER(c_char_p), c_size_t, c_uint32,
       POINTER(result_p))
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
_proto("genesis_service_checkpoint", c_int, service_p, c_void_p, c_size_t, c_uint32,
       POINTER(c_uint64))
_proto("genesis_service_inject_fault", c_int, service_p, POINTER(Fault))
_proto("genesis_service_free", None, service_p)

# resilience.h
_proto("genesis_policy_init", c_int, POINTER(Policy), c_uint)
_proto("genesis_policy_validate", c_int, POINTER(Policy))
_proto("genesis_coordinator_set_policy", c_int, coordinator_p, c_char_p, POINTER(Policy))
_proto("genesis_coordinator_get_policy", c_int, coordinator_p, c_char_p, POINTER(Policy))
_proto("genesis_coordinator_get_mode", c_int, coordinator_p)
_proto("genesis_coordinator_set_mode", c_int, coordinator_p, c_int)
_proto("genesis_mode_name", c_char_p, c_int)
_proto("genesis_coordinator_set_breaker", c_int, coordinator_p, c_char_p, c_int)
_proto("genesis_coordinator_force_breaker_open", c_int, coordinator_p, c_char_p, c_uint32)
_proto("genesis_breaker_state_name", c_char_p, c_int)
_proto("genesis_coordinator_get_component_stats", c_int, coordinator_p, c_char_p,
       POINTER(ComponentStats))
_proto("genesis_fault_init", c_int, POINTER(Fault), c_uint)
_proto("genesis_coordinator_inject_fault", c_int, coordinator_p, c_char_p, POINTER(Fault))
_proto("genesis_coordinator_admin", c_int, coordinator_p, c_char_p, POINTER(c_char_p), c_size_t,
       POINTER(result_p))

# recovery.h
_proto("genesis_coordinator_checkpoint_mark_dirty", c_int, coordinator_p, c_char_p)
_proto("genesis_coordinator_checkpoint_now", c_int, coordinator_p, c_char_p, POINTER(c_uint64))
_proto("genesis_coordinator_get_checkpoint_info", c_int, coordinator_p, c_char_p,
       POINTER(CheckpointInfo))
_proto("genesis_coordinator_get_component_health", c_int, coordinator_p, c_char_p, POINTER(c_int))
_proto("genesis_coordinator_set_admin_handler", c_int, coordinator_p, c_char_p, admin_fn,
       c_void_p)
_proto("genesis_coordinator_report_child", c_int, coordinator_p, POINTER(ChildReport))


def callback(fn_type: Any) -> Callable[[Callable[..., Any]], Any]:
    """Decorator: the function as a C function pointer of the CFUNCTYPE fn_type (kept alive by
    the module that defines it, for the interpreter's lifetime)."""
    def wrap(fn: Callable[..., Any]) -> Any:
        return fn_type(fn)
    return wrap


def null(fn_type: Any) -> Any:
    """A NULL function pointer of the CFUNCTYPE fn_type (an absent optional callback)."""
    return fn_type()


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
