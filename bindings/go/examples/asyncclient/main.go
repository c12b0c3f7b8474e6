// Command asyncclient sends hundreds of concurrent requests from goroutines sharing one
// Client (every Client method is safe for concurrent use). It first raises the target's
// bulkhead (policy max_concurrency / max_queued, an operator command) so that every
// request is admitted, then starts N requests at once and waits for all of them. Then it
// shows cancellation: a request whose context is cancelled returns at once, and the client
// keeps working.
//
//	genesisd --demo &
//	asyncclient [-front-door URL] [-n 500] [component]
//
// Prints "<N> requests, <N> answered" and exits 0 when all were answered.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"genesis.dev/bindings/go/genesis"
)

func main() {
	frontDoor := flag.String("front-door", envOr("GENESIS_URL", "tcp://127.0.0.1:7400"), "coordinator front door")
	n := flag.Int("n", 500, "concurrent requests")
	flag.Parse()
	target := "comp2"
	if flag.NArg() > 0 {
		target = flag.Arg(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := genesis.Dial(*frontDoor, "", &genesis.ClientOptions{Name: "async-client"})
	if err != nil {
		fail(err)
	}
	defer cl.Close()
	conc := *n
	if conc > 256 {
		conc = 256
	}
	if _, err := cl.Admin(ctx, "policy", target, "max_concurrency="+strconv.Itoa(conc), "max_queued="+strconv.Itoa(*n)); err != nil {
		fail(err)
	}

	start := time.Now()
	errs := make([]error, *n)
	var wg sync.WaitGroup
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = cl.Request(ctx, target, "ping", []byte(strconv.Itoa(i)))
		}(i)
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			if failed < 3 {
				fmt.Fprintln(os.Stderr, "failed:", err)
			}
			failed++
		}
	}
	fmt.Printf("%d requests, %d answered in %.2f s\n", *n, *n-failed, time.Since(start).Seconds())

	short, stop := context.WithCancel(ctx)
	stop()
	if _, err := cl.Request(short, target, "ping", nil); errors.Is(err, context.Canceled) {
		fmt.Println("cancellation: the cancelled request returned at once")
	} else {
		fail(fmt.Errorf("a cancelled request: %v", err))
	}
	res, err := cl.Request(ctx, target, "ping", nil)
	if err != nil {
		fail(err)
	}
	fmt.Println("after cancellation:", string(res.Data))
	if failed > 0 {
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "asyncclient:", err)
	os.Exit(1)
}
