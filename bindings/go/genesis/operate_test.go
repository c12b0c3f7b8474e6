package genesis_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"genesis.dev/bindings/go/genesis"
)

func TestPolicyModeBreakerStatsFault(t *testing.T) {
	def := genesis.DefaultPolicy()
	if def.MaxAttempts < 1 || def.Validate() != nil {
		t.Fatalf("default policy %+v", def)
	}
	bad := def
	bad.BackoffMultiplierPct = 10
	if err := bad.Validate(); !errors.Is(err, genesis.InvalidArgument) || !strings.Contains(err.Error(), "backoff_multiplier_pct") {
		t.Fatalf("Validate: %v", err)
	}
	two := def
	two.MaxAttempts = 2
	co := newCoordinator(t, &genesis.CoordinatorOptions{DefaultPolicy: &two})
	c := ctx(t)
	if err := co.Register(c, "b", ping("b")); err != nil {
		t.Fatal(err)
	}
	if p, err := co.Policy(c, "b"); err != nil || p.MaxAttempts != 2 {
		t.Fatalf("Policy: %+v %v", p, err)
	}
	one := def
	one.MaxAttempts = 1
	if err := co.SetPolicy(c, "b", &one); err != nil {
		t.Fatal(err)
	}
	if err := co.SetPolicy(c, "", &bad); !errors.Is(err, genesis.InvalidArgument) {
		t.Fatalf("SetPolicy(bad): %v", err)
	}
	if p, _ := co.Policy(c, "b"); p.MaxAttempts != 1 {
		t.Fatalf("policy not set: %+v", p)
	}

	if m, err := co.Mode(c); err != nil || m != genesis.ModeNormal {
		t.Fatalf("Mode: %v %v", m, err)
	}
	if err := co.SetMode(c, genesis.ModeSafe); err != nil {
		t.Fatal(err)
	}
	var mode struct{ Mode string }
	raw, err := co.Admin(c, "mode")
	if err != nil || json.Unmarshal(raw, &mode) != nil || mode.Mode != "SAFE" {
		t.Fatalf("admin mode: %s %v", raw, err)
	}
	co.SetMode(c, genesis.ModeAuto)

	if err := co.SetBreaker(c, "b", genesis.BreakerForcedOpen); err != nil {
		t.Fatal(err)
	}
	_, err = co.Request(c, "b", "ping", nil)
	if !errors.Is(err, genesis.Unavailable) || !errors.Is(err, genesis.ReasonBreakerOpen) {
		t.Fatalf("forced open: %v", err)
	}
	st, err := co.ComponentStats(c, "b")
	if err != nil || st.Breaker != genesis.BreakerForcedOpen || st.FailFast != 1 || st.FailuresByReason[genesis.ReasonBreakerOpen] != 1 {
		t.Fatalf("stats: %+v %v", st, err)
	}
	if st.Breaker.String() != "FORCED_OPEN" || genesis.ModeEmergency.String() != "EMERGENCY" {
		t.Fatalf("names: %v %v", st.Breaker, genesis.ModeEmergency)
	}
	co.SetBreaker(c, "b", genesis.BreakerClosed)
	if err := co.InjectFault(c, "b", &genesis.Fault{ErrorRate: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := co.Request(c, "b", "ping", nil); !errors.Is(err, genesis.Unavailable) {
		t.Fatalf("fault: %v", err)
	}
	co.InjectFault(c, "b", nil)
	if _, err := co.Request(c, "b", "ping", nil); err != nil {
		t.Fatalf("fault cleared: %v", err)
	}
	if err := co.InjectFault(c, "b", &genesis.Fault{ErrorRate: 2}); !errors.Is(err, genesis.InvalidArgument) {
		t.Fatalf("bad fault: %v", err)
	}
	if up, err := co.ComponentHealth(c, "b"); err != nil || !up {
		t.Fatalf("health: %v %v", up, err)
	}
	if _, err := co.ComponentStats(c, "nobody"); !errors.Is(err, genesis.NotFound) {
		t.Fatalf("stats of nobody: %v", err)
	}
}

func TestAdminHandlerAndChildReport(t *testing.T) {
	co := newCoordinator(t, nil)
	c := ctx(t)
	err := co.SetAdminHandler(c, "demo.", func(command string, args []string) ([]byte, error) {
		if len(args) == 1 && args[0] == "fail" {
			return nil, genesis.Errorf(genesis.FailedPrecondition, "asked to fail")
		}
		return json.Marshal(map[string]interface{}{"command": command, "args": args})
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := co.Admin(c, "demo.hello", "a", "b")
	if err != nil || string(raw) != `{"args":["a","b"],"command":"demo.hello"}` {
		t.Fatalf("admin: %s %v", raw, err)
	}
	if _, err := co.Admin(c, "demo.hello", "fail"); !errors.Is(err, genesis.FailedPrecondition) || !strings.Contains(err.Error(), "asked to fail") {
		t.Fatalf("admin fail: %v", err)
	}
	if _, err := co.Admin(c, "no-such-command"); !errors.Is(err, genesis.Unimplemented) {
		t.Fatalf("unknown command: %v", err)
	}
	if err := co.ReportChild(c, genesis.ChildReport{ID: "kid", State: "RUNNING", PID: 4321, LastExit: "exit 1"}); err != nil {
		t.Fatal(err)
	}
	status, err := co.Status(c)
	if err != nil || !strings.Contains(string(status), "4321") {
		t.Fatalf("status: %s %v", status, err)
	}
}

type counter struct {
	mu       sync.Mutex
	n        int
	restored []uint64
}

func (k *counter) component() genesis.Component {
	return genesis.Component{
		OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
			k.mu.Lock()
			defer k.mu.Unlock()
			k.n++
			return genesis.Text(strconv.Itoa(k.n)), nil
		},
		Snapshot: func() ([]byte, error) {
			k.mu.Lock()
			defer k.mu.Unlock()
			return []byte(strconv.Itoa(k.n)), nil
		},
		Restore: func(state []byte, generation uint64) error {
			k.mu.Lock()
			defer k.mu.Unlock()
			n, err := strconv.Atoi(string(state))
			k.n = n
			k.restored = append(k.restored, generation)
			return err
		},
	}
}

func TestInProcessCheckpointsSurviveARestart(t *testing.T) {
	store := filepath.Join(t.TempDir(), "cp.db")
	c := ctx(t)
	first := &counter{}
	co, err := genesis.NewCoordinator(&genesis.CoordinatorOptions{CheckpointStore: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := co.Register(c, "counter", first.component()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		co.Request(c, "counter", "inc", nil)
	}
	gen, err := co.CheckpointNow(c, "counter")
	if err != nil || gen < 1 {
		t.Fatalf("CheckpointNow: %d %v", gen, err)
	}
	info, err := co.CheckpointInfo(c, "counter")
	if err != nil || info.Generation != gen || info.Size != 1 {
		t.Fatalf("CheckpointInfo: %+v %v", info, err)
	}
	if err := co.CheckpointMarkDirty(c, "counter"); err != nil {
		t.Fatal(err)
	}
	co.Close()

	second := &counter{}
	co = newCoordinator(t, &genesis.CoordinatorOptions{CheckpointStore: store})
	if err := co.Register(c, "counter", second.component()); err != nil {
		t.Fatal(err)
	}
	res, err := co.Request(c, "counter", "inc", nil)
	if err != nil || string(res.Data) != "4" || len(second.restored) == 0 {
		t.Fatalf("after restart: %v %v %v", res, err, second.restored)
	}
}

func TestServiceCheckpointEmitToAndClientAdmin(t *testing.T) {
	d := startGenesisd(t, "--checkpoint-db", filepath.Join(t.TempDir(), "cp.db"))
	c := ctx(t)
	events := make(chan *genesis.Event, 4)
	var restored [][]byte
	comp := genesis.Component{
		OnRequest: ping("svc").OnRequest,
		OnEvent:   func(ev *genesis.Event) { events <- ev },
		Restore: func(state []byte, generation uint64) error {
			restored = append(restored, state)
			return nil
		},
	}
	svc, err := genesis.NewService("svc", comp, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := svc.Listen("ipc://" + dir + "/svc.sock"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Connect(c, d.frontDoor, d.eventBus); err != nil {
		t.Fatal(err)
	}
	gen, err := svc.Checkpoint(c, []byte("state-7"))
	if err != nil || gen < 1 {
		t.Fatalf("Checkpoint: %d %v", gen, err)
	}
	cl := dial(t, d)
	if err := cl.EmitTo(c, "svc", "chat", []byte("hello"), genesis.WithSource("ws-1")); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if !ev.External || ev.Source != "ws-1" || string(ev.Data) != "hello" {
			t.Fatalf("event %+v", ev)
		}
	case <-c.Done():
		t.Fatal("no external event")
	}
	if err := cl.EmitTo(c, "nobody", "chat", nil); !errors.Is(err, genesis.NotFound) {
		t.Fatalf("EmitTo nobody: %v", err)
	}
	if _, err := cl.Admin(c, "breaker", "svc", "open"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Request(c, "svc", "ping", nil); !errors.Is(err, genesis.ReasonBreakerOpen) {
		t.Fatalf("breaker open: %v", err)
	}
	cl.Admin(c, "breaker", "svc", "reset")
	svc.Close()

	svc2, err := genesis.NewService("svc", comp, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc2.Close()
	svc2.Listen("ipc://" + dir + "/svc2.sock")
	if err := svc2.Connect(c, d.frontDoor, d.eventBus); err != nil {
		t.Fatal(err)
	}
	if len(restored) != 1 || string(restored[0]) != "state-7" {
		t.Fatalf("restored %q", restored)
	}
}

func TestContextEndsBlockingCallsAndClosedHandles(t *testing.T) {
	co := newCoordinator(t, nil)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := co.Emit(done, "e", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Emit(cancelled): %v", err)
	}
	if _, err := co.Stats(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stats(cancelled): %v", err)
	}
	if _, err := co.Status(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Status(cancelled): %v", err)
	}
	if err := co.Register(done, "x", ping("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Register(cancelled): %v", err)
	}
	if _, err := co.CheckpointNow(done, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckpointNow(cancelled): %v", err)
	}
	co.Close()
	c := ctx(t)
	for name, f := range map[string]func() error{
		"Emit":       func() error { _, _, err := co.Emit(c, "e", nil); return err },
		"Stats":      func() error { _, err := co.Stats(c); return err },
		"Status":     func() error { _, err := co.Status(c); return err },
		"Admin":      func() error { _, err := co.Admin(c, "mode"); return err },
		"SetMode":    func() error { return co.SetMode(c, genesis.ModeSafe) },
		"Register":   func() error { return co.Register(c, "y", ping("y")) },
		"Unregister": func() error { return co.Unregister(c, "y") },
		"Stop":       func() error { return co.Stop(c) },
		"Checkpoint": func() error { _, err := co.CheckpointNow(c, "y"); return err },
	} {
		if err := f(); !errors.Is(err, genesis.ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
	svc, err := genesis.NewService("s", ping("s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if _, err := svc.Checkpoint(c, []byte("x")); !errors.Is(err, genesis.ErrClosed) {
		t.Errorf("Checkpoint after Close: %v", err)
	}
	if err := svc.InjectFault(c, nil); !errors.Is(err, genesis.ErrClosed) {
		t.Errorf("InjectFault after Close: %v", err)
	}
}

func TestEveryStatusAndReasonKeepsItsNameAndMessage(t *testing.T) {
	for s := genesis.Cancelled; s <= genesis.Unauthenticated; s++ {
		err := error(&genesis.Error{Status: s, Reason: genesis.ReasonQueueFull, Message: "why"})
		var ge *genesis.Error
		if !errors.Is(err, s) || !errors.As(err, &ge) || !strings.Contains(err.Error(), "why") ||
			!strings.Contains(err.Error(), s.String()) || !errors.Is(err, genesis.ReasonQueueFull) {
			t.Errorf("%v: %v", s, err)
		}
	}
	if genesis.ReasonCheckpointCorrupt.String() != "CHECKPOINT_CORRUPT" {
		t.Errorf("reason name %v", genesis.ReasonCheckpointCorrupt)
	}
}

func TestTLSFilesAreReadAndNamedWhenBad(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing-ca.pem")
	ca, cert, key := missing, missing, missing
	if _, err := genesis.Dial("tls+tcp://127.0.0.1:1", "", &genesis.ClientOptions{TLSCAFile: ca, TLSCertFile: cert, TLSKeyFile: key}); err == nil || !strings.Contains(err.Error(), "missing-ca.pem") {
		t.Errorf("Dial with a missing CA file: %v", err)
	}
	if _, err := genesis.NewService("s", ping("s"), &genesis.ServiceOptions{TLSCAFile: ca, TLSCertFile: cert, TLSKeyFile: key}); err == nil || !strings.Contains(err.Error(), "missing-ca.pem") {
		t.Errorf("NewService with a missing CA file: %v", err)
	}
	if _, err := genesis.NewCoordinator(&genesis.CoordinatorOptions{TLSCAFile: ca, TLSCertFile: cert, TLSKeyFile: key}); err == nil || !strings.Contains(err.Error(), "missing-ca.pem") {
		t.Errorf("NewCoordinator with a missing CA file: %v", err)
	}
}

func TestCancellingTheCallerCancelsAHandlerInThisProcess(t *testing.T) {
	co := newCoordinator(t, nil)
	c := ctx(t)
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	err := co.Register(c, "slow", genesis.Component{OnRequest: func(hctx context.Context, req *genesis.Request) (genesis.Reply, error) {
		started <- struct{}{}
		select {
		case <-hctx.Done():
			ended <- hctx.Err()
		case <-time.After(3 * wait):
			ended <- nil
		}
		return genesis.Reply{}, hctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = co.Register(c, "fast", genesis.Component{OnRequest: func(context.Context, *genesis.Request) (genesis.Reply, error) {
		return genesis.Reply{}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := co.Listen("tcp://127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	url, _ := co.FrontDoorURL()
	cl, err := genesis.Dial(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// The cancelled call's reply is still on its way to the client. NNG 1.5.2 can hang
		// closing a socket at that moment (docs/known-limits.md): close once a later reply
		// over the same connection, sent after it, has arrived.
		if _, err := cl.Request(c, "fast", "x", nil); err != nil {
			t.Errorf("a request after the cancelled ones: %v", err)
		}
		cl.Close()
	}()
	for _, call := range []func(context.Context) error{
		func(x context.Context) error { _, err := co.Request(x, "slow", "x", nil); return err },
		func(x context.Context) error { _, err := cl.Request(x, "slow", "x", nil); return err },
	} {
		caller, cancel := context.WithTimeout(c, 3*wait)
		result := make(chan error, 1)
		go func() { result <- call(caller) }()
		select {
		case <-started:
		case <-c.Done():
			t.Fatal("the handler never started")
		}
		cancel()
		if err := <-result; !errors.Is(err, context.Canceled) {
			t.Fatalf("caller: %v", err)
		}
		select {
		case err := <-ended:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("the handler's context ended with %v", err)
			}
		case <-c.Done():
			t.Fatal("the handler was not cancelled")
		}
	}
}

func TestForceBreakerOpenMetricsOnlyAndPolicyVersion2(t *testing.T) {
	co := newCoordinator(t, nil)
	c := ctx(t)
	if err := co.Register(c, "v2", ping("v2")); err != nil {
		t.Fatal(err)
	}
	if err := co.ForceBreakerOpen(c, "v2", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := co.Request(c, "v2", "ping", nil); !errors.Is(err, genesis.ReasonBreakerOpen) {
		t.Fatalf("forced open: %v", err)
	}
	if err := co.SetBreaker(c, "v2", genesis.BreakerMetricsOnly); err != nil {
		t.Fatal(err)
	}
	if st, _ := co.ComponentStats(c, "v2"); st.Breaker != genesis.BreakerMetricsOnly || st.ConcurrencyLimit < 1 {
		t.Fatalf("stats: %+v", st)
	}
	p := genesis.DefaultPolicy()
	p.HedgePercentile = 95
	if err := co.SetPolicy(c, "v2", &p); err != nil {
		t.Fatal(err)
	}
	if got, _ := co.Policy(c, "v2"); got.HedgePercentile != 95 {
		t.Fatalf("policy: %+v", got)
	}
	if err := co.ForceBreakerOpen(c, "nobody", time.Second); !errors.Is(err, genesis.NotFound) {
		t.Fatalf("nobody: %v", err)
	}
}
