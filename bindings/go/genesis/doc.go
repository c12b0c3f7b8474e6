// Package genesis is the Go binding of Genesis, a resilient component coordinator, over the
// stable C ABI of libgenesis (libgenesis.so.1), with cgo and the standard library only.
//
// Three roles, as in C:
//   - Coordinator: embed a coordinator and register components written in Go, and operate it
//     (policies, modes, breakers, faults, admin commands, checkpoints);
//   - Client: request, emit, status, admin and subscribe against a coordinator over NNG;
//   - Service: serve a component from this process to a coordinator elsewhere.
//
// Failures are *Error values carrying a Status and a Reason; errors.Is(err, genesis.NotFound)
// and errors.Is(err, genesis.ReasonBulkheadFull) classify them, errors.Is(err,
// genesis.ErrClosed) tells a call on a closed handle. Every call that can block takes a
// context.Context: a done context fails it up front, its deadline becomes the call's
// deadline, and cancelling it returns at once. Coordinator, Client and Service are safe for
// concurrent use by many goroutines; each must be closed with Close, which must not be called
// from one of its own callbacks. Handlers run on the library's worker threads; the library
// only ever holds runtime/cgo handles (integers), never Go pointers.
//
// The module path genesis.dev/bindings/go is not served by any host yet: use a checkout with
//
//	require genesis.dev/bindings/go v0.0.0
//	replace genesis.dev/bindings/go => /path/to/genesis/bindings/go
//
// Building: cgo needs the headers and the library. From an installed Genesis (cmake
// --install) in a standard prefix nothing is needed; from a build tree set
//
//	CGO_CFLAGS=-I<repo>/core/include CGO_LDFLAGS="-L<build>/lib -Wl,-rpath,<build>/lib"
package genesis

/*
#cgo LDFLAGS: -lgenesis
*/
import "C"
