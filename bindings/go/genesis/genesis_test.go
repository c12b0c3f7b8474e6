package genesis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"genesis.dev/bindings/go/genesis"
)

// wait bounds every wait in these tests: a failure is reported, never a hang.
const wait = 10 * time.Second

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return c
}

func newCoordinator(t *testing.T, opts *genesis.CoordinatorOptions) *genesis.Coordinator {
	t.Helper()
	co, err := genesis.NewCoordinator(opts)
	if err != nil {
		t.Fatalf("NewCoordinator: %v", err)
	}
	t.Cleanup(func() { co.Close() })
	return co
}

func ping(id string) genesis.Component {
	return genesis.Component{OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
		if req.Type == "ping" {
			return genesis.Text("Pong from " + id), nil
		}
		return genesis.Reply{}, genesis.Errorf(genesis.Unimplemented, "%s serves only ping", id)
	}}
}

func TestPingPongScenario(t *testing.T) {
	co := newCoordinator(t, nil)
	events := make(chan *genesis.Event, 4)
	comp1 := ping("comp1")
	comp2 := ping("comp2")
	comp2.OnEvent = func(ev *genesis.Event) { events <- ev }
	if err := co.Register(context.Background(), "comp1", comp1); err != nil {
		t.Fatal(err)
	}
	if err := co.Register(context.Background(), "comp2", comp2); err != nil {
		t.Fatal(err)
	}
	res, err := co.Request(ctx(t), "comp2", "ping", nil, genesis.WithSource("comp1"))
	if err != nil || string(res.Data) != "Pong from comp2" || res.ContentType != "text/plain" {
		t.Fatalf("ping: %v %+v", err, res)
	}
	delivered, dropped, err := co.Emit(context.Background(), "status_update", []byte(`{"ok":true}`),
		genesis.WithSource("comp1"), genesis.WithContentType("application/json"))
	if err != nil || delivered != 1 || dropped != 0 {
		t.Fatalf("emit: %v delivered=%d dropped=%d", err, delivered, dropped)
	}
	select {
	case ev := <-events:
		if ev.Type != "status_update" || ev.Source != "comp1" || string(ev.Data) != `{"ok":true}` || ev.External {
			t.Fatalf("event: %+v", ev)
		}
	case <-time.After(wait):
		t.Fatal("comp2 never saw the event")
	}
	_, err = co.Request(ctx(t), "comp1", "dance", nil)
	var ge *genesis.Error
	if !errors.As(err, &ge) || ge.Status != genesis.Unimplemented || ge.Reason != genesis.ReasonHandlerError ||
		ge.Message != "comp1 serves only ping" {
		t.Fatalf("dance: %v", err)
	}
}

func TestErrorsAreClassifiedWithErrorsIs(t *testing.T) {
	co := newCoordinator(t, nil)
	// context.Background cannot be cancelled: this takes the synchronous path.
	_, err := co.Request(context.Background(), "nobody", "ping", nil)
	if !errors.Is(err, genesis.NotFound) || !errors.Is(err, genesis.ReasonNotFound) || errors.Is(err, genesis.Unavailable) {
		t.Fatalf("want NOT_FOUND, got %v", err)
	}
	if !strings.Contains(err.Error(), "NOT_FOUND (NOT_FOUND): ") || !strings.Contains(err.Error(), "nobody") {
		t.Fatalf("message: %q", err.Error())
	}
	if err := co.Register(context.Background(), "dup", ping("dup")); err != nil {
		t.Fatal(err)
	}
	if err := co.Register(context.Background(), "dup", ping("dup")); !errors.Is(err, genesis.AlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := co.Register(context.Background(), "bad id", ping("x")); !errors.Is(err, genesis.InvalidArgument) ||
		!strings.Contains(err.Error(), "register bad id") {
		t.Fatalf("bad id: %v", err)
	}
	if err := co.Register(context.Background(), "nohandler", genesis.Component{}); !errors.Is(err, genesis.InvalidArgument) {
		t.Fatalf("no handler: %v", err)
	}
}

func TestHandlerErrorsAndPanicsBecomeReplies(t *testing.T) {
	co := newCoordinator(t, nil)
	err := co.Register(context.Background(), "flaky", genesis.Component{OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
		switch req.Type {
		case "plain":
			return genesis.Reply{}, fmt.Errorf("disk %s is full", "sda")
		case "status":
			return genesis.Reply{}, fmt.Errorf("wrapped: %w", genesis.ResourceExhausted)
		case "panic":
			var m map[string]int
			m["x"] = 1 // nil map write: a runtime panic
		}
		return genesis.Reply{Data: req.Data, ContentType: req.ContentType}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = co.Request(ctx(t), "flaky", "plain", nil)
	var ge *genesis.Error
	if !errors.As(err, &ge) || ge.Status != genesis.Unknown || ge.Message != "handler of flaky failed: disk sda is full" {
		t.Fatalf("plain: %v", err)
	}
	if _, err = co.Request(ctx(t), "flaky", "status", nil); !errors.Is(err, genesis.ResourceExhausted) {
		t.Fatalf("status: %v", err)
	}
	_, err = co.Request(ctx(t), "flaky", "panic", nil)
	if !errors.Is(err, genesis.Unknown) || !strings.Contains(err.Error(), "handler of flaky panicked: assignment to entry in nil map") {
		t.Fatalf("panic: %v", err)
	}
	res, err := co.Request(ctx(t), "flaky", "echo", []byte("still alive"), genesis.WithContentType("text/plain"))
	if err != nil || string(res.Data) != "still alive" || res.ContentType != "text/plain" {
		t.Fatalf("after panic: %v %+v", err, res)
	}
}

func TestContextDeadlineBecomesTheCallDeadline(t *testing.T) {
	co := newCoordinator(t, nil)
	release := make(chan struct{})
	seen := make(chan time.Duration, 1)
	err := co.Register(context.Background(), "slow", genesis.Component{OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
		dl, _ := ctx.Deadline()
		select {
		case seen <- time.Until(dl):
		default:
		}
		<-release
		return genesis.Reply{}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer close(release)
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = co.Request(c, "slow", "work", nil)
	// Either side may notice first: the library's DEADLINE_EXCEEDED or the context's.
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	if left := <-seen; left <= 0 || left > 100*time.Millisecond {
		t.Fatalf("handler's deadline: %v left", left)
	}
	// A deadline that already passed never reaches the library.
	_, err = co.Request(c, "slow", "work", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expired context: %v", err)
	}
	// Cancellation returns at once with the context's error.
	c2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel2() }()
	if _, err = co.Request(c2, "slow", "work", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestHandlersRunConcurrentlyOnLibraryThreads(t *testing.T) {
	co := newCoordinator(t, &genesis.CoordinatorOptions{MaxQueuedRequests: 1000})
	const n = 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	err := co.Register(context.Background(), "par", genesis.Component{OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
		if req.Type == "barrier" {
			arrived.Done()
			select {
			case <-all:
			case <-ctx.Done():
				return genesis.Reply{}, genesis.Errorf(genesis.DeadlineExceeded, "barrier never filled")
			}
		}
		return genesis.Reply{Data: req.Data}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 600)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := co.Request(ctx(t), "par", "barrier", nil); err != nil {
				errs <- err
			}
		}()
	}
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			want := fmt.Sprint(i)
			res, err := co.Request(ctx(t), "par", "echo", []byte(want))
			if err == nil && string(res.Data) != want {
				err = fmt.Errorf("echo %s: got %q", want, res.Data)
			}
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	stats, err := co.Stats(context.Background())
	if err != nil || stats.Succeeded != 504 || stats.Components != 1 {
		t.Fatalf("stats: %v %+v", err, stats)
	}
}

func TestClosedHandles(t *testing.T) {
	co, err := genesis.NewCoordinator(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := co.Register(context.Background(), "c", ping("c")); err != nil {
		t.Fatal(err)
	}
	if err := co.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := co.Request(ctx(t), "c", "ping", nil); !errors.Is(err, genesis.Unavailable) || !strings.Contains(err.Error(), "stopping") {
		t.Fatalf("after stop: %v", err)
	}
	co.Close()
	co.Close()
	if _, err := co.Request(ctx(t), "c", "ping", nil); !errors.Is(err, genesis.FailedPrecondition) || !errors.Is(err, genesis.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// ---- against real genesisd processes ----------------------------------------------------

type daemon struct {
	frontDoor, eventBus string
}

func binDir() string {
	if d := os.Getenv("GENESIS_BIN_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "build", "bin")
}

// startGenesisd runs genesisd --demo on free tcp ports; the test's cleanup stops it and
// checks it exited cleanly.
func startGenesisd(t *testing.T, extra ...string) daemon {
	t.Helper()
	args := append([]string{"--demo", "--log-level", "warn", "--http", "off",
		"--front-door", "tcp://127.0.0.1:0", "--events", "tcp://127.0.0.1:0"}, extra...)
	cmd := exec.Command(filepath.Join(binDir(), "genesisd"), args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start genesisd: %v (set GENESIS_BIN_DIR)", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("genesisd exit: %v", err)
			}
		case <-time.After(wait):
			cmd.Process.Kill()
			<-done
			t.Errorf("genesisd did not stop on SIGINT")
		}
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
	}()
	select {
	case l := <-line:
		var d daemon
		if _, err := fmt.Sscanf(l, "ready front_door=%s event_bus=%s", &d.frontDoor, &d.eventBus); err != nil {
			t.Fatalf("genesisd said %q: %v", l, err)
		}
		return d
	case <-time.After(wait):
		t.Fatal("genesisd never became ready")
	}
	return daemon{}
}

func dial(t *testing.T, d daemon) *genesis.Client {
	t.Helper()
	cl, err := genesis.Dial(d.frontDoor, d.eventBus, &genesis.ClientOptions{Name: "go-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func TestClientAgainstGenesisd(t *testing.T) {
	d := startGenesisd(t)
	cl := dial(t, d)
	res, err := cl.Request(context.Background(), "comp2", "ping", nil, genesis.WithTimeout(wait))
	if err != nil || string(res.Data) != "Pong from comp2" {
		t.Fatalf("ping: %v %+v", err, res)
	}
	if _, err := cl.Request(ctx(t), "comp9", "ping", nil); !errors.Is(err, genesis.NotFound) {
		t.Fatalf("comp9: %v", err)
	}
	raw, err := cl.Status(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Components []struct{ ID string } `json:"components"`
	}
	if err := json.Unmarshal(raw, &status); err != nil || len(status.Components) != 2 {
		t.Fatalf("status: %v %s", err, raw)
	}

	sub, err := cl.Subscribe("local:status_update", 16)
	if err != nil {
		t.Fatal(err)
	}
	all, err := cl.Subscribe("", 16)
	if err != nil {
		t.Fatal(err)
	}
	// The bus connects in the background: emit until the first event arrives.
	var got *genesis.Event
	for i := 0; i < 100 && got == nil; i++ {
		if err := cl.Emit(ctx(t), "status_update", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		select {
		case got = <-sub.C:
		case <-time.After(100 * time.Millisecond):
		}
	}
	if got == nil || got.Topic() != "local:status_update" || got.Source != "go-test" {
		t.Fatalf("event: %+v", got)
	}
	if err := cl.Emit(ctx(t), "other", nil); err != nil {
		t.Fatal(err)
	}
	for ev := range all.C {
		if ev.Type == "other" {
			break
		}
	}
	sub.Close()
	if _, open := <-sub.C; open {
		t.Fatal("closed subscription still open")
	}
	cl.Close()
	for range all.C { // the client's Close closes the remaining subscriptions
	}
}

func TestUnreachableCoordinator(t *testing.T) {
	cl, err := genesis.Dial("ipc://"+filepath.Join(t.TempDir(), "nobody.sock"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = cl.Request(c, "comp1", "ping", nil)
	if !errors.Is(err, genesis.ReasonUnreachable) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestGoServiceBehindGenesisd(t *testing.T) {
	d := startGenesisd(t)
	events := make(chan *genesis.Event, 16)
	var mu sync.Mutex
	count := 0
	svc, err := genesis.NewService("counter", genesis.Component{
		OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
			switch req.Type {
			case "add":
				mu.Lock()
				defer mu.Unlock()
				count++
				return genesis.Text(fmt.Sprint(count)), nil
			case "fail":
				return genesis.Reply{}, errors.New("no such key")
			}
			return genesis.Reply{}, genesis.Errorf(genesis.Unimplemented, "unknown type %s", req.Type)
		},
		OnEvent: func(ev *genesis.Event) {
			select {
			case events <- ev:
			default:
			}
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	url, err := svc.Listen("ipc://" + filepath.Join(t.TempDir(), "counter.sock"))
	if err != nil || !strings.HasPrefix(url, "ipc://") {
		t.Fatalf("listen: %v %q", err, url)
	}
	if err := svc.Connect(ctx(t), d.frontDoor, d.eventBus); err != nil {
		t.Fatal(err)
	}
	cl := dial(t, d)
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cl.Request(ctx(t), "counter", "add", nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if svc.RequestsServed() != 40 {
		t.Fatalf("served %d", svc.RequestsServed())
	}
	_, err = cl.Request(ctx(t), "counter", "fail", nil)
	if !errors.Is(err, genesis.Unknown) || !errors.Is(err, genesis.ReasonHandlerError) ||
		!strings.Contains(err.Error(), "handler of counter failed: no such key") {
		t.Fatalf("fail: %v", err)
	}
	var got *genesis.Event
	for i := 0; i < 100 && got == nil; i++ {
		if err := cl.Emit(ctx(t), "status_update", nil); err != nil {
			t.Fatal(err)
		}
		select {
		case got = <-events:
		case <-time.After(100 * time.Millisecond):
		}
	}
	if got == nil || got.Type != "status_update" {
		t.Fatal("no event reached the service")
	}
	if err := svc.Emit(ctx(t), "from_go", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if _, err := cl.Request(ctx(t), "counter", "add", nil); !errors.Is(err, genesis.NotFound) && !errors.Is(err, genesis.Unavailable) {
		t.Fatalf("after close: %v", err)
	}
}

func TestGoServiceBehindGoCoordinator(t *testing.T) {
	dir := t.TempDir()
	co := newCoordinator(t, nil)
	if err := co.Listen("ipc://"+filepath.Join(dir, "fd.sock"), "ipc://"+filepath.Join(dir, "bus.sock")); err != nil {
		t.Fatal(err)
	}
	fd, err := co.FrontDoorURL()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := genesis.NewService("svc", genesis.Component{OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
		return genesis.Reply{Data: append([]byte("remote:"), req.Data...)}, nil
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.Listen("ipc://" + filepath.Join(dir, "svc.sock")); err != nil {
		t.Fatal(err)
	}
	if err := svc.Connect(ctx(t), fd, ""); err != nil {
		t.Fatal(err)
	}
	res, err := co.Request(ctx(t), "svc", "echo", []byte("abc"))
	if err != nil || string(res.Data) != "remote:abc" {
		t.Fatalf("%v %+v", err, res)
	}
}

// A service given two coordinators' front doors registers with both; a client given both
// reaches it through them.
func TestListsOfFrontDoors(t *testing.T) {
	dir := t.TempDir()
	var fronts []string
	var cos []*genesis.Coordinator
	for _, name := range []string{"a", "b"} {
		co := newCoordinator(t, nil)
		if err := co.Listen("ipc://"+filepath.Join(dir, name+"-fd.sock"), ""); err != nil {
			t.Fatal(err)
		}
		fd, err := co.FrontDoorURL()
		if err != nil {
			t.Fatal(err)
		}
		fronts = append(fronts, fd)
		cos = append(cos, co)
	}
	svc, err := genesis.NewService("svc", genesis.Component{OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
		return genesis.Text("ok"), nil
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.Listen("ipc://" + filepath.Join(dir, "svc.sock")); err != nil {
		t.Fatal(err)
	}
	if err := svc.ConnectNodes(ctx(t), fronts, nil); err != nil {
		t.Fatal(err)
	}
	for _, co := range cos { // the second registration may take a heartbeat
		var err error
		for i := 0; i < 100; i++ {
			if _, err = co.Request(ctx(t), "svc", "get", nil); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("the service did not register with every coordinator: %v", err)
		}
	}
	cl, err := genesis.DialNodes(fronts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < 4; i++ {
		if res, err := cl.Request(ctx(t), "svc", "get", nil, genesis.Idempotent()); err != nil || string(res.Data) != "ok" {
			t.Fatalf("%v %+v", err, res)
		}
	}
}

func TestVersion(t *testing.T) {
	if strings.Count(genesis.Version(), ".") != 2 || genesis.ABIVersion != 1 {
		t.Fatalf("version %q abi %d", genesis.Version(), genesis.ABIVersion)
	}
}

// BenchmarkInProcessRequest: a sync request from Go to a Go component through an embedded
// coordinator (two cgo crossings each way). go test -run - -bench . ./genesis
func BenchmarkInProcessRequest(b *testing.B) {
	co, err := genesis.NewCoordinator(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer co.Close()
	if err := co.Register(context.Background(), "p", ping("p")); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := co.Request(ctx, "p", "ping", nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCloseWhileOtherGoroutinesCall(t *testing.T) {
	co, err := genesis.NewCoordinator(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := co.Register(context.Background(), "slow", genesis.Component{OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
		time.Sleep(10 * time.Millisecond)
		return genesis.Text("ok"), nil
	}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	started := make(chan struct{}, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				// Background: the synchronous path, which holds the handle during the call.
				_, err := co.Request(context.Background(), "slow", "x", nil)
				select {
				case started <- struct{}{}:
				default:
				}
				if err != nil {
					if !errors.Is(err, genesis.Unavailable) && !errors.Is(err, genesis.FailedPrecondition) {
						t.Errorf("unexpected: %v", err)
					}
					return
				}
			}
		}()
	}
	for i := 0; i < 8; i++ {
		<-started
	}
	co.Close()
	wg.Wait()
}

func TestClientCloseCancelsRequestsInOtherGoroutines(t *testing.T) {
	co := newCoordinator(t, nil)
	release := make(chan struct{})
	defer close(release)
	if err := co.Register(context.Background(), "stuck", genesis.Component{OnRequest: func(ctx context.Context, req *genesis.Request) (genesis.Reply, error) {
		<-release
		return genesis.Reply{}, nil
	}}); err != nil {
		t.Fatal(err)
	}
	if err := co.Listen("tcp://127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	fd, _ := co.FrontDoorURL()
	cl, err := genesis.Dial(fd, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := cl.Request(context.Background(), "stuck", "x", nil, genesis.WithTimeout(wait))
		done <- err
	}()
	for {
		s, _ := co.Stats(context.Background())
		if s.InFlight > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cl.Close()
	select {
	case err := <-done:
		if !errors.Is(err, genesis.Cancelled) || !errors.Is(err, genesis.ReasonShuttingDown) {
			t.Fatalf("want CANCELLED / SHUTTING_DOWN, got %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Close did not cancel the request")
	}
}

func TestLibraryLogsReachAGoFunc(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	co, err := genesis.NewCoordinator(&genesis.CoordinatorOptions{LogLevel: genesis.LogDebug,
		Log: func(level genesis.LogLevel, msg string) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, fmt.Sprintf("%d %s", level, msg))
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := co.Register(context.Background(), "logged", ping("logged")); err != nil {
		t.Fatal(err)
	}
	co.Close()
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, l := range lines {
		if strings.Contains(l, "logged") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no log line names the component: %q", lines)
	}
}
