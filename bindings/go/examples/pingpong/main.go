// Command pingpong is the ping/pong scenario in Go, in one process: a coordinator
// embedded here with two components, comp1 and comp2. comp1 pings comp2 and prints the
// reply; then comp1 emits a local event "status_update" and comp2 receives it. Exits 0 when
// all of that happened, 1 otherwise.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"genesis.dev/bindings/go/genesis"
)

func component(id string, events chan<- *genesis.Event) genesis.Component {
	return genesis.Component{
		OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
			if req.Type == "ping" {
				return genesis.Text("Pong from " + id), nil
			}
			return genesis.Reply{}, genesis.Errorf(genesis.Unimplemented, "%s serves only ping, not %s", id, req.Type)
		},
		OnEvent: func(ev *genesis.Event) {
			fmt.Printf("%s saw event %s from %s: %s\n", id, ev.Type, ev.Source, ev.Data)
			events <- ev
		},
	}
}

func run() error {
	co, err := genesis.NewCoordinator(nil)
	if err != nil {
		return err
	}
	defer co.Close()
	events1 := make(chan *genesis.Event, 1)
	events2 := make(chan *genesis.Event, 1)
	if err := co.Register(context.Background(), "comp1", component("comp1", events1)); err != nil {
		return err
	}
	if err := co.Register(context.Background(), "comp2", component("comp2", events2)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := co.Request(ctx, "comp2", "ping", nil, genesis.WithSource("comp1"))
	if err != nil {
		return err
	}
	fmt.Printf("comp1 -> comp2 ping: %s\n", res.Data)
	if _, err := co.Request(ctx, "comp2", "dance", nil); errors.Is(err, genesis.Unimplemented) {
		fmt.Printf("comp1 -> comp2 dance: %v\n", err)
	} else {
		return fmt.Errorf("dance: want UNIMPLEMENTED, got %v", err)
	}
	if _, _, err := co.Emit(context.Background(), "status_update", []byte(`{"status":"ok"}`), genesis.WithSource("comp1"),
		genesis.WithContentType("application/json")); err != nil {
		return err
	}
	select {
	case <-events2:
	case <-ctx.Done():
		return errors.New("comp2 never saw the event")
	}
	select {
	case <-events1:
		return errors.New("comp1 received its own event")
	default:
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pingpong:", err)
		os.Exit(1)
	}
}
