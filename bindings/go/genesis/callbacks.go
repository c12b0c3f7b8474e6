package genesis

/*
#include <stdint.h>
#include <stdlib.h>
#include <genesis/genesis.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// C holds only runtime/cgo.Handle values (integers) as callback arguments; these functions
// turn them back into Go values. They run on library worker threads, which cgo attaches to
// the Go runtime on first use.

type componentEntry struct {
	id   string
	comp Component
}

//export goGenesisOnRequest
func goGenesisOnRequest(req *C.genesis_request, reply *C.genesis_reply, h C.uintptr_t) {
	entry := cgo.Handle(h).Value().(*componentEntry)
	r := requestFromC(req)
	// Every request has a deadline; 0 ms left means it has already passed (ctx is done).
	remaining := time.Duration(C.genesis_request_remaining_ms(req)) * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), remaining)
	defer cancel()
	// A caller in this process whose context ends cancels ctx too.
	defer inFlight.start(r.ID, cancel)()
	out, err := runHandler(ctx, entry, r)
	if err != nil {
		replyError(reply, err)
		return
	}
	var ct *C.char
	if out.ContentType != "" {
		ct = C.CString(out.ContentType)
		defer C.free(unsafe.Pointer(ct))
	}
	if rv := C.genesis_reply_set(reply, bytesPtr(out.Data), C.size_t(len(out.Data)), ct); rv != 0 {
		replyError(reply, &Error{Status: Status(rv),
			Message: fmt.Sprintf("reply of %s refused: %s", entry.id, C.GoString(C.genesis_last_error()))})
	}
}

// runHandler calls the Go handler, turning a panic into an error reply.
func runHandler(ctx context.Context, entry *componentEntry, r *Request) (out Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Status: Unknown, Message: fmt.Sprintf("handler of %s panicked: %v", entry.id, p)}
		}
	}()
	out, err = entry.comp.OnRequest(ctx, r)
	if err != nil {
		var ge *Error
		var st Status
		switch {
		case errors.As(err, &ge):
		case errors.As(err, &st):
			err = &Error{Status: st, Message: err.Error()}
		default:
			err = &Error{Status: Unknown, Message: fmt.Sprintf("handler of %s failed: %v", entry.id, err)}
		}
	}
	return out, err
}

func replyError(reply *C.genesis_reply, err error) {
	var ge *Error
	errors.As(err, &ge)
	status := ge.Status
	msg := ge.Message
	if status == OK { // the library refuses OK as an error status
		status, msg = Unknown, "handler returned an error with status OK: "+msg
	}
	cmsg := C.CString(msg)
	defer C.free(unsafe.Pointer(cmsg))
	C.genesis_reply_error(reply, C.int(status), cmsg)
}

// eventSink receives events for one handle: a component's OnEvent or a client's router.
type eventSink interface {
	deliver(ev *Event)
}

func (e *componentEntry) deliver(ev *Event) {
	if e.comp.OnEvent == nil {
		return
	}
	defer func() { _ = recover() }() // an event has nobody to answer to: a panic is dropped
	e.comp.OnEvent(ev)
}

//export goGenesisOnEvent
func goGenesisOnEvent(ev *C.genesis_event, h C.uintptr_t) {
	cgo.Handle(h).Value().(eventSink).deliver(eventFromC(ev))
}

//export goGenesisOnSnapshot
func goGenesisOnSnapshot(snap *C.genesis_snapshot, h C.uintptr_t) (rv C.int) {
	entry := cgo.Handle(h).Value().(*componentEntry)
	defer func() {
		if p := recover(); p != nil {
			rv = C.int(Unknown) // this checkpoint is skipped (logged), retried next interval
		}
	}()
	state, err := entry.comp.Snapshot()
	if err != nil {
		return C.int(statusOf(err))
	}
	return C.genesis_snapshot_set(snap, bytesPtr(state), C.size_t(len(state)))
}

//export goGenesisOnRestore
func goGenesisOnRestore(data unsafe.Pointer, n C.size_t, generation C.uint64_t, h C.uintptr_t) (rv C.int) {
	entry := cgo.Handle(h).Value().(*componentEntry)
	defer func() {
		if p := recover(); p != nil {
			rv = C.int(Unknown) // the next older generation is offered
		}
	}()
	if err := entry.comp.Restore(goBytes(data, n), uint64(generation)); err != nil {
		return C.int(statusOf(err))
	}
	return 0
}

// statusOf is the status an error from a callback maps to (UNKNOWN unless it names one).
func statusOf(err error) Status {
	var ge *Error
	var st Status
	switch {
	case errors.As(err, &ge) && ge.Status != OK:
		return ge.Status
	case errors.As(err, &st) && st != OK:
		return st
	}
	return Unknown
}

// AdminHandler answers an operator command routed to it by SetAdminHandler: it returns the
// reply payload (JSON by convention) or an error (an *Error or Status picks the status).
// It runs on one of the coordinator's worker threads (two admin commands at a time) and may
// block briefly.
type AdminHandler func(command string, args []string) ([]byte, error)

//export goGenesisOnAdmin
func goGenesisOnAdmin(command *C.char, args **C.char, nargs C.size_t, reply *C.genesis_reply, h C.uintptr_t) {
	fn := cgo.Handle(h).Value().(AdminHandler)
	words := make([]string, int(nargs))
	if nargs > 0 {
		for i, a := range unsafe.Slice(args, int(nargs)) {
			words[i] = C.GoString(a)
		}
	}
	name := C.GoString(command)
	out, err := func() (out []byte, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &Error{Status: Unknown, Message: fmt.Sprintf("admin handler for %s panicked: %v", name, p)}
			}
		}()
		return fn(name, words)
	}()
	if err != nil {
		msg := err.Error()
		if ge := (*Error)(nil); errors.As(err, &ge) {
			msg = ge.Message
		}
		replyError(reply, &Error{Status: statusOf(err), Message: msg})
		return
	}
	ct := C.CString("application/json")
	defer C.free(unsafe.Pointer(ct))
	C.genesis_reply_set(reply, bytesPtr(out), C.size_t(len(out)), ct)
}

// LogFunc receives the library's log lines. It runs on library threads, possibly
// concurrently, and must not call back into the object that logs.
type LogFunc func(level LogLevel, message string)

//export goGenesisOnLog
func goGenesisOnLog(level C.int, message *C.char, h C.uintptr_t) {
	defer func() { _ = recover() }() // a log sink must not break the library's thread
	cgo.Handle(h).Value().(LogFunc)(LogLevel(level)+1, C.GoString(message))
}

// pendingCall is an asynchronous request waiting for its completion callback.
type pendingCall struct {
	done chan outcome
	id   uint64 // its request id: a caller that gives up cancels handlers running here
}

// inFlight tracks the handlers running in this process by request id, so that a caller in
// this process whose context ends also cancels its handler's context (the C API has no
// per-request cancel, and a handler in another process cannot be reached). Ids of abandoned
// requests are remembered until their outcome arrives, so a handler that had not started yet
// starts with its context already cancelled.
var inFlight = &handlerTable{running: map[uint64]map[*context.CancelFunc]struct{}{}, abandoned: map[uint64]struct{}{}}

type handlerTable struct {
	mu        sync.Mutex
	running   map[uint64]map[*context.CancelFunc]struct{}
	abandoned map[uint64]struct{}
	next      uint64
}

// newID is a request id unlikely to meet one the coordinator assigns (those count from 1).
func (t *handlerTable) newID() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.next == 0 {
		t.next = rand.Uint64()>>2 | 1<<62
	}
	t.next++
	return t.next
}

// start records a handler's cancel func under id; the returned func removes it.
func (t *handlerTable) start(id uint64, cancel context.CancelFunc) func() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, gone := t.abandoned[id]; gone {
		cancel()
		return func() {}
	}
	if t.running[id] == nil {
		t.running[id] = map[*context.CancelFunc]struct{}{}
	}
	key := &cancel
	t.running[id][key] = struct{}{}
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.running[id], key)
		if len(t.running[id]) == 0 {
			delete(t.running, id)
		}
	}
}

// abandon cancels the handlers running for id and remembers it until forget.
func (t *handlerTable) abandon(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.abandoned[id] = struct{}{}
	for cancel := range t.running[id] {
		(*cancel)()
	}
}

func (t *handlerTable) forget(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.abandoned, id)
}

type outcome struct {
	res *Result
	err error
}

//export goGenesisOnResult
func goGenesisOnResult(res *C.genesis_result, h C.uintptr_t) {
	handle := cgo.Handle(h)
	p := handle.Value().(*pendingCall)
	handle.Delete()
	inFlight.forget(p.id)
	var o outcome
	if res == nil {
		o.err = &Error{Status: ResourceExhausted, Reason: ReasonNoMemory, Message: "out of memory"}
	} else {
		o.res, o.err = takeResult(res)
	}
	p.done <- o // buffered: never blocks the worker thread
}

// startAsync starts a request with start(handle) and waits for its outcome or for ctx. When
// ctx ends first the call keeps running in the library (its deadline bounds it) and its
// outcome is discarded.
func startAsync(ctx context.Context, what string, id uint64, start func(h C.uintptr_t) C.int) (*Result, error) {
	p := &pendingCall{done: make(chan outcome, 1), id: id}
	handle := cgo.NewHandle(p)
	if err := call(what, func() C.int { return start(C.uintptr_t(handle)) }); err != nil {
		handle.Delete() // the callback never runs when the start fails
		return nil, err
	}
	select {
	case o := <-p.done:
		return o.res, o.err
	case <-ctx.Done():
		inFlight.abandon(id) // forgotten when the outcome arrives
		return nil, ctx.Err()
	}
}
