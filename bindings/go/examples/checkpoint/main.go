// Command checkpoint is a remote component whose state survives its own restart.
//
// The service "counter" keeps a count. Every "inc" request adds one and stores the new count
// durably in the coordinator's checkpoint store (Service.Checkpoint waits until it is
// synced); "get" returns it. When the process is killed and started again, the coordinator
// hands the latest checkpoint to Restore while the service connects, before it serves
// anything: the count goes on where it stopped.
//
//	genesisd --checkpoint-db /tmp/genesis.db &
//	checkpoint [-id counter] [-front-door URL] [-listen URL] &
//	genesisctl request counter inc        # 1, 2, 3 ... across restarts
//
// Prints "ready url=<listen url> count=<restored count>" once registered; SIGINT/SIGTERM stop
// it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"genesis.dev/bindings/go/genesis"
)

type state struct {
	Count      int    `json:"count"`
	Generation uint64 `json:"generation"`
}

// counter is the component; mu orders the increments and their checkpoints.
type counter struct {
	mu  sync.Mutex
	st  state
	svc *genesis.Service
}

func (c *counter) restore(data []byte, generation uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := json.Unmarshal(data, &c.st); err != nil {
		return err // the coordinator offers the next older generation
	}
	c.st.Generation = generation
	return nil
}

func (c *counter) onRequest(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch req.Type {
	case "get":
	case "inc":
		next := state{Count: c.st.Count + 1}
		data, _ := json.Marshal(next)
		gen, err := c.svc.Checkpoint(ctx, data)
		if err != nil {
			return genesis.Reply{}, err // not stored: the count stays where it was
		}
		c.st = state{Count: next.Count, Generation: gen}
	default:
		return genesis.Reply{}, genesis.Errorf(genesis.Unimplemented, "counter serves get and inc, not %s", req.Type)
	}
	out, _ := json.Marshal(c.st)
	return genesis.Reply{Data: out, ContentType: "application/json"}, nil
}

func main() {
	id := flag.String("id", "counter", "component id")
	frontDoor := flag.String("front-door", envOr("GENESIS_URL", "tcp://127.0.0.1:7400"), "coordinator front door")
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
	c := &counter{}
	svc, err := genesis.NewService(*id, genesis.Component{OnRequest: c.onRequest, Restore: c.restore}, nil)
	if err != nil {
		fail(err)
	}
	defer svc.Close()
	c.svc = svc
	url, err := svc.Listen(*listen)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Connect(ctx, *frontDoor, ""); err != nil {
		fail(err)
	}
	c.mu.Lock()
	fmt.Printf("ready url=%s count=%d\n", url, c.st.Count)
	c.mu.Unlock()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "checkpoint:", err)
	os.Exit(1)
}
