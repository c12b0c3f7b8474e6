// Package genesis is the Go binding of Genesis, a resilient component coordinator, over the
// stable C ABI of libgenesis (libgenesis.so.1), with cgo and the standard library only.
//
// Three roles, as in C:
//   - Coordinator: embed a coordinator and register components written in Go;
//   - Client: request, emit, status and subscribe against a coordinator over NNG;
//   - Service: serve a component from this process to a coordinator elsewhere.
//
// Failures are *Error values carrying a Status and a Reason; errors.Is(err, genesis.NotFound)
// and errors.Is(err, genesis.ReasonBulkheadFull) classify them. A context's deadline becomes
// the call's deadline. Handlers run on the library's worker threads; the library only ever
// holds runtime/cgo handles (integers), never Go pointers. Every handle must be closed with
// Close, which must not be called from one of its own callbacks.
//
// Building: cgo needs the headers and the library. From an installed Genesis (cmake
// --install) nothing is needed; from a build tree set
//
//	CGO_CFLAGS=-I<repo>/core/include CGO_LDFLAGS="-L<build>/lib -Wl,-rpath,<build>/lib"
package genesis

/*
#cgo LDFLAGS: -lgenesis
*/
import "C"
