package genesis

/*
#include <stdlib.h>
#include <genesis/genesis.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// ServiceOptions configures a service; zero fields take the library's defaults.
type ServiceOptions struct {
	MaxConcurrency    uint          // requests served at once (16)
	MaxMessageSize    uint          // largest request accepted (1 MiB)
	HeartbeatInterval time.Duration // 0 = what the coordinator asks for (100 ms)
	EventQueueDepth   uint          // waiting events before drops (50)
	LogLevel          LogLevel
	Log               LogFunc // nil: stderr
	// Mutual TLS for tls+tcp:// URLs (listen, and the coordinator's front door and event
	// bus): PEM files, all three or none, read by NewService.
	TLSCAFile, TLSCertFile, TLSKeyFile, TLSServerName string
}

// Service is a component served from this process to a coordinator elsewhere
// (genesis_service): it listens on its own URL, which the coordinator dials, registers,
// heartbeats and serves requests concurrently.
//
// Concurrency: every method may be called from any goroutine, concurrently; Close waits for
// calls and handlers in progress and must not be called from one of the service's handlers.
// With comp.Restore set, the latest checkpoint the coordinator holds for the id is handed to
// it during the first successful Connect, before the first request is served.
type Service struct {
	mu   sync.RWMutex
	ptr  *C.genesis_service
	id   string
	h    cgo.Handle
	logH cgo.Handle // 0 without a Log option
}

// NewService creates a service for component id; opts may be nil. Call Listen, then
// Connect; Close unregisters and stops it.
func NewService(id string, comp Component, opts *ServiceOptions) (*Service, error) {
	if comp.OnRequest == nil {
		return nil, &Error{Status: InvalidArgument, Message: "service " + id + ": OnRequest is required"}
	}
	var o C.genesis_service_options
	if err := call("genesis_service_options_init", func() C.int {
		return C.genesis_service_options_init(&o, C.GENESIS_SERVICE_OPTIONS_VERSION)
	}); err != nil {
		return nil, err
	}
	if opts != nil {
		o.max_concurrency = C.uint(opts.MaxConcurrency)
		o.max_message_size = C.size_t(opts.MaxMessageSize)
		hb, err := durationMs(opts.HeartbeatInterval, "HeartbeatInterval")
		if err != nil {
			return nil, err
		}
		o.heartbeat_interval_ms = hb
		o.event_queue_depth = C.uint(opts.EventQueueDepth)
		if opts.LogLevel != LogDefault {
			o.log_level = C.int(opts.LogLevel.cLevel())
		}
		free := setTLS(&o.tls_ca_file, &o.tls_cert_file, &o.tls_key_file, &o.tls_server_name,
			opts.TLSCAFile, opts.TLSCertFile, opts.TLSKeyFile, opts.TLSServerName)
		defer free() // read and copied by genesis_service_new
	}
	s := &Service{id: id, h: cgo.NewHandle(&componentEntry{id: id, comp: comp})}
	if opts != nil && opts.Log != nil {
		s.logH = cgo.NewHandle(opts.Log)
		C.gg_service_options_set_log(&o, C.uintptr_t(s.logH))
	}
	cid := C.CString(id)
	defer C.free(unsafe.Pointer(cid))
	comp.Snapshot = nil // services decide when to checkpoint (Checkpoint)
	with := comp.flags()
	if err := call("create service "+id, func() C.int {
		return C.gg_service_new(&s.ptr, cid, C.uintptr_t(s.h), with, &o)
	}); err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

func (s *Service) handle() (*C.genesis_service, error) {
	s.mu.RLock()
	if s.ptr == nil {
		s.mu.RUnlock()
		return nil, errClosed("service")
	}
	return s.ptr, nil
}

// Listen listens for the coordinator on url (tcp port 0 allowed) and returns the bound URL.
func (s *Service) Listen(url string) (string, error) {
	ptr, err := s.handle()
	if err != nil {
		return "", err
	}
	cu := C.CString(url)
	defer C.free(unsafe.Pointer(cu))
	err = call("listen on "+url, func() C.int { return C.genesis_service_listen(ptr, cu) })
	s.mu.RUnlock()
	if err != nil {
		return "", err
	}
	return s.URL()
}

// URL is the URL this service listens on.
func (s *Service) URL() (string, error) {
	ptr, err := s.handle()
	if err != nil {
		return "", err
	}
	defer s.mu.RUnlock()
	buf := make([]byte, 512)
	if err := call("service url", func() C.int {
		return C.genesis_service_get_url(ptr, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	}); err != nil {
		return "", err
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0]))), nil
}

// Connect registers with the coordinator at frontDoor, waiting at most until ctx's deadline
// (default 10 s) for the acknowledgement, then heartbeats in the background. With eventBus
// not "", local events reach the component's OnEvent. frontDoor and eventBus may each be a
// comma-separated list of cluster nodes (see ConnectNodes).
func (s *Service) Connect(ctx context.Context, frontDoor, eventBus string) error {
	ms, err := ctxTimeoutMs(ctx)
	if err != nil {
		return err
	}
	ptr, err := s.handle()
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	fd := C.CString(frontDoor)
	defer C.free(unsafe.Pointer(fd))
	bus := optionalCString(eventBus)
	defer C.free(unsafe.Pointer(bus))
	return call("connect "+s.id+" to "+frontDoor, func() C.int {
		return C.genesis_service_connect(ptr, fd, bus, ms)
	})
}

// ConnectNodes registers with every cluster node whose front door is listed, returning once
// one accepted (or with the first failure when all failed); the service heartbeats each node
// and registers again with a node that comes back. eventBuses may be nil.
func (s *Service) ConnectNodes(ctx context.Context, frontDoors, eventBuses []string) error {
	return s.Connect(ctx, strings.Join(frontDoors, ","), strings.Join(eventBuses, ","))
}

// Emit publishes a local event through the coordinator (source = this service's id).
func (s *Service) Emit(ctx context.Context, typ string, data []byte, opts ...CallOption) error {
	o, err := newCallOptions(ctx, opts)
	if err != nil {
		return err
	}
	defer o.free()
	ptr, err := s.handle()
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	ctyp := C.CString(typ)
	defer C.free(unsafe.Pointer(ctyp))
	_, err = callResult("emit "+typ, func(res **C.genesis_result) C.int {
		return C.genesis_service_emit(ptr, ctyp, bytesPtr(data), C.size_t(len(data)), &o.opts, res)
	})
	return err
}

// Checkpoint hands state to the coordinator and waits until it is durable in the
// coordinator's checkpoint store; it returns the stored generation. ctx's deadline bounds the
// wait (none: 10 s). On an error the previous checkpoint is kept: NotFound (not registered
// yet: try again), ResourceExhausted (ReasonStorageFull, ReasonQueueFull),
// FailedPrecondition (the coordinator has no store), Unavailable.
func (s *Service) Checkpoint(ctx context.Context, state []byte) (uint64, error) {
	ms, err := ctxTimeoutMs(ctx)
	if err != nil {
		return 0, err
	}
	return blocking(ctx, func() (uint64, error) {
		ptr, err := s.handle()
		if err != nil {
			return 0, err
		}
		defer s.mu.RUnlock()
		var gen C.uint64_t
		err = call("checkpoint "+s.id, func() C.int {
			return C.genesis_service_checkpoint(ptr, bytesPtr(state), C.size_t(len(state)), ms, &gen)
		})
		return uint64(gen), err
	})
}

// InjectFault injects a fault into this service's request handling (nil clears it). A Crash
// fault kills this whole process on the next request, as a real crash would.
func (s *Service) InjectFault(ctx context.Context, fault *Fault) error {
	var cf *C.genesis_fault
	if fault != nil {
		f, err := fault.toC()
		if err != nil {
			return err
		}
		cf = &f
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ptr, err := s.handle()
	if err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return call("inject fault into "+s.id, func() C.int { return C.genesis_service_inject_fault(ptr, cf) })
}

// RequestsServed is how many requests this service has served.
func (s *Service) RequestsServed() uint64 {
	ptr, err := s.handle()
	if err != nil {
		return 0
	}
	defer s.mu.RUnlock()
	return uint64(C.genesis_service_get_requests_served(ptr))
}

// Close unregisters (best effort, bounded wait), waits for running handlers and frees the
// service. Idempotent; must not be called from one of its handlers.
func (s *Service) Close() error {
	s.mu.Lock()
	ptr := s.ptr
	s.ptr = nil
	s.mu.Unlock()
	if ptr != nil {
		C.genesis_service_free(ptr) // no callback runs after it returns
		s.release()
	}
	return nil
}

func (s *Service) release() {
	s.h.Delete()
	if s.logH != 0 {
		s.logH.Delete()
	}
}
