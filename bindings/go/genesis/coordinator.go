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
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// CoordinatorOptions configures a coordinator; zero fields take the library's defaults
// (see core/include/genesis/coordinator.h).
type CoordinatorOptions struct {
	WorkerThreads     uint
	MaxWorkerThreads  uint
	FrontDoorContexts uint
	MaxMessageSize    uint
	DefaultTimeout    time.Duration
	MaxConcurrency    uint // per in-process component
	MaxQueuedRequests uint // per component
	EventQueueDepth   uint
	MaxComponents     uint
	HeartbeatInterval time.Duration
	HeartbeatMisses   uint
	LogLevel          LogLevel // LogDefault: warnings and errors
	Log               LogFunc  // nil: stderr

	// Durable checkpoints (see genesis/recovery.h): a SQLite file, created if missing;
	// "" = none.
	CheckpointStore       string
	CheckpointInterval    time.Duration // snapshot changed components this often (150 ms)
	CheckpointGenerations uint          // generations kept per component (3)
	// The resilience engine (genesis/resilience.h).
	DefaultPolicy    *Policy       // of components without their own; nil = DefaultPolicy()
	CriticalTypes    *string       // request types always CRITICAL; nil = "ping,status"
	SafeModePct      uint          // unhealthy components above this % -> SAFE (20)
	EmergencyModePct uint          // ... -> EMERGENCY (50)
	ModeHold         time.Duration // a better mode must hold this long (2 s)
	AdminFaults      bool          // let the admin "fault" command inject faults (chaos runs)
	// Mutual TLS for tls+tcp:// URLs: PEM files, all three or none.
	TLSCAFile, TLSCertFile, TLSKeyFile, TLSServerName string
}

// Coordinator is a coordinator embedded in this process (genesis_coordinator).
//
// Concurrency: every method may be called from any goroutine, concurrently; Close waits for
// calls in progress (requests blocked in other goroutines return first, as Close stops the
// coordinator) and must not be called from one of the coordinator's callbacks.
type Coordinator struct {
	mu  sync.RWMutex // RLock around C calls, Lock in Close: no call uses a freed handle
	ptr *C.genesis_coordinator

	handlesMu sync.Mutex
	handles   []cgo.Handle // every component registered; released by Close
}

// NewCoordinator creates a coordinator; opts may be nil. Close it when done.
func NewCoordinator(opts *CoordinatorOptions) (*Coordinator, error) {
	var o C.genesis_coordinator_options
	if err := call("genesis_coordinator_options_init", func() C.int {
		return C.genesis_coordinator_options_init(&o, C.GENESIS_COORDINATOR_OPTIONS_VERSION)
	}); err != nil {
		return nil, err
	}
	if opts != nil {
		o.worker_threads = C.uint(opts.WorkerThreads)
		o.max_worker_threads = C.uint(opts.MaxWorkerThreads)
		o.front_door_contexts = C.uint(opts.FrontDoorContexts)
		o.max_message_size = C.size_t(opts.MaxMessageSize)
		t, err := durationMs(opts.DefaultTimeout, "DefaultTimeout")
		if err != nil {
			return nil, err
		}
		o.default_timeout_ms = t
		o.max_concurrency = C.uint(opts.MaxConcurrency)
		o.max_queued_requests = C.uint(opts.MaxQueuedRequests)
		o.event_queue_depth = C.uint(opts.EventQueueDepth)
		o.max_components = C.uint(opts.MaxComponents)
		hb, err := durationMs(opts.HeartbeatInterval, "HeartbeatInterval")
		if err != nil {
			return nil, err
		}
		o.heartbeat_interval_ms = hb
		o.heartbeat_misses = C.uint(opts.HeartbeatMisses)
		if opts.LogLevel != LogDefault {
			o.log_level = C.int(opts.LogLevel.cLevel())
		}
		ci, err := durationMs(opts.CheckpointInterval, "CheckpointInterval")
		if err != nil {
			return nil, err
		}
		o.checkpoint_interval_ms = ci
		o.checkpoint_generations = C.uint(opts.CheckpointGenerations)
		if opts.DefaultPolicy != nil {
			p := (*C.genesis_policy)(C.malloc(C.size_t(unsafe.Sizeof(C.genesis_policy{}))))
			defer C.free(unsafe.Pointer(p))
			*p = opts.DefaultPolicy.toC()
			o.default_policy = p
		}
		o.safe_mode_pct = C.uint(opts.SafeModePct)
		o.emergency_mode_pct = C.uint(opts.EmergencyModePct)
		mh, err := durationMs(opts.ModeHold, "ModeHold")
		if err != nil {
			return nil, err
		}
		o.mode_hold_ms = mh
		if opts.AdminFaults {
			o.admin_faults = 1
		}
		// Strings are copied by genesis_coordinator_new.
		strs := []struct {
			dst **C.char
			val *string
		}{{&o.checkpoint_store, &opts.CheckpointStore}, {&o.critical_types, opts.CriticalTypes},
			{&o.tls_ca_file, &opts.TLSCAFile}, {&o.tls_cert_file, &opts.TLSCertFile},
			{&o.tls_key_file, &opts.TLSKeyFile}, {&o.tls_server_name, &opts.TLSServerName}}
		for _, s := range strs {
			if s.val == nil || (*s.val == "" && s.dst != &o.critical_types) {
				continue
			}
			cs := C.CString(*s.val)
			defer C.free(unsafe.Pointer(cs))
			*s.dst = cs
		}
	}
	c := &Coordinator{}
	if opts != nil && opts.Log != nil {
		h := cgo.NewHandle(opts.Log)
		C.gg_coordinator_options_set_log(&o, C.uintptr_t(h))
		c.handles = append(c.handles, h)
	}
	if err := call("create coordinator", func() C.int { return C.genesis_coordinator_new(&c.ptr, &o) }); err != nil {
		for _, h := range c.handles {
			h.Delete()
		}
		return nil, err
	}
	return c, nil
}

// handle returns the C handle under the read lock; the caller must RUnlock.
func (c *Coordinator) handle() (*C.genesis_coordinator, error) {
	c.mu.RLock()
	if c.ptr == nil {
		c.mu.RUnlock()
		return nil, errClosed("coordinator")
	}
	return c.ptr, nil
}

// Listen serves the front door and the event bus (eventBus may be "") on NNG URLs:
// tcp://host:port (port 0 picks a free port), ipc:///path, inproc://name.
func (c *Coordinator) Listen(frontDoor, eventBus string) error {
	ptr, err := c.handle()
	if err != nil {
		return err
	}
	defer c.mu.RUnlock()
	fd := C.CString(frontDoor)
	defer C.free(unsafe.Pointer(fd))
	bus := optionalCString(eventBus)
	defer C.free(unsafe.Pointer(bus))
	return call("listen on "+frontDoor, func() C.int { return C.genesis_coordinator_listen(ptr, fd, bus) })
}

func (c *Coordinator) url(endpoint C.int) (string, error) {
	ptr, err := c.handle()
	if err != nil {
		return "", err
	}
	defer c.mu.RUnlock()
	buf := make([]byte, 512)
	if err := call("coordinator url", func() C.int {
		return C.genesis_coordinator_get_url(ptr, endpoint, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	}); err != nil {
		return "", err
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0]))), nil
}

// FrontDoorURL is the URL the front door listens on (with the bound port for port 0).
func (c *Coordinator) FrontDoorURL() (string, error) { return c.url(C.GENESIS_ENDPOINT_FRONT_DOOR) }

// EventBusURL is the URL the event bus listens on.
func (c *Coordinator) EventBusURL() (string, error) { return c.url(C.GENESIS_ENDPOINT_EVENT_BUS) }

// Register adds an in-process component under id (1..128 bytes of [A-Za-z0-9._-]). With a
// checkpoint store and comp.Restore, the latest stored state is restored before Register
// returns (ctx is checked before; a Restore in progress runs to its end).
func (c *Coordinator) Register(ctx context.Context, id string, comp Component) error {
	if comp.OnRequest == nil {
		return &Error{Status: InvalidArgument, Message: "register " + id + ": OnRequest is required"}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ptr, err := c.handle()
	if err != nil {
		return err
	}
	defer c.mu.RUnlock()
	h := cgo.NewHandle(&componentEntry{id: id, comp: comp})
	cid := C.CString(id)
	defer C.free(unsafe.Pointer(cid))
	with := comp.flags()
	if err := call("register "+id, func() C.int {
		return C.gg_coordinator_register(ptr, cid, C.uintptr_t(h), with)
	}); err != nil {
		h.Delete()
		return err
	}
	c.handlesMu.Lock()
	c.handles = append(c.handles, h)
	c.handlesMu.Unlock()
	return nil
}

// Unregister removes a component; it returns once the component's running callbacks have
// returned (called from one of them, it does not wait). When ctx ends first, it returns
// ctx's error; the component is removed all the same.
func (c *Coordinator) Unregister(ctx context.Context, id string) error {
	// Its handle stays valid until Close: when Unregister is called from one of the
	// component's callbacks, others may still be running.
	_, err := blocking(ctx, func() (struct{}, error) {
		return struct{}{}, c.withID(context.Background(), id, false, func(ptr *C.genesis_coordinator, cid *C.char) error {
			return call("unregister "+id, func() C.int { return C.genesis_coordinator_unregister(ptr, cid) })
		})
	})
	return err
}

// Request sends a request to a component and waits for the outcome, at most until ctx's
// deadline (which becomes the call's deadline) or cancellation.
func (c *Coordinator) Request(ctx context.Context, target, typ string, data []byte, opts ...CallOption) (*Result, error) {
	o, err := newCallOptions(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer o.free()
	ptr, err := c.handle()
	if err != nil {
		return nil, err
	}
	cs, free := cstrings(target, typ)
	defer free()
	if ctx.Done() == nil {
		// Nothing can cancel the call: the synchronous C call is cheaper (no completion
		// callback crossing into Go).
		return callResult("request "+target+"/"+typ, func(res **C.genesis_result) C.int {
			defer c.mu.RUnlock()
			return C.genesis_coordinator_request(ptr, cs[0], cs[1], bytesPtr(data), C.size_t(len(data)), &o.opts, res)
		})
	}
	res, err := startAsync(ctx, "request "+target+"/"+typ, o.requestID(), func(h C.uintptr_t) C.int {
		defer c.mu.RUnlock()
		return C.gg_coordinator_request_async(ptr, cs[0], cs[1], bytesPtr(data), C.size_t(len(data)), &o.opts, h)
	})
	return res, err
}

// Emit publishes a local event to every in-process component but the source (WithSource)
// and on the event bus. It returns how many components queued it and how many dropped it.
// It never blocks (a full component queue drops the event); a done ctx fails it up front.
func (c *Coordinator) Emit(ctx context.Context, typ string, data []byte, opts ...CallOption) (delivered, dropped uint, err error) {
	o, err := newCallOptions(ctx, opts)
	if err != nil {
		return 0, 0, err
	}
	defer o.free()
	ptr, err := c.handle()
	if err != nil {
		return 0, 0, err
	}
	defer c.mu.RUnlock()
	ctyp := C.CString(typ)
	defer C.free(unsafe.Pointer(ctyp))
	var d, x C.uint
	err = call("emit "+typ, func() C.int {
		return C.genesis_coordinator_emit(ptr, ctyp, bytesPtr(data), C.size_t(len(data)), &o.opts, &d, &x)
	})
	return uint(d), uint(x), err
}

// Stats are the coordinator's counters (genesis_coordinator_stats).
type Stats struct {
	Requests, Succeeded, Failed, TimedOut, Rejected, LateReplies         uint64
	EventsEmitted, EventsDelivered, EventsDropped, EventsPublished       uint64
	FrontDoorMessages, Malformed, Components, InFlight, ListenerRestarts uint64
}

// EmitExternal publishes an external event ("external:<type>" on the bus) for external
// clients (the gateway pushes it to every WebSocket client but the source). In-process
// components do not receive it. Never blocks.
func (c *Coordinator) EmitExternal(ctx context.Context, typ string, data []byte, opts ...CallOption) error {
	o, err := newCallOptions(ctx, opts)
	if err != nil {
		return err
	}
	defer o.free()
	return c.withID(ctx, typ, false, func(ptr *C.genesis_coordinator, ctyp *C.char) error {
		return call("emit external "+typ, func() C.int {
			return C.genesis_coordinator_emit_external(ptr, ctyp, bytesPtr(data), C.size_t(len(data)), &o.opts)
		})
	})
}

// Stats reads the counters (a done ctx fails it up front; it never blocks).
func (c *Coordinator) Stats(ctx context.Context) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	ptr, err := c.handle()
	if err != nil {
		return Stats{}, err
	}
	defer c.mu.RUnlock()
	var s C.genesis_coordinator_stats
	s.version = C.GENESIS_COORDINATOR_STATS_VERSION
	if err := call("coordinator stats", func() C.int { return C.genesis_coordinator_get_stats(ptr, &s) }); err != nil {
		return Stats{}, err
	}
	return Stats{
		Requests: uint64(s.requests), Succeeded: uint64(s.succeeded), Failed: uint64(s.failed),
		TimedOut: uint64(s.timed_out), Rejected: uint64(s.rejected), LateReplies: uint64(s.late_replies),
		EventsEmitted: uint64(s.events_emitted), EventsDelivered: uint64(s.events_delivered),
		EventsDropped: uint64(s.events_dropped), EventsPublished: uint64(s.events_published),
		FrontDoorMessages: uint64(s.front_door_messages), Malformed: uint64(s.malformed),
		Components: uint64(s.components), InFlight: uint64(s.in_flight),
		ListenerRestarts: uint64(s.listener_restarts),
	}, nil
}

// Status is the JSON status report (see genesis_coordinator_status for its fields).
func (c *Coordinator) Status(ctx context.Context) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ptr, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()
	r, err := callResult("coordinator status", func(res **C.genesis_result) C.int {
		return C.genesis_coordinator_status(ptr, res)
	})
	if err != nil {
		return nil, err
	}
	return json.RawMessage(r.Data), nil
}

// Stop refuses new work, drains in-flight requests and joins the threads (idempotent).
// Close does this too. When ctx ends first it returns ctx's error; the stop goes on.
func (c *Coordinator) Stop(ctx context.Context) error {
	_, err := blocking(ctx, func() (struct{}, error) {
		return struct{}{}, c.withHandle(context.Background(), func(ptr *C.genesis_coordinator) error {
			return call("stop coordinator", func() C.int { return C.genesis_coordinator_stop(ptr) })
		})
	})
	return err
}

// Close stops and frees the coordinator, then releases the Go callbacks. Idempotent. It must
// not be called from one of the coordinator's callbacks.
func (c *Coordinator) Close() error {
	// Stop first (allowed concurrently with other calls): requests blocked in other
	// goroutines return, so taking the write lock below does not wait for their deadlines.
	c.mu.RLock()
	if c.ptr != nil {
		C.genesis_coordinator_stop(c.ptr)
	}
	c.mu.RUnlock()
	c.mu.Lock()
	ptr := c.ptr
	c.ptr = nil
	c.mu.Unlock()
	if ptr != nil {
		C.genesis_coordinator_free(ptr) // no callback runs after it returns
	}
	c.handlesMu.Lock()
	handles := c.handles
	c.handles = nil
	c.handlesMu.Unlock()
	for _, h := range handles {
		h.Delete()
	}
	return nil
}
