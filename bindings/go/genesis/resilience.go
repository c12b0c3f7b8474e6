package genesis

/*
#include <stdlib.h>
#include <genesis/genesis.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime/cgo"
	"time"
	"unsafe"
)

// Mode is a degradation mode (genesis_mode). ModeAuto only ends an operator override.
type Mode int

// The modes.
const (
	ModeAuto      Mode = -1
	ModeNormal    Mode = 0
	ModeSafe      Mode = 1
	ModeEmergency Mode = 2
)

// String is the library's name: "NORMAL", "SAFE", "EMERGENCY", "AUTO".
func (m Mode) String() string { return C.GoString(C.genesis_mode_name(C.int(m))) }

// BreakerState is a circuit breaker's state (genesis_breaker_state).
type BreakerState int

// The breaker states.
const (
	BreakerClosed     BreakerState = 0
	BreakerOpen       BreakerState = 1
	BreakerHalfOpen   BreakerState = 2
	BreakerForcedOpen BreakerState = 3 // by an operator: rejects everything until reset
	BreakerDisabled   BreakerState = 4 // by an operator: admits everything, records nothing
	// BreakerMetricsOnly is set by an operator: admits everything, records outcomes, rates and
	// their events, never opens.
	BreakerMetricsOnly BreakerState = 5
)

// String is the library's name: "CLOSED", "OPEN", ...
func (b BreakerState) String() string {
	return C.GoString(C.genesis_breaker_state_name(C.int(b)))
}

// Policy is every resilience knob of one component (genesis_policy); see
// core/include/genesis/resilience.h for each field. DefaultPolicy gives the library's values.
type Policy struct {
	PerTryTimeoutMs            uint32
	MaxAttempts                uint32
	BackoffInitialMs           uint32
	BackoffMultiplierPct       uint32
	BackoffMaxMs               uint32
	BudgetMaxTokens            uint32
	BudgetTokenRatioPct        uint32
	BreakerFailureRatePct      uint32
	BreakerWindow              uint32
	BreakerMinCalls            uint32
	BreakerConsecutiveFailures uint32
	BreakerSlowCallMs          uint32
	BreakerOpenMs              uint32
	BreakerOpenMaxMs           uint32
	BreakerHalfOpenProbes      uint32
	MaxConcurrency             uint32
	MaxQueued                  uint32
	QueueWarn                  uint32
	// Version 2: the breaker's classification and windows, adaptive concurrency, hedging.
	BreakerSlowCallRatePct   uint32
	BreakerWindowMs          uint32
	BreakerHalfOpenRatePct   uint32
	BreakerHalfOpenMaxWaitMs uint32
	BreakerActiveProbe       uint32
	BreakerFailureStatuses   uint32 // bit n = status n
	BreakerIgnoredStatuses   uint32
	BreakerFailureReasons    uint32 // bit n = reason n
	BreakerIgnoredReasons    uint32
	BreakerOpenMultiplierPct uint32
	BreakerOpenResetMs       uint32
	AdaptiveConcurrency      uint32 // 0 off, 1 gradient, 2 AIMD
	HedgePercentile          uint32
}

// DefaultPolicy is the library's built-in policy (genesis_policy_init).
func DefaultPolicy() Policy {
	var c C.genesis_policy
	C.genesis_policy_init(&c, C.GENESIS_POLICY_VERSION)
	return policyFromC(&c)
}

// Validate checks every field as SetPolicy would; the error names the first bad one.
func (p Policy) Validate() error {
	c := p.toC()
	return call("policy", func() C.int { return C.genesis_policy_validate(&c) })
}

func (p *Policy) toC() C.genesis_policy {
	var c C.genesis_policy
	C.genesis_policy_init(&c, C.GENESIS_POLICY_VERSION)
	c.per_try_timeout_ms = C.uint32_t(p.PerTryTimeoutMs)
	c.max_attempts = C.uint(p.MaxAttempts)
	c.backoff_initial_ms = C.uint32_t(p.BackoffInitialMs)
	c.backoff_multiplier_pct = C.uint32_t(p.BackoffMultiplierPct)
	c.backoff_max_ms = C.uint32_t(p.BackoffMaxMs)
	c.budget_max_tokens = C.uint(p.BudgetMaxTokens)
	c.budget_token_ratio_pct = C.uint32_t(p.BudgetTokenRatioPct)
	c.breaker_failure_rate_pct = C.uint(p.BreakerFailureRatePct)
	c.breaker_window = C.uint(p.BreakerWindow)
	c.breaker_min_calls = C.uint(p.BreakerMinCalls)
	c.breaker_consecutive_failures = C.uint(p.BreakerConsecutiveFailures)
	c.breaker_slow_call_ms = C.uint32_t(p.BreakerSlowCallMs)
	c.breaker_open_ms = C.uint32_t(p.BreakerOpenMs)
	c.breaker_open_max_ms = C.uint32_t(p.BreakerOpenMaxMs)
	c.breaker_half_open_probes = C.uint(p.BreakerHalfOpenProbes)
	c.max_concurrency = C.uint(p.MaxConcurrency)
	c.max_queued = C.uint(p.MaxQueued)
	c.queue_warn = C.uint(p.QueueWarn)
	c.breaker_slow_call_rate_pct = C.uint32_t(p.BreakerSlowCallRatePct)
	c.breaker_window_ms = C.uint32_t(p.BreakerWindowMs)
	c.breaker_half_open_rate_pct = C.uint32_t(p.BreakerHalfOpenRatePct)
	c.breaker_half_open_max_wait_ms = C.uint32_t(p.BreakerHalfOpenMaxWaitMs)
	c.breaker_active_probe = C.uint32_t(p.BreakerActiveProbe)
	c.breaker_failure_statuses = C.uint32_t(p.BreakerFailureStatuses)
	c.breaker_ignored_statuses = C.uint32_t(p.BreakerIgnoredStatuses)
	c.breaker_failure_reasons = C.uint32_t(p.BreakerFailureReasons)
	c.breaker_ignored_reasons = C.uint32_t(p.BreakerIgnoredReasons)
	c.breaker_open_multiplier_pct = C.uint32_t(p.BreakerOpenMultiplierPct)
	c.breaker_open_reset_ms = C.uint32_t(p.BreakerOpenResetMs)
	c.adaptive_concurrency = C.uint32_t(p.AdaptiveConcurrency)
	c.hedge_percentile = C.uint32_t(p.HedgePercentile)
	return c
}

func policyFromC(c *C.genesis_policy) Policy {
	return Policy{
		PerTryTimeoutMs: uint32(c.per_try_timeout_ms), MaxAttempts: uint32(c.max_attempts),
		BackoffInitialMs: uint32(c.backoff_initial_ms), BackoffMultiplierPct: uint32(c.backoff_multiplier_pct),
		BackoffMaxMs: uint32(c.backoff_max_ms), BudgetMaxTokens: uint32(c.budget_max_tokens),
		BudgetTokenRatioPct: uint32(c.budget_token_ratio_pct), BreakerFailureRatePct: uint32(c.breaker_failure_rate_pct),
		BreakerWindow: uint32(c.breaker_window), BreakerMinCalls: uint32(c.breaker_min_calls),
		BreakerConsecutiveFailures: uint32(c.breaker_consecutive_failures), BreakerSlowCallMs: uint32(c.breaker_slow_call_ms),
		BreakerOpenMs: uint32(c.breaker_open_ms), BreakerOpenMaxMs: uint32(c.breaker_open_max_ms),
		BreakerHalfOpenProbes: uint32(c.breaker_half_open_probes), MaxConcurrency: uint32(c.max_concurrency),
		MaxQueued: uint32(c.max_queued), QueueWarn: uint32(c.queue_warn),
		BreakerSlowCallRatePct: uint32(c.breaker_slow_call_rate_pct), BreakerWindowMs: uint32(c.breaker_window_ms),
		BreakerHalfOpenRatePct: uint32(c.breaker_half_open_rate_pct), BreakerHalfOpenMaxWaitMs: uint32(c.breaker_half_open_max_wait_ms),
		BreakerActiveProbe: uint32(c.breaker_active_probe), BreakerFailureStatuses: uint32(c.breaker_failure_statuses),
		BreakerIgnoredStatuses: uint32(c.breaker_ignored_statuses), BreakerFailureReasons: uint32(c.breaker_failure_reasons),
		BreakerIgnoredReasons: uint32(c.breaker_ignored_reasons), BreakerOpenMultiplierPct: uint32(c.breaker_open_multiplier_pct),
		BreakerOpenResetMs: uint32(c.breaker_open_reset_ms), AdaptiveConcurrency: uint32(c.adaptive_concurrency),
		HedgePercentile: uint32(c.hedge_percentile),
	}
}

// ComponentStats are one component's statistics (genesis_component_stats).
type ComponentStats struct {
	Remote, Healthy, Ready bool
	Breaker                BreakerState
	Requests, Succeeded, Failed, Attempts, Retries, BudgetDenied, FailFast,
	BreakerOpens, BreakerTransitions uint64
	FailuresByReason                                       map[Reason]uint64 // failed requests by final reason (non-zero only)
	InFlight, Queued                                       uint32
	LatencyCount                                           uint64
	LatencyP50Us, LatencyP90Us, LatencyP99Us, LatencyMaxUs uint32
	// The breaker's window now: failure and slow-call rates in percent of WindowCalls, or -1
	// while WindowCalls is below the policy's BreakerMinCalls.
	FailureRatePct, SlowCallRatePct float64
	WindowCalls                     uint64
	SlowCalls                       uint64 // attempts slower than BreakerSlowCallMs, ever
	IgnoredCalls                    uint64 // outcomes the classification ignores, ever
	ConcurrencyLimit                uint32 // in force: the adaptive limit, else MaxConcurrency
	Hedges, HedgeWins               uint64 // hedged attempts started, and won
}

// Fault is a fault to inject (genesis_fault), for tests and chaos runs: ErrorRate (0..1)
// fails attempts UNAVAILABLE without running them, AddedLatencyMs delays them, Hang blocks
// handlers until cleared, Crash makes an in-process component behave as gone until cleared
// (a Service kills its own process).
type Fault struct {
	ErrorRate      float64
	AddedLatencyMs uint32
	Hang, Crash    bool
}

func (f *Fault) toC() (C.genesis_fault, error) {
	var c C.genesis_fault
	if err := call("genesis_fault_init", func() C.int { return C.genesis_fault_init(&c, C.GENESIS_FAULT_VERSION) }); err != nil {
		return c, err
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 || math.IsNaN(f.ErrorRate) {
		return c, &Error{Status: InvalidArgument, Message: fmt.Sprintf("fault error rate %v is not in 0..1", f.ErrorRate)}
	}
	c.error_rate = C.double(f.ErrorRate)
	c.added_latency_ms = C.uint32_t(f.AddedLatencyMs)
	if f.Hang {
		c.hang = 1
	}
	if f.Crash {
		c.crash = 1
	}
	return c, nil
}

// CheckpointInfo is what the coordinator knows about a component's checkpoints.
type CheckpointInfo struct {
	Generation uint64 // newest durable generation, 0 = none
	Size       uint64 // its size in bytes
	AgeMs      int64  // since it was written; -1 when there is none
	Written    uint64 // checkpoints written by this coordinator
	Failures   uint64 // writes that failed
	LastReason Reason // of the last failure
}

// ChildReport is a supervised process as a supervisor reports it (for the status report).
type ChildReport struct {
	ID        string
	State     string // "STARTING", "RUNNING", "BACKOFF", "FAILED", "STOPPED", "STANDBY"
	PID       int
	Restarts  uint64
	LastExit  string
	StartedMs int64 // monotonic ms of the current incarnation's start; 0 when not running
}

// withHandle runs f with the coordinator's C handle under the read lock, after checking ctx.
func (c *Coordinator) withHandle(ctx context.Context, f func(ptr *C.genesis_coordinator) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ptr, err := c.handle()
	if err != nil {
		return err
	}
	defer c.mu.RUnlock()
	return f(ptr)
}

// withIDHandle is withHandle with a C copy of id (NULL for "" when nullable).
func (c *Coordinator) withID(ctx context.Context, id string, nullable bool, f func(ptr *C.genesis_coordinator, cid *C.char) error) error {
	return c.withHandle(ctx, func(ptr *C.genesis_coordinator) error {
		var cid *C.char
		if !nullable || id != "" {
			cid = C.CString(id)
			defer C.free(unsafe.Pointer(cid))
		}
		return f(ptr, cid)
	})
}

// SetPolicy sets component id's policy (id "" = the default of every component without its
// own); policy nil removes id's own. The error names a bad field.
func (c *Coordinator) SetPolicy(ctx context.Context, id string, policy *Policy) error {
	return c.withID(ctx, id, true, func(ptr *C.genesis_coordinator, cid *C.char) error {
		var cp *C.genesis_policy
		if policy != nil {
			p := policy.toC()
			cp = &p
		}
		return call("set policy of "+orDefault(id), func() C.int { return C.genesis_coordinator_set_policy(ptr, cid, cp) })
	})
}

// Policy is the policy in force for id (its own or the default; "" = the default).
func (c *Coordinator) Policy(ctx context.Context, id string) (Policy, error) {
	var p C.genesis_policy
	p.version = C.GENESIS_POLICY_VERSION
	err := c.withID(ctx, id, true, func(ptr *C.genesis_coordinator, cid *C.char) error {
		return call("policy of "+orDefault(id), func() C.int { return C.genesis_coordinator_get_policy(ptr, cid, &p) })
	})
	if err != nil {
		return Policy{}, err
	}
	return policyFromC(&p), nil
}

func orDefault(id string) string {
	if id == "" {
		return "the default"
	}
	return id
}

// Mode is the degradation mode in force.
func (c *Coordinator) Mode(ctx context.Context) (Mode, error) {
	var m Mode
	err := c.withHandle(ctx, func(ptr *C.genesis_coordinator) error {
		m = Mode(C.genesis_coordinator_get_mode(ptr))
		return nil
	})
	return m, err
}

// SetMode forces a mode, or ModeAuto to return to automatic.
func (c *Coordinator) SetMode(ctx context.Context, m Mode) error {
	return c.withHandle(ctx, func(ptr *C.genesis_coordinator) error {
		return call("set mode "+m.String(), func() C.int { return C.genesis_coordinator_set_mode(ptr, C.int(m)) })
	})
}

// SetBreaker is operator control of id's breaker: BreakerForcedOpen, BreakerDisabled, or
// BreakerClosed to reset it.
func (c *Coordinator) SetBreaker(ctx context.Context, id string, state BreakerState) error {
	return c.withID(ctx, id, false, func(ptr *C.genesis_coordinator, cid *C.char) error {
		return call("set breaker of "+id, func() C.int { return C.genesis_coordinator_set_breaker(ptr, cid, C.int(state)) })
	})
}

// ForceBreakerOpen forces id's breaker open for d (0 = until reset, as SetBreaker with
// BreakerForcedOpen); when the time is up it moves to half-open and probes decide.
func (c *Coordinator) ForceBreakerOpen(ctx context.Context, id string, d time.Duration) error {
	ms, err := durationMs(d, "duration")
	if err != nil {
		return err
	}
	return c.withID(ctx, id, false, func(ptr *C.genesis_coordinator, cid *C.char) error {
		return call("force breaker of "+id+" open", func() C.int { return C.genesis_coordinator_force_breaker_open(ptr, cid, ms) })
	})
}

// ComponentStats reads component id's statistics (NotFound if it is not registered).
func (c *Coordinator) ComponentStats(ctx context.Context, id string) (ComponentStats, error) {
	var s C.genesis_component_stats
	s.version = C.GENESIS_COMPONENT_STATS_VERSION
	err := c.withID(ctx, id, false, func(ptr *C.genesis_coordinator, cid *C.char) error {
		return call("stats of "+id, func() C.int { return C.genesis_coordinator_get_component_stats(ptr, cid, &s) })
	})
	if err != nil {
		return ComponentStats{}, err
	}
	out := ComponentStats{
		Remote: s.remote != 0, Healthy: s.healthy != 0, Ready: s.ready != 0,
		Breaker: BreakerState(s.breaker_state), Requests: uint64(s.requests),
		Succeeded: uint64(s.succeeded), Failed: uint64(s.failed), Attempts: uint64(s.attempts),
		Retries: uint64(s.retries), BudgetDenied: uint64(s.budget_denied), FailFast: uint64(s.fail_fast),
		BreakerOpens: uint64(s.breaker_opens), BreakerTransitions: uint64(s.breaker_transitions),
		FailuresByReason: map[Reason]uint64{}, InFlight: uint32(s.in_flight), Queued: uint32(s.queued),
		LatencyCount: uint64(s.latency_count), LatencyP50Us: uint32(s.latency_p50_us),
		LatencyP90Us: uint32(s.latency_p90_us), LatencyP99Us: uint32(s.latency_p99_us),
		LatencyMaxUs:   uint32(s.latency_max_us),
		FailureRatePct: float64(s.failure_rate_pct), SlowCallRatePct: float64(s.slow_call_rate_pct),
		WindowCalls: uint64(s.window_calls), SlowCalls: uint64(s.slow_calls),
		IgnoredCalls: uint64(s.ignored_calls), ConcurrencyLimit: uint32(s.concurrency_limit),
		Hedges: uint64(s.hedges), HedgeWins: uint64(s.hedge_wins),
	}
	for r, n := range s.failures_by_reason {
		if n != 0 {
			out.FailuresByReason[Reason(r)] = uint64(n)
		}
	}
	return out, nil
}

// InjectFault injects a fault into in-process component id (nil clears it and releases hung
// handlers). For tests and chaos runs.
func (c *Coordinator) InjectFault(ctx context.Context, id string, fault *Fault) error {
	var cf *C.genesis_fault
	if fault != nil {
		f, err := fault.toC()
		if err != nil {
			return err
		}
		cf = &f
	}
	return c.withID(ctx, id, false, func(ptr *C.genesis_coordinator, cid *C.char) error {
		return call("inject fault into "+id, func() C.int { return C.genesis_coordinator_inject_fault(ptr, cid, cf) })
	})
}

// adminArgs is a C array of C strings; free releases it.
func adminArgs(command string, args []string) (*C.char, **C.char, C.size_t, func()) {
	cmd := C.CString(command)
	n := len(args)
	if n == 0 {
		return cmd, nil, 0, func() { C.free(unsafe.Pointer(cmd)) }
	}
	array := (**C.char)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	words := unsafe.Slice(array, n)
	for i, a := range args {
		words[i] = C.CString(a)
	}
	return cmd, array, C.size_t(n), func() {
		for _, w := range words {
			C.free(unsafe.Pointer(w))
		}
		C.free(unsafe.Pointer(array))
		C.free(unsafe.Pointer(cmd))
	}
}

// Admin runs an operator command ("mode", "breaker", "policy", "fault", "checkpoint", or one
// routed to a SetAdminHandler handler) and returns its JSON answer.
func (c *Coordinator) Admin(ctx context.Context, command string, args ...string) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.withHandle(ctx, func(ptr *C.genesis_coordinator) error {
		cmd, array, n, free := adminArgs(command, args)
		defer free()
		r, err := callResult("admin "+command, func(res **C.genesis_result) C.int {
			return C.genesis_coordinator_admin(ptr, cmd, array, n, res)
		})
		if err == nil {
			out = json.RawMessage(r.Data)
		}
		return err
	})
	return out, err
}

// CheckpointMarkDirty tells the coordinator that id's state changed outside a request, so
// the next interval checkpoints it. Never blocks.
func (c *Coordinator) CheckpointMarkDirty(ctx context.Context, id string) error {
	return c.withID(ctx, id, false, func(ptr *C.genesis_coordinator, cid *C.char) error {
		return call("mark "+id+" dirty", func() C.int { return C.genesis_coordinator_checkpoint_mark_dirty(ptr, cid) })
	})
}

// CheckpointNow snapshots component id and waits until the state is durable; it returns the
// stored generation. When ctx ends first it returns ctx's error at once; the checkpoint
// completes in the background. Must not be called from one of id's own callbacks.
func (c *Coordinator) CheckpointNow(ctx context.Context, id string) (uint64, error) {
	return blocking(ctx, func() (uint64, error) {
		var gen C.uint64_t
		err := c.withID(context.Background(), id, false, func(ptr *C.genesis_coordinator, cid *C.char) error {
			return call("checkpoint "+id, func() C.int { return C.genesis_coordinator_checkpoint_now(ptr, cid, &gen) })
		})
		return uint64(gen), err
	})
}

// CheckpointInfo is what the coordinator knows about id's checkpoints (NotFound: nothing).
func (c *Coordinator) CheckpointInfo(ctx context.Context, id string) (CheckpointInfo, error) {
	var info C.genesis_checkpoint_info
	info.version = C.GENESIS_CHECKPOINT_INFO_VERSION
	err := c.withID(ctx, id, false, func(ptr *C.genesis_coordinator, cid *C.char) error {
		return call("checkpoint info of "+id, func() C.int { return C.genesis_coordinator_get_checkpoint_info(ptr, cid, &info) })
	})
	if err != nil {
		return CheckpointInfo{}, err
	}
	return CheckpointInfo{Generation: uint64(info.generation), Size: uint64(info.size),
		AgeMs: int64(info.age_ms), Written: uint64(info.written), Failures: uint64(info.failures),
		LastReason: Reason(info.last_reason)}, nil
}

// ComponentHealth reports whether component id can serve (registered and healthy).
func (c *Coordinator) ComponentHealth(ctx context.Context, id string) (bool, error) {
	var up C.int
	err := c.withID(ctx, id, false, func(ptr *C.genesis_coordinator, cid *C.char) error {
		return call("health of "+id, func() C.int { return C.genesis_coordinator_get_component_health(ptr, cid, &up) })
	})
	return up != 0, err
}

// SetAdminHandler routes admin commands starting with prefix to fn (nil removes it). fn runs
// on one of the coordinator's worker threads (two admin commands at a time): it may block
// briefly.
func (c *Coordinator) SetAdminHandler(ctx context.Context, prefix string, fn AdminHandler) error {
	var h cgo.Handle
	if fn != nil {
		h = cgo.NewHandle(fn)
	}
	err := c.withID(ctx, prefix, false, func(ptr *C.genesis_coordinator, cp *C.char) error {
		return call("admin handler for "+prefix, func() C.int { return C.gg_coordinator_set_admin_handler(ptr, cp, C.uintptr_t(h)) })
	})
	if err != nil {
		if h != 0 {
			h.Delete()
		}
		return err
	}
	if h != 0 {
		// A replaced handler may still be running: every handle lives until Close.
		c.handlesMu.Lock()
		c.handles = append(c.handles, h)
		c.handlesMu.Unlock()
	}
	return nil
}

// ReportChild records (or replaces) a supervised process's report, shown in Status.
func (c *Coordinator) ReportChild(ctx context.Context, r ChildReport) error {
	cs, free := cstrings(r.ID, r.State)
	defer free()
	var rep C.genesis_child_report
	rep.version = C.GENESIS_CHILD_REPORT_VERSION
	rep.id, rep.state = cs[0], cs[1]
	rep.pid = C.int(r.PID)
	rep.restarts = C.uint64_t(r.Restarts)
	rep.started_ms = C.int64_t(r.StartedMs)
	if r.LastExit != "" {
		le := C.CString(r.LastExit)
		defer C.free(unsafe.Pointer(le))
		rep.last_exit = le
	}
	return c.withHandle(ctx, func(ptr *C.genesis_coordinator) error {
		return call("report child "+r.ID, func() C.int { return C.genesis_coordinator_report_child(ptr, &rep) })
	})
}

// blocking runs f, a C call that cannot be interrupted, so that ctx ending returns ctx's
// error at once; f then runs to its own end (its deadline bounds it) and its outcome is
// dropped.
func blocking[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if ctx.Done() == nil {
		return f()
	}
	done := make(chan blockingResult[T], 1)
	go func() {
		v, err := f()
		done <- blockingResult[T]{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

type blockingResult[T any] struct {
	v   T
	err error
}
