// Command client sends one request through a coordinator and prints the reply: a Go client
// that can call any component, in any language, registered with that coordinator.
//
//	client [-url tcp://127.0.0.1:7400] [-timeout 5s] TARGET TYPE [DATA]
//
// Exit status: 0 on success, 1 when the request failed (the error is printed as
// "error: STATUS (REASON): message"), 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"genesis.dev/bindings/go/genesis"
)

func main() {
	url := flag.String("url", envOr("GENESIS_URL", "tcp://127.0.0.1:7400"), "coordinator front door")
	timeout := flag.Duration("timeout", 5*time.Second, "deadline of the request")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: client [-url URL] [-timeout D] TARGET TYPE [DATA]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 2 || flag.NArg() > 3 {
		flag.Usage()
		os.Exit(2)
	}
	var data []byte
	if flag.NArg() == 3 {
		data = []byte(flag.Arg(2))
	}
	cl, err := genesis.Dial(*url, "", &genesis.ClientOptions{Name: "go-client"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := cl.Request(ctx, flag.Arg(0), flag.Arg(1), data)
	if err != nil {
		var ge *genesis.Error
		if errors.As(err, &ge) {
			fmt.Fprintln(os.Stderr, "error:", ge)
		} else {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		cl.Close()
		os.Exit(1)
	}
	fmt.Printf("%s\n", res.Data)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
