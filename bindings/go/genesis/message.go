package genesis

/*
#include <stdlib.h>
#include <genesis/genesis.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"time"
	"unsafe"
)

// Criticality of a request or event (Google SRE); degradation modes shed from the bottom.
type Criticality int

// The criticalities.
const (
	CriticalityDefault   Criticality = 0
	CriticalityCritical  Criticality = 1
	CriticalitySheddable Criticality = 2
)

// LogLevel filters the library's log messages. The zero value keeps the library's default
// (warnings and errors).
type LogLevel int

// The log levels.
const (
	LogDefault LogLevel = iota
	LogError
	LogWarn
	LogInfo
	LogDebug
)

// cLevel is the genesis_log_level, or -1 for the default.
func (l LogLevel) cLevel() int { return int(l) - 1 }

// Request is a request as a component's handler sees it (copied out of C: it stays valid).
type Request struct {
	Type        string
	Source      string
	Target      string
	Data        []byte
	ContentType string
	Criticality Criticality
	ID          uint64 // end-to-end correlation id
}

// Reply is what a handler answers. The zero Reply is an empty OK reply.
type Reply struct {
	Data        []byte
	ContentType string
}

// Text is a text/plain reply.
func Text(s string) Reply { return Reply{Data: []byte(s), ContentType: "text/plain"} }

// Result is the successful outcome of a request; failures are returned as errors.
type Result struct {
	Data        []byte
	ContentType string
}

// Event is a local or external event (copied out of C).
type Event struct {
	Type        string
	Source      string
	Data        []byte
	ContentType string
	Sequence    uint64
	External    bool
}

// Topic is the event-bus topic: "local:<type>" or "external:<type>".
func (e *Event) Topic() string {
	if e.External {
		return "external:" + e.Type
	}
	return "local:" + e.Type
}

// Component is a component's callbacks. OnRequest runs on a library worker thread, possibly
// concurrently with itself; its ctx carries the caller's deadline. Returning an error replies
// with it: an *Error or a Status picks the status, any other error replies UNKNOWN. A panic is
// recovered and replies UNKNOWN too. OnEvent (optional) gets local events, and external
// events sent to this component (Event.External), one at a time.
//
// Snapshot and Restore (optional) make the component's state durable when the coordinator has
// a checkpoint store: Snapshot hands the state over (every checkpoint interval after the
// component changed, and on CheckpointNow; it may run while handlers run, so the component
// protects its own state); Restore gets the latest stored state back before the component
// serves its first request (an error has the next older generation offered). A Service only
// uses Restore: it stores checkpoints itself with Service.Checkpoint.
type Component struct {
	OnRequest func(ctx context.Context, req *Request) (Reply, error)
	OnEvent   func(ev *Event)
	Snapshot  func() ([]byte, error)
	Restore   func(state []byte, generation uint64) error
}

// flags are the shim's GG_WITH_* bits for the callbacks comp has besides OnRequest.
func (comp *Component) flags() C.int {
	var with C.int
	if comp.OnEvent != nil {
		with |= C.GG_WITH_EVENTS
	}
	if comp.Snapshot != nil {
		with |= C.GG_WITH_SNAPSHOT
	}
	if comp.Restore != nil {
		with |= C.GG_WITH_RESTORE
	}
	return with
}

// CallOption adjusts one request or emit.
type CallOption func(*callSettings)

type callSettings struct {
	criticality Criticality
	idempotent  bool
	source      string
	contentType string
	timeout     time.Duration
	requestID   uint64
}

// WithRequestID sets the end-to-end correlation id (an HTTP X-Request-Id); 0 lets the
// coordinator assign one. Handlers read it as Request.ID.
func WithRequestID(id uint64) CallOption { return func(s *callSettings) { s.requestID = id } }

// WithCriticality sets the request's criticality.
func WithCriticality(c Criticality) CallOption { return func(s *callSettings) { s.criticality = c } }

// Idempotent marks the request safe to retry after it reached a handler.
func Idempotent() CallOption { return func(s *callSettings) { s.idempotent = true } }

// WithSource names the caller (a component id or client name).
func WithSource(source string) CallOption { return func(s *callSettings) { s.source = source } }

// WithContentType sets the payload's media type (default application/octet-stream).
func WithContentType(ct string) CallOption { return func(s *callSettings) { s.contentType = ct } }

// WithTimeout bounds the call when the context has no (earlier) deadline.
func WithTimeout(d time.Duration) CallOption { return func(s *callSettings) { s.timeout = d } }

// cOptions is a genesis_call_options plus the C strings it points to.
type cOptions struct {
	opts    C.genesis_call_options
	strings []*C.char
}

// newCallOptions maps ctx's deadline (and WithTimeout) onto timeout_ms. It fails with the
// context's error when the deadline has already passed or ctx is done.
func newCallOptions(ctx context.Context, options []CallOption) (*cOptions, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var s callSettings
	for _, o := range options {
		o(&s)
	}
	o := &cOptions{}
	if err := call("genesis_call_options_init", func() C.int {
		return C.genesis_call_options_init(&o.opts, C.GENESIS_CALL_OPTIONS_VERSION)
	}); err != nil {
		return nil, err
	}
	timeout := s.timeout
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, context.DeadlineExceeded
		}
		if timeout == 0 || left < timeout {
			timeout = left
		}
	}
	if timeout > 0 {
		ms := timeout.Milliseconds()
		if ms < 1 {
			ms = 1
		}
		if ms > math.MaxUint32 {
			ms = math.MaxUint32
		}
		o.opts.timeout_ms = C.uint32_t(ms)
	}
	o.opts.criticality = C.int(s.criticality)
	if s.idempotent {
		o.opts.idempotent = 1
	}
	if s.source != "" {
		o.opts.source = o.cstring(s.source)
	}
	if s.contentType != "" {
		o.opts.content_type = o.cstring(s.contentType)
	}
	o.opts.request_id = C.uint64_t(s.requestID)
	return o, nil
}

// requestID is the call's request id, chosen here when the caller set none, so that a
// caller that gives up can find its handler if it runs in this process.
func (o *cOptions) requestID() uint64 {
	if o.opts.request_id == 0 {
		o.opts.request_id = C.uint64_t(inFlight.newID())
	}
	return uint64(o.opts.request_id)
}

func (o *cOptions) cstring(s string) *C.char {
	cs := C.CString(s)
	o.strings = append(o.strings, cs)
	return cs
}

func (o *cOptions) free() {
	for _, cs := range o.strings {
		C.free(unsafe.Pointer(cs))
	}
	o.strings = nil
}

// cstrings allocates C copies of strings; the returned func frees them.
func cstrings(s ...string) ([]*C.char, func()) {
	out := make([]*C.char, len(s))
	for i, v := range s {
		out[i] = C.CString(v)
	}
	return out, func() {
		for _, cs := range out {
			C.free(unsafe.Pointer(cs))
		}
	}
}

// optionalCString is NULL for "".
func optionalCString(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// bytesPtr points C at a payload for the duration of a call (the library copies it).
func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

func goBytes(p unsafe.Pointer, n C.size_t) []byte {
	if p == nil || n == 0 {
		return []byte{}
	}
	return C.GoBytes(p, C.int(n))
}

// takeResult reads a C result into a Result or an *Error, and frees it.
func takeResult(res *C.genesis_result) (*Result, error) {
	defer C.genesis_result_free(res)
	var n C.size_t
	data := goBytes(unsafe.Pointer(C.genesis_result_data(res, &n)), n)
	status := Status(C.genesis_result_status(res))
	if status != OK {
		return nil, &Error{Status: status, Reason: Reason(C.genesis_result_reason(res)),
			Message: C.GoString(C.genesis_result_message(res))}
	}
	return &Result{Data: data, ContentType: C.GoString(C.genesis_result_content_type(res))}, nil
}

func requestFromC(req *C.genesis_request) *Request {
	var n C.size_t
	data := goBytes(unsafe.Pointer(C.genesis_request_data(req, &n)), n)
	return &Request{
		Type:        C.GoString(C.genesis_request_type(req)),
		Source:      C.GoString(C.genesis_request_source(req)),
		Target:      C.GoString(C.genesis_request_target(req)),
		Data:        data,
		ContentType: C.GoString(C.genesis_request_content_type(req)),
		Criticality: Criticality(C.genesis_request_criticality(req)),
		ID:          uint64(C.genesis_request_id(req)),
	}
}

func eventFromC(ev *C.genesis_event) *Event {
	var n C.size_t
	data := goBytes(unsafe.Pointer(C.genesis_event_data(ev, &n)), n)
	return &Event{
		Type:        C.GoString(C.genesis_event_type(ev)),
		Source:      C.GoString(C.genesis_event_source(ev)),
		Data:        data,
		ContentType: C.GoString(C.genesis_event_content_type(ev)),
		Sequence:    uint64(C.genesis_event_sequence(ev)),
		External:    C.genesis_event_is_external(ev) != 0,
	}
}

// Version is the loaded library's version string, e.g. "0.1.0".
func Version() string { return C.GoString(C.genesis_version_string()) }

// VersionNumber is the loaded library's version as MAJOR*10000 + MINOR*100 + PATCH.
func VersionNumber() uint { return uint(C.genesis_version_number()) }

// ABIVersion is the ABI (SONAME major) this package is written against.
const ABIVersion = C.GENESIS_ABI_VERSION

func durationMs(d time.Duration, what string) (C.uint32_t, error) {
	if d < 0 {
		return 0, fmt.Errorf("genesis: %s must not be negative", what)
	}
	ms := d.Milliseconds()
	if d > 0 && ms == 0 {
		ms = 1
	}
	if ms > math.MaxUint32 {
		ms = math.MaxUint32
	}
	return C.uint32_t(ms), nil
}

// ctxTimeoutMs is the time left on ctx in milliseconds (0 = no deadline: the default).
func ctxTimeoutMs(ctx context.Context) (C.uint32_t, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0, nil
	}
	left := time.Until(deadline)
	if left <= 0 {
		return 0, context.DeadlineExceeded
	}
	return durationMs(left, "timeout")
}
