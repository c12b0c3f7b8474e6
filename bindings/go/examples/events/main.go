// Command events is an external-event producer and consumer.
//
// External events come from outside the system of components (a WebSocket client of the
// gateway, a sensor, another program) and go to one component, which sees them with
// Event.External set; they are not broadcast to the other components.
//
//	events consume [-id inbox] [-expect N]   a Service that prints each external event it
//	                                          receives and exits after N (0: until SIGTERM)
//	events produce [-id inbox] [-count N]    a Client that sends N external events to it
//
// External events reach a remote component over the event bus, whose subscription connects
// in the background: before the consumer says "ready url=<url>", it sends itself probes
// until one arrives, so no event sent afterwards is lost to that.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"genesis.dev/bindings/go/genesis"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "consume" && os.Args[1] != "produce") {
		fmt.Fprintln(os.Stderr, "usage: events consume|produce [flags]")
		os.Exit(2)
	}
	role := os.Args[1]
	fs := flag.NewFlagSet(role, flag.ExitOnError)
	id := fs.String("id", "inbox", "the consuming component's id")
	frontDoor := fs.String("front-door", envOr("GENESIS_URL", "tcp://127.0.0.1:7400"), "coordinator front door")
	events := fs.String("events", envOr("GENESIS_EVENTS", "tcp://127.0.0.1:7401"), "coordinator event bus (consume)")
	expect := fs.Int("expect", 0, "consume: exit after this many events")
	count := fs.Int("count", 5, "produce: events to send")
	fs.Parse(os.Args[2:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if role == "produce" {
		cl, err := genesis.Dial(*frontDoor, "", &genesis.ClientOptions{Name: "sensor-1"})
		if err != nil {
			fail(err)
		}
		defer cl.Close()
		for i := 0; i < *count; i++ {
			data := []byte(fmt.Sprintf(`{"seq":%d,"celsius":%d}`, i, 20+i%5))
			if err := cl.EmitTo(ctx, *id, "reading", data, genesis.WithSource("sensor-1"),
				genesis.WithContentType("application/json")); err != nil {
				fail(err)
			}
		}
		fmt.Printf("sent %d external events to %s\n", *count, *id)
		return
	}

	received := make(chan *genesis.Event, 1024)
	probed := make(chan struct{}, 1)
	comp := genesis.Component{
		OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
			return genesis.Reply{}, genesis.Errorf(genesis.Unimplemented, "the inbox takes events only")
		},
		OnEvent: func(ev *genesis.Event) {
			switch {
			case !ev.External: // local events from other components: not for this inbox
			case ev.Type == "probe":
				select {
				case probed <- struct{}{}:
				default:
				}
			default:
				received <- ev
			}
		},
	}
	svc, err := genesis.NewService(*id, comp, nil)
	if err != nil {
		fail(err)
	}
	defer svc.Close()
	dir, err := os.MkdirTemp("", "gngo")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	url, err := svc.Listen("ipc://" + filepath.Join(dir, *id+".sock"))
	if err != nil {
		fail(err)
	}
	if err := svc.Connect(ctx, *frontDoor, *events); err != nil {
		fail(err)
	}
	// (from another source: a component never receives its own events)
	probe, err := genesis.Dial(*frontDoor, "", &genesis.ClientOptions{Name: *id + "-probe"})
	if err != nil {
		fail(err)
	}
	for arrived := false; !arrived; {
		if err := probe.EmitTo(ctx, *id, "probe", nil); err != nil {
			fail(err)
		}
		select {
		case <-probed:
			arrived = true
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			fail(fmt.Errorf("external events never arrived"))
		}
	}
	probe.Close()
	fmt.Printf("ready url=%s\n", url)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	n := 0
	for *expect == 0 || n < *expect {
		select {
		case ev := <-received:
			n++
			fmt.Printf("got %s from %s: %s\n", ev.Type, ev.Source, ev.Data)
		case <-stop:
			fmt.Printf("%s: received %d external events\n", *id, n)
			return
		}
	}
	fmt.Printf("%s: received %d external events\n", *id, n)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "events:", err)
	os.Exit(1)
}
