"""Resilience and recovery values: policies, modes, breakers, per-component statistics, faults,
checkpoint information and supervised-process reports (genesis/resilience.h, recovery.h).

These are plain Python values; the Coordinator, Client and Service methods that take or return
them convert to and from the C structs.
"""

from __future__ import annotations

import ctypes
import dataclasses
import enum
from dataclasses import dataclass
from typing import Dict, Optional, Union

from . import _lib
from .errors import Reason, check, to_reason


class Mode(enum.IntEnum):
    """Degradation modes (genesis_mode). AUTO only ends an operator override."""

    AUTO = -1
    NORMAL = 0
    SAFE = 1
    EMERGENCY = 2


class BreakerState(enum.IntEnum):
    """Circuit breaker states (genesis_breaker_state)."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2
    FORCED_OPEN = 3
    DISABLED = 4
    METRICS_ONLY = 5  #: by an operator: admits everything, records outcomes, never opens


def mode_name(mode: int) -> str:
    """The library's name of a mode ("NORMAL", "SAFE", "EMERGENCY", "AUTO")."""
    return bytes(_lib.lib.genesis_mode_name(int(mode))).decode()


def breaker_state_name(state: int) -> str:
    """The library's name of a breaker state ("CLOSED", "OPEN", ...)."""
    return bytes(_lib.lib.genesis_breaker_state_name(int(state))).decode()


def to_mode(value: int) -> Union[Mode, int]:
    try:
        return Mode(value)
    except ValueError:
        return value


def to_breaker_state(value: int) -> Union[BreakerState, int]:
    try:
        return BreakerState(value)
    except ValueError:
        return value


def policy_struct(policy: Optional["Policy"], what: str = "policy") -> Optional["_lib.Policy"]:
    """The C struct of policy (None stays None); TypeError for anything but a Policy."""
    if policy is None:
        return None
    if not isinstance(policy, Policy):
        raise TypeError(f"{what} must be a genesis.Policy or None, not {type(policy).__name__}")
    return policy._to_c()


def fault_struct(fault: Optional["Fault"]) -> Optional["_lib.Fault"]:
    """The C struct of fault (None stays None); TypeError for anything but a Fault."""
    if fault is None:
        return None
    if not isinstance(fault, Fault):
        raise TypeError(f"fault must be a genesis.Fault or None, not {type(fault).__name__}")
    return fault._to_c()


def _policy_defaults() -> "_lib.Policy":
    c = _lib.Policy()
    check(_lib.lib.genesis_policy_init(ctypes.byref(c), _lib.POLICY_VERSION), "genesis_policy_init")
    return c


_D = _policy_defaults()


@dataclass
class Policy:
    """Every knob of one component's resilience (genesis_policy); defaults are the library's.

    See core/include/genesis/resilience.h for each field. Change fields with
    dataclasses.replace(policy, max_attempts=1) or by assignment; validate() checks them as the
    coordinator will.
    """

    per_try_timeout_ms: int = _D.per_try_timeout_ms
    max_attempts: int = _D.max_attempts
    backoff_initial_ms: int = _D.backoff_initial_ms
    backoff_multiplier_pct: int = _D.backoff_multiplier_pct
    backoff_max_ms: int = _D.backoff_max_ms
    budget_max_tokens: int = _D.budget_max_tokens
    budget_token_ratio_pct: int = _D.budget_token_ratio_pct
    breaker_failure_rate_pct: int = _D.breaker_failure_rate_pct
    breaker_window: int = _D.breaker_window
    breaker_min_calls: int = _D.breaker_min_calls
    breaker_consecutive_failures: int = _D.breaker_consecutive_failures
    breaker_slow_call_ms: int = _D.breaker_slow_call_ms
    breaker_open_ms: int = _D.breaker_open_ms
    breaker_open_max_ms: int = _D.breaker_open_max_ms
    breaker_half_open_probes: int = _D.breaker_half_open_probes
    max_concurrency: int = _D.max_concurrency
    max_queued: int = _D.max_queued
    queue_warn: int = _D.queue_warn
    breaker_slow_call_rate_pct: int = _D.breaker_slow_call_rate_pct
    breaker_window_ms: int = _D.breaker_window_ms
    breaker_half_open_rate_pct: int = _D.breaker_half_open_rate_pct
    breaker_half_open_max_wait_ms: int = _D.breaker_half_open_max_wait_ms
    breaker_active_probe: int = _D.breaker_active_probe
    breaker_failure_statuses: int = _D.breaker_failure_statuses  #: bit n = status n
    breaker_ignored_statuses: int = _D.breaker_ignored_statuses
    breaker_failure_reasons: int = _D.breaker_failure_reasons  #: bit n = reason n
    breaker_ignored_reasons: int = _D.breaker_ignored_reasons
    breaker_open_multiplier_pct: int = _D.breaker_open_multiplier_pct
    breaker_open_reset_ms: int = _D.breaker_open_reset_ms
    adaptive_concurrency: int = _D.adaptive_concurrency  #: 0 off, 1 gradient, 2 AIMD
    hedge_percentile: int = _D.hedge_percentile

    def _to_c(self) -> "_lib.Policy":
        c = _policy_defaults()
        for name in _lib.POLICY_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Policy.{name} must be an int, not {type(value).__name__}")
            if not 0 <= value <= 0xFFFFFFFF:
                raise ValueError(f"Policy.{name} must be in 0..4294967295, not {value}")
            setattr(c, name, value)
        return c

    @staticmethod
    def _from_c(c: "_lib.Policy") -> "Policy":
        return Policy(**{name: int(getattr(c, name)) for name in _lib.POLICY_FIELDS})

    def validate(self) -> None:
        """Raise InvalidArgument naming the first bad field (genesis_policy_validate)."""
        c = self._to_c()
        check(_lib.lib.genesis_policy_validate(ctypes.byref(c)), "policy")

    def replace(self, **changes: int) -> "Policy":
        """A copy with the given fields changed."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ComponentStats:
    """One component's statistics (genesis_component_stats)."""

    remote: bool
    healthy: bool
    ready: bool
    breaker_state: Union[BreakerState, int]
    requests: int
    succeeded: int
    failed: int
    attempts: int
    retries: int
    budget_denied: int
    fail_fast: int
    breaker_opens: int
    breaker_transitions: int
    #: failed requests by final reason (only reasons with a non-zero count)
    failures_by_reason: Dict[Union[Reason, int], int]
    in_flight: int
    queued: int
    latency_count: int
    latency_p50_us: int
    latency_p90_us: int
    latency_p99_us: int
    latency_max_us: int
    #: the breaker's window now: failure and slow-call rates in percent of window_calls, or
    #: -1 while window_calls is below breaker_min_calls
    failure_rate_pct: float
    slow_call_rate_pct: float
    window_calls: int
    slow_calls: int  #: attempts slower than breaker_slow_call_ms, ever
    ignored_calls: int  #: outcomes the breaker's classification ignores, ever
    concurrency_limit: int  #: in force: the adaptive limit, else max_concurrency
    hedges: int  #: hedged second attempts started
    hedge_wins: int  #: requests the hedged attempt answered first

    @staticmethod
    def _from_c(c: "_lib.ComponentStats") -> "ComponentStats":
        plain = ("requests", "succeeded", "failed", "attempts", "retries", "budget_denied",
                 "fail_fast", "breaker_opens", "breaker_transitions", "in_flight", "queued",
                 "latency_count", "latency_p50_us", "latency_p90_us", "latency_p99_us",
                 "latency_max_us", "window_calls", "slow_calls", "ignored_calls",
                 "concurrency_limit", "hedges", "hedge_wins")
        values: Dict[str, int] = {name: int(getattr(c, name)) for name in plain}
        return ComponentStats(
            failure_rate_pct=float(c.failure_rate_pct),
            slow_call_rate_pct=float(c.slow_call_rate_pct),
            remote=bool(c.remote), healthy=bool(c.healthy), ready=bool(c.ready),
            breaker_state=to_breaker_state(int(c.breaker_state)),
            failures_by_reason={to_reason(r): int(n) for r, n in enumerate(c.failures_by_reason)
                                if n},
            **values)


@dataclass(frozen=True)
class Fault:
    """A fault to inject (genesis_fault): for tests and chaos runs.

    error_rate: 0..1, attempts that fail UNAVAILABLE without running; added_latency_ms: before
    the handler runs; hang: handlers block until the fault is cleared; crash: an in-process
    component behaves as gone until cleared (a Service kills its own process)."""

    error_rate: float = 0.0
    added_latency_ms: int = 0
    hang: bool = False
    crash: bool = False

    def _to_c(self) -> "_lib.Fault":
        c = _lib.Fault()
        check(_lib.lib.genesis_fault_init(ctypes.byref(c), _lib.FAULT_VERSION),
              "genesis_fault_init")
        if isinstance(self.error_rate, bool) or not isinstance(self.error_rate, (int, float)):
            raise TypeError("Fault.error_rate must be a number, not "
                            f"{type(self.error_rate).__name__}")
        if isinstance(self.added_latency_ms, bool) or not isinstance(self.added_latency_ms, int):
            raise TypeError("Fault.added_latency_ms must be an int")
        if not 0.0 <= float(self.error_rate) <= 1.0:
            raise ValueError(f"Fault.error_rate must be in 0..1, not {self.error_rate}")
        if not 0 <= int(self.added_latency_ms) <= 0xFFFFFFFF:
            raise ValueError(f"Fault.added_latency_ms out of range: {self.added_latency_ms}")
        c.error_rate = float(self.error_rate)
        c.added_latency_ms = int(self.added_latency_ms)
        c.hang = 1 if self.hang else 0
        c.crash = 1 if self.crash else 0
        return c


@dataclass(frozen=True)
class CheckpointInfo:
    """What the coordinator knows about a component's checkpoints (genesis_checkpoint_info)."""

    generation: int  #: newest durable generation, 0 = none
    size: int  #: its size in bytes
    age_ms: int  #: since it was written; -1 when there is none
    written: int  #: checkpoints written by this coordinator
    failures: int  #: writes that failed
    last_reason: Union[Reason, int]  #: reason of the last failure, Reason.NONE if none

    @staticmethod
    def _from_c(c: "_lib.CheckpointInfo") -> "CheckpointInfo":
        return CheckpointInfo(int(c.generation), int(c.size), int(c.age_ms), int(c.written),
                              int(c.failures), to_reason(int(c.last_reason)))


@dataclass(frozen=True)
class ChildReport:
    """A supervised process as a supervisor reports it (genesis_child_report)."""

    id: str
    state: str  #: "STARTING", "RUNNING", "BACKOFF", "FAILED", "STOPPED", "STANDBY"
    pid: int = 0
    restarts: int = 0
    last_exit: Optional[str] = None
    started_ms: int = 0

    def _to_c(self) -> "_lib.ChildReport":
        c = _lib.ChildReport()
        c.version = _lib.CHILD_REPORT_VERSION
        c.id = self.id.encode()
        c.state = self.state.encode()
        c.pid = int(self.pid)
        c.restarts = int(self.restarts)
        c.last_exit = self.last_exit.encode() if self.last_exit is not None else None
        c.started_ms = int(self.started_ms)
        return c
