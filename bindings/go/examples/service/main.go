// Command service is a component written in Go, served to a coordinator in another process
// (genesisd, or a coordinator embedded in Python) over NNG. It serves:
//
//	ping  -> "Pong from <id> (go, pid N)"
//	upper -> the payload in upper case
//
// and prints local events from the event bus to stderr.
//
//	service [-id gocomp] [-front-door URL] [-events URL] [-listen URL]
//
// Prints "ready url=<listen url>" once registered; SIGINT/SIGTERM unregister it and exit 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"genesis.dev/bindings/go/genesis"
)

func main() {
	id := flag.String("id", "gocomp", "component id")
	frontDoor := flag.String("front-door", envOr("GENESIS_URL", "tcp://127.0.0.1:7400"), "coordinator front door")
	events := flag.String("events", envOr("GENESIS_EVENTS", "tcp://127.0.0.1:7401"), "coordinator event bus")
	listen := flag.String("listen", "", "URL to serve on (default: an ipc socket in a temp dir)")
	flag.Parse()

	if *listen == "" {
		dir, err := os.MkdirTemp("", "gngo")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(dir)
		*listen = "ipc://" + filepath.Join(dir, *id+".sock")
	}
	svc, err := genesis.NewService(*id, genesis.Component{
		OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
			switch req.Type {
			case "ping":
				return genesis.Text(fmt.Sprintf("Pong from %s (go, pid %d)", *id, os.Getpid())), nil
			case "upper":
				return genesis.Reply{Data: []byte(strings.ToUpper(string(req.Data))), ContentType: req.ContentType}, nil
			}
			return genesis.Reply{}, genesis.Errorf(genesis.Unimplemented, "%s serves ping and upper, not %s", *id, req.Type)
		},
		OnEvent: func(ev *genesis.Event) {
			fmt.Fprintf(os.Stderr, "%s: event %s from %s: %s\n", *id, ev.Type, ev.Source, ev.Data)
		},
	}, nil)
	if err != nil {
		fail(err)
	}
	defer svc.Close()
	url, err := svc.Listen(*listen)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Connect(ctx, *frontDoor, *events); err != nil {
		fail(err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	fmt.Printf("ready url=%s\n", url)
	<-stop
	fmt.Fprintf(os.Stderr, "%s: served %d requests, stopping\n", *id, svc.RequestsServed())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "service:", err)
	os.Exit(1)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
