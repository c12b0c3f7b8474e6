package genesis

/*
#include <genesis/genesis.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// Status is a gRPC status code as Genesis reports it (genesis_status). A Status is also an
// error value, so errors.Is(err, genesis.NotFound) tells what kind of failure err is.
type Status int

// The status codes: gRPC's names and numbers.
const (
	OK                 Status = 0
	Cancelled          Status = 1
	Unknown            Status = 2
	InvalidArgument    Status = 3
	DeadlineExceeded   Status = 4
	NotFound           Status = 5
	AlreadyExists      Status = 6
	PermissionDenied   Status = 7
	ResourceExhausted  Status = 8
	FailedPrecondition Status = 9
	Aborted            Status = 10
	OutOfRange         Status = 11
	Unimplemented      Status = 12
	Internal           Status = 13
	Unavailable        Status = 14
	DataLoss           Status = 15
	Unauthenticated    Status = 16
)

// String is the canonical name, e.g. "DEADLINE_EXCEEDED" (also for codes added later).
func (s Status) String() string { return C.GoString(C.genesis_status_name(C.int(s))) }

// Error makes a Status usable as a sentinel error for errors.Is.
func (s Status) Error() string { return C.GoString(C.genesis_strerror(C.int(s))) }

// Reason says why a call failed in more detail than its Status (genesis_reason). Like
// Status, a Reason is an error value for errors.Is: errors.Is(err, genesis.ReasonBulkheadFull).
type Reason int

// The reasons (append-only in the C library; unknown values still print their number).
const (
	ReasonNone                 Reason = 0
	ReasonBreakerOpen          Reason = 1
	ReasonBulkheadFull         Reason = 2
	ReasonShedByMode           Reason = 3
	ReasonRetryBudgetExhausted Reason = 4
	ReasonDeadlineExceeded     Reason = 5
	ReasonComponentDown        Reason = 6
	ReasonNotFound             Reason = 7
	ReasonAlreadyRegistered    Reason = 8
	ReasonMalformedMessage     Reason = 9
	ReasonMessageTooLarge      Reason = 10
	ReasonHandlerError         Reason = 11
	ReasonTransportError       Reason = 12
	ReasonShuttingDown         Reason = 13
	ReasonQueueFull            Reason = 14
	ReasonInvalidArgument      Reason = 15
	ReasonNoMemory             Reason = 16
	ReasonUnsupportedVersion   Reason = 17
	ReasonUnknownMessage       Reason = 18
	ReasonNoHandler            Reason = 19
	ReasonTimeout              Reason = 20
	ReasonUnreachable          Reason = 21
	ReasonLimitReached         Reason = 22
	ReasonStorageFull          Reason = 23
	ReasonStorageError         Reason = 24
	ReasonCheckpointCorrupt    Reason = 25
)

// String is the canonical name, e.g. "BULKHEAD_FULL".
func (r Reason) String() string { return C.GoString(C.genesis_reason_name(C.int(r))) }

// Error makes a Reason usable as a sentinel error for errors.Is.
func (r Reason) Error() string { return "genesis reason " + r.String() }

// Error is a failed Genesis call: a status, a reason and the library's message.
//
// errors.Is(err, s) holds for its Status s and its Reason; a DEADLINE_EXCEEDED error also
// matches context.DeadlineExceeded and a CANCELLED one context.Canceled, so code written for
// contexts keeps working. errors.As(err, &e) with e *genesis.Error reads the fields.
type Error struct {
	Status  Status
	Reason  Reason
	Message string
	closed  bool // raised by the binding: the handle was closed (errors.Is(err, ErrClosed))
}

// ErrClosed matches (errors.Is) the error of a call on a closed Coordinator, Client or
// Service: a FAILED_PRECONDITION *Error raised before anything reached C.
var ErrClosed = errors.New("genesis: use of a closed handle")

func errClosed(kind string) *Error {
	return &Error{Status: FailedPrecondition, Message: "the " + kind + " is closed", closed: true}
}

func (e *Error) Error() string {
	text := e.Status.String()
	if e.Reason != ReasonNone {
		text += " (" + e.Reason.String() + ")"
	}
	if e.Message != "" {
		text += ": " + e.Message
	}
	return text
}

// Is reports whether target is this error's Status or Reason (or the matching context
// error).
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Status:
		return t == e.Status
	case Reason:
		return t == e.Reason && t != ReasonNone
	case *Error:
		return t.Status == e.Status && (t.Reason == ReasonNone || t.Reason == e.Reason)
	}
	switch target {
	case ErrClosed:
		return e.closed
	case context.DeadlineExceeded:
		return e.Status == DeadlineExceeded
	case context.Canceled:
		return e.Status == Cancelled
	}
	return false
}

// Errorf builds an *Error a handler can return to reply with a chosen status.
func Errorf(status Status, format string, args ...interface{}) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// call runs one C call that returns a status and turns a failure into an *Error explained by
// genesis_last_error. The OS thread is locked across both C calls because the last error is
// thread-local and a goroutine may otherwise move to another thread between them.
func call(what string, f func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rv := f()
	if rv == 0 {
		return nil
	}
	msg := what
	if detail := C.GoString(C.genesis_last_error()); detail != "" {
		msg += ": " + detail
	}
	return &Error{Status: Status(rv), Message: msg}
}

// callResult runs a C call that hands back a genesis_result and turns it into a Result or an
// *Error; without a result (bad parameters) the thread's last error explains the status.
func callResult(what string, f func(out **C.genesis_result) C.int) (*Result, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var res *C.genesis_result
	rv := f(&res)
	if res == nil {
		if rv == 0 {
			return &Result{}, nil
		}
		msg := what
		if detail := C.GoString(C.genesis_last_error()); detail != "" {
			msg += ": " + detail
		}
		return nil, &Error{Status: Status(rv), Message: msg}
	}
	return takeResult(res)
}
