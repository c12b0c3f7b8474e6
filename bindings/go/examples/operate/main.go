// Command operate is the operator's controls from a program, against a running coordinator:
// it forces the degradation mode and returns it to automatic, forces a component's circuit
// breaker open (its requests then fail fast with BREAKER_OPEN) and resets it, and changes
// the component's resilience policy, printing what the coordinator answers at each step.
// The same commands genesisctl sends, as Go calls (Client.Admin).
//
//	genesisd --demo &
//	operate [-front-door URL] [component]
//
// Exits 0 when every step behaved as described.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"genesis.dev/bindings/go/genesis"
)

func main() {
	frontDoor := flag.String("front-door", envOr("GENESIS_URL", "tcp://127.0.0.1:7400"), "coordinator front door")
	flag.Parse()
	comp := "comp2"
	if flag.NArg() > 0 {
		comp = flag.Arg(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := genesis.Dial(*frontDoor, "", &genesis.ClientOptions{Name: "operator"})
	if err != nil {
		fail(err)
	}
	defer cl.Close()
	admin := func(command string, args ...string) map[string]interface{} {
		raw, err := cl.Admin(ctx, command, args...)
		if err != nil {
			fail(fmt.Errorf("admin %s %v: %w", command, args, err))
		}
		var out map[string]interface{}
		if err := json.Unmarshal(raw, &out); err != nil {
			fail(err)
		}
		return out
	}

	// Degradation mode: force SAFE (sheds SHEDDABLE requests), then back to automatic.
	fmt.Println("mode:", admin("mode")["mode"])
	fmt.Println("mode forced:", admin("mode", "SAFE")["mode"])
	// ("ping" and "status" are always CRITICAL: the coordinator's critical types.)
	_, err = cl.Request(ctx, comp, "work", nil, genesis.WithCriticality(genesis.CriticalitySheddable))
	if !errors.Is(err, genesis.ReasonShedByMode) {
		fail(fmt.Errorf("a sheddable request in SAFE mode: %v", err))
	}
	fmt.Println("sheddable request in SAFE mode:", err)
	fmt.Println("mode automatic:", admin("mode", "AUTO")["mode"])

	// Circuit breaker: force it open, see requests fail fast, reset it.
	fmt.Println("breaker:", admin("breaker", comp, "open"))
	_, err = cl.Request(ctx, comp, "ping", nil)
	if !errors.Is(err, genesis.ReasonBreakerOpen) {
		fail(fmt.Errorf("a request with the breaker forced open: %v", err))
	}
	fmt.Println("request with the breaker open:", err)
	admin("breaker", comp, "reset")
	res, err := cl.Request(ctx, comp, "ping", nil)
	if err != nil {
		fail(err)
	}
	fmt.Println("after reset:", string(res.Data))

	// Policy: no retries and a shorter per-try timeout for this component.
	policy := admin("policy", comp, "max_attempts=1", "per_try_timeout_ms=500")["policy"].(map[string]interface{})
	if policy["max_attempts"].(float64) != 1 || policy["per_try_timeout_ms"].(float64) != 500 {
		fail(fmt.Errorf("policy not changed: %v", policy))
	}
	fmt.Printf("policy of %s: max_attempts=%v per_try_timeout_ms=%v\n", comp, policy["max_attempts"], policy["per_try_timeout_ms"])
	if _, err := cl.Admin(ctx, "policy", comp, "backoff_multiplier_pct=10"); !errors.Is(err, genesis.InvalidArgument) {
		fail(fmt.Errorf("an invalid policy: %v", err))
	} else {
		fmt.Println("invalid policy refused:", err)
	}
	fmt.Println("operate: every control behaved")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "operate:", err)
	os.Exit(1)
}
