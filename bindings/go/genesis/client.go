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
	"strings"
	"sync"
	"time"
	"unsafe"
)

// ClientOptions configures a client; zero fields take the library's defaults.
type ClientOptions struct {
	Name           string        // default source of requests and emits ("client")
	MaxMessageSize uint          // largest reply accepted (1 MiB)
	DefaultTimeout time.Duration // deadline of calls whose context has none (10 s)
	WorkerThreads  uint          // threads running callbacks (2)
	// Mutual TLS for tls+tcp:// URLs: PEM files, all three or none, read by Dial (a bad
	// file fails it, naming the file); TLSServerName is the name the coordinator's
	// certificate must carry ("" = any certificate signed by the CA).
	TLSCAFile, TLSCertFile, TLSKeyFile, TLSServerName string
}

// Client is a client of a coordinator over NNG (genesis_client).
//
// Concurrency: every method may be called from any goroutine, concurrently. Close cancels
// requests in progress (they fail with CANCELLED), waits for other calls in progress, and must
// not be called from a subscription's delivery.
type Client struct {
	mu     sync.RWMutex // RLock around C calls, Lock in Close
	ptr    *C.genesis_client
	router *router
	routeH cgo.Handle // 0 until the first Subscribe
}

// Dial creates a client connected to a coordinator's front door, and to its event bus when
// eventBus is not "" (needed to subscribe). Connecting happens in the background, so Dial
// succeeds before the coordinator is up; requests wait for the connection within their
// deadline. opts may be nil. frontDoor and eventBus may each be a comma-separated list of
// cluster nodes (see DialNodes).
func Dial(frontDoor, eventBus string, opts *ClientOptions) (*Client, error) {
	var o C.genesis_client_options
	if err := call("genesis_client_options_init", func() C.int {
		return C.genesis_client_options_init(&o, C.GENESIS_CLIENT_OPTIONS_VERSION)
	}); err != nil {
		return nil, err
	}
	var name *C.char
	if opts != nil {
		name = optionalCString(opts.Name)
		defer C.free(unsafe.Pointer(name)) // copied by genesis_client_new
		o.name = name
		o.max_message_size = C.size_t(opts.MaxMessageSize)
		t, err := durationMs(opts.DefaultTimeout, "DefaultTimeout")
		if err != nil {
			return nil, err
		}
		o.default_timeout_ms = t
		o.worker_threads = C.uint(opts.WorkerThreads)
		free := setTLS(&o.tls_ca_file, &o.tls_cert_file, &o.tls_key_file, &o.tls_server_name,
			opts.TLSCAFile, opts.TLSCertFile, opts.TLSKeyFile, opts.TLSServerName)
		defer free() // the files are read, the name copied, by genesis_client_new
	}
	cl := &Client{router: &router{}}
	if err := call("create client", func() C.int { return C.genesis_client_new(&cl.ptr, &o) }); err != nil {
		return nil, err
	}
	fd := C.CString(frontDoor)
	defer C.free(unsafe.Pointer(fd))
	bus := optionalCString(eventBus)
	defer C.free(unsafe.Pointer(bus))
	if err := call("dial "+frontDoor, func() C.int { return C.genesis_client_dial(cl.ptr, fd, bus) }); err != nil {
		C.genesis_client_free(cl.ptr)
		return nil, err
	}
	return cl, nil
}

// DialNodes creates a client of several cluster nodes: it dials every front door and event
// bus (eventBuses may be nil). When the node serving a call is lost, an idempotent request
// (Idempotent()) or a status query is sent again to another node within its deadline;
// other calls fail with Unavailable, ReasonUnreachable and a message saying the call may
// or may not have run. Subscriptions receive from every listed bus.
func DialNodes(frontDoors, eventBuses []string, opts *ClientOptions) (*Client, error) {
	return Dial(strings.Join(frontDoors, ","), strings.Join(eventBuses, ","), opts)
}

func (cl *Client) handle() (*C.genesis_client, error) {
	cl.mu.RLock()
	if cl.ptr == nil {
		cl.mu.RUnlock()
		return nil, errClosed("client")
	}
	return cl.ptr, nil
}

// Request sends a request to a component through the coordinator and waits, at most until
// ctx's deadline (the call's deadline) or cancellation. When the coordinator itself does
// not answer, the error's reason is ReasonUnreachable.
func (cl *Client) Request(ctx context.Context, target, typ string, data []byte, opts ...CallOption) (*Result, error) {
	o, err := newCallOptions(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer o.free()
	ptr, err := cl.handle()
	if err != nil {
		return nil, err
	}
	cs, free := cstrings(target, typ)
	defer free()
	// Always asynchronous: Close from another goroutine then cancels the call at once
	// (CANCELLED) instead of waiting for its deadline.
	return startAsync(ctx, "request "+target+"/"+typ, o.requestID(), func(h C.uintptr_t) C.int {
		defer cl.mu.RUnlock()
		return C.gg_client_request_async(ptr, cs[0], cs[1], bytesPtr(data), C.size_t(len(data)), &o.opts, h)
	})
}

// Emit publishes a local event through the coordinator and waits for its acknowledgement.
func (cl *Client) Emit(ctx context.Context, typ string, data []byte, opts ...CallOption) error {
	o, err := newCallOptions(ctx, opts)
	if err != nil {
		return err
	}
	defer o.free()
	ptr, err := cl.handle()
	if err != nil {
		return err
	}
	defer cl.mu.RUnlock()
	ctyp := C.CString(typ)
	defer C.free(unsafe.Pointer(ctyp))
	_, err = callResult("emit "+typ, func(res **C.genesis_result) C.int {
		return C.genesis_client_emit(ptr, ctyp, bytesPtr(data), C.size_t(len(data)), &o.opts, res)
	})
	return err
}

// EmitTo sends an external event to one component (as the gateway does with a WebSocket
// client's message) and waits for the acknowledgement: the target's OnEvent sees it with
// External set. NotFound when target is not registered, FailedPrecondition when it takes no
// events. WithSource names the sender.
func (cl *Client) EmitTo(ctx context.Context, target, typ string, data []byte, opts ...CallOption) error {
	o, err := newCallOptions(ctx, opts)
	if err != nil {
		return err
	}
	defer o.free()
	_, err = blocking(ctx, func() (struct{}, error) {
		ptr, err := cl.handle()
		if err != nil {
			return struct{}{}, err
		}
		defer cl.mu.RUnlock()
		cs, free := cstrings(target, typ)
		defer free()
		_, err = callResult("emit "+typ+" to "+target, func(res **C.genesis_result) C.int {
			return C.genesis_client_emit_to(ptr, cs[0], cs[1], bytesPtr(data), C.size_t(len(data)), &o.opts, res)
		})
		return struct{}{}, err
	})
	return err
}

// Admin sends an operator command to the coordinator ("mode", "breaker", "policy", "fault",
// "checkpoint", see genesis_coordinator_admin) and returns its JSON answer. ctx's deadline is
// the command's deadline (none: the client's default).
func (cl *Client) Admin(ctx context.Context, command string, args ...string) (json.RawMessage, error) {
	ms, err := ctxTimeoutMs(ctx)
	if err != nil {
		return nil, err
	}
	return blocking(ctx, func() (json.RawMessage, error) {
		ptr, err := cl.handle()
		if err != nil {
			return nil, err
		}
		defer cl.mu.RUnlock()
		cmd, array, n, free := adminArgs(command, args)
		defer free()
		r, err := callResult("admin "+command, func(res **C.genesis_result) C.int {
			return C.genesis_client_admin(ptr, cmd, array, n, ms, res)
		})
		if err != nil {
			return nil, err
		}
		return json.RawMessage(r.Data), nil
	})
}

// setTLS points the four TLS fields of an options struct at C copies of the strings ("" stays
// NULL); the returned func frees them.
func setTLS(ca, cert, key, name **C.char, caFile, certFile, keyFile, serverName string) func() {
	var held []*C.char
	for _, f := range []struct {
		dst **C.char
		val string
	}{{ca, caFile}, {cert, certFile}, {key, keyFile}, {name, serverName}} {
		if f.val != "" {
			cs := C.CString(f.val)
			held = append(held, cs)
			*f.dst = cs
		}
	}
	return func() {
		for _, cs := range held {
			C.free(unsafe.Pointer(cs))
		}
	}
}

// Status asks the coordinator for its JSON status report.
func (cl *Client) Status(ctx context.Context) (json.RawMessage, error) {
	ms, err := ctxTimeoutMs(ctx)
	if err != nil {
		return nil, err
	}
	ptr, err := cl.handle()
	if err != nil {
		return nil, err
	}
	defer cl.mu.RUnlock()
	r, err := callResult("status", func(res **C.genesis_result) C.int {
		return C.genesis_client_status(ptr, ms, res)
	})
	if err != nil {
		return nil, err
	}
	return json.RawMessage(r.Data), nil
}

// Subscription delivers bus events whose topic ("local:<type>", "external:<type>") starts
// with its prefix on the channel C. Events wait in C's buffer; when it is full, new events
// are dropped and counted by Dropped (library threads never wait for Go). C is closed by
// Close or by the client's Close.
type Subscription struct {
	C      <-chan *Event
	prefix string
	ch     chan *Event
	mu     sync.Mutex
	closed bool
	drops  uint64
	router *router
}

// Dropped is how many events this subscription lost because its channel was full.
func (s *Subscription) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drops
}

func (s *Subscription) deliver(ev *Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.ch <- ev:
	default:
		s.drops++
	}
}

// Close stops delivery to this subscription and closes C. Idempotent.
func (s *Subscription) Close() {
	s.router.remove(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

// router is the client's one event callback (the C client has one per client); it fans
// events out to the subscriptions whose prefix matches.
type router struct {
	mu   sync.Mutex
	subs []*Subscription
}

func (r *router) deliver(ev *Event) {
	topic := ev.Topic()
	r.mu.Lock()
	subs := make([]*Subscription, 0, len(r.subs))
	for _, s := range r.subs {
		if strings.HasPrefix(topic, s.prefix) {
			subs = append(subs, s)
		}
	}
	r.mu.Unlock()
	for _, s := range subs {
		s.deliver(ev)
	}
}

func (r *router) remove(s *Subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.subs {
		if x == s {
			r.subs = append(r.subs[:i], r.subs[i+1:]...)
			return
		}
	}
}

// Subscribe receives bus events whose topic starts with prefix ("" for all, "local:",
// "external:", "local:status_update"); buffer is the channel's capacity (0 = 1024). The
// client must have been dialed with an event-bus URL. NNG pub/sub is best effort: events
// lost on the way show up in EventsLost.
func (cl *Client) Subscribe(prefix string, buffer int) (*Subscription, error) {
	if buffer <= 0 {
		buffer = 1024
	}
	ch := make(chan *Event, buffer)
	s := &Subscription{C: ch, ch: ch, prefix: prefix, router: cl.router}
	ptr, err := cl.handle()
	if err != nil {
		return nil, err
	}
	defer cl.mu.RUnlock()
	cl.router.mu.Lock()
	if cl.routeH == 0 {
		cl.routeH = cgo.NewHandle(eventSink(cl.router))
	}
	h := cl.routeH
	cl.router.subs = append(cl.router.subs, s)
	cl.router.mu.Unlock()
	cp := C.CString(prefix)
	defer C.free(unsafe.Pointer(cp))
	if err := call("subscribe "+prefix, func() C.int { return C.gg_client_subscribe(ptr, cp, C.uintptr_t(h)) }); err != nil {
		cl.router.remove(s)
		return nil, err
	}
	return s, nil
}

// EventsLost is how many bus events were missed so far (sequence gaps plus drops in the
// library's queue; a Subscription's own drops are its Dropped).
func (cl *Client) EventsLost() uint64 {
	ptr, err := cl.handle()
	if err != nil {
		return 0
	}
	defer cl.mu.RUnlock()
	return uint64(C.genesis_client_get_events_lost(ptr))
}

// Close cancels outstanding requests (they fail with CANCELLED / SHUTTING_DOWN), closes the
// sockets, frees the client and closes every subscription. An Emit or Status running in
// another goroutine is waited for (its deadline bounds it). Idempotent; must not be called
// from a callback.
func (cl *Client) Close() error {
	cl.mu.Lock()
	ptr := cl.ptr
	cl.ptr = nil
	cl.mu.Unlock()
	if ptr != nil {
		C.genesis_client_free(ptr) // no callback runs after it returns
	}
	cl.router.mu.Lock()
	subs := append([]*Subscription(nil), cl.router.subs...)
	h := cl.routeH
	cl.routeH = 0
	cl.router.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
	if h != 0 {
		h.Delete()
	}
	return nil
}
