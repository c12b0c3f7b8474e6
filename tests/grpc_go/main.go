// A Go client of the gateway's genesis.proto services on grpc-go from Debian
// (golang-google-grpc-dev, GOPATH mode, no network), against genesisd --demo (embedded gateway,
// free ports) and a test_service "slow". The messages are built at run time from a descriptor
// set of proto/genesis.proto (google.golang.org/protobuf's dynamicpb) and carried by a codec of
// their own (grpc.ForceCodec), so no code generator is needed.
//
// Checks: a unary ping; an error whose ErrorInfo details it decodes; deadline exceeded; a Watch
// stream of events, then cancelled; a message at the size limit and one above it
// (RESOURCE_EXHAUSTED). The processes are always stopped and must exit cleanly.
//
//	grpc_go_test -genesisd PATH -service PATH -descriptors FILE
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

const waitFor = 20 * time.Second
const maxBody = 65536

// codec marshals the dynamic messages with the protobuf v2 API.
type codec struct{}

func (codec) Marshal(v interface{}) ([]byte, error) { return protov2.Marshal(v.(protov2.Message)) }
func (codec) Unmarshal(b []byte, v interface{}) error {
	return protov2.Unmarshal(b, v.(protov2.Message))
}
func (codec) Name() string { return "proto" }

type proc struct {
	name  string
	cmd   *exec.Cmd
	lines chan string
	errf  string
}

func start(tmp, name string, argv ...string) (*proc, error) {
	p := &proc{name: name, lines: make(chan string, 100), errf: filepath.Join(tmp, name+".stderr")}
	ef, err := os.Create(p.errf)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stderr = ef
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			p.lines <- s.Text()
		}
		close(p.lines)
	}()
	return p, nil
}

func (p *proc) wait(prefix string) (string, error) {
	timeout := time.After(waitFor)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("%s exited before '%s': %s", p.name, prefix, p.stderr())
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-timeout:
			return "", fmt.Errorf("%s never printed '%s': %s", p.name, prefix, p.stderr())
		}
	}
}

func (p *proc) stderr() string {
	b, _ := ioutil.ReadFile(p.errf)
	return string(b)
}

func (p *proc) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %v: %s", p.name, err, p.stderr())
		}
		return nil
	case <-time.After(waitFor):
		p.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop on SIGTERM", p.name)
	}
}

type client struct {
	conn  *grpc.ClientConn
	types map[string]protoreflect.MessageDescriptor
}

func (c *client) msg(name string) *dynamicpb.Message {
	return dynamicpb.NewMessage(c.types[name])
}

func set(m *dynamicpb.Message, field string, v interface{}) *dynamicpb.Message {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(field))
	switch x := v.(type) {
	case *dynamicpb.Message:
		m.Set(fd, protoreflect.ValueOfMessage(x))
	case []string:
		l := m.Mutable(fd).List()
		for _, s := range x {
			l.Append(protoreflect.ValueOfString(s))
		}
	default:
		m.Set(fd, protoreflect.ValueOf(v))
	}
	return m
}

func get(m protoreflect.Message, field string) protoreflect.Value {
	return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(field)))
}

func (c *client) request(ctx context.Context, target, typ string, data []byte) (*dynamicpb.Message, error) {
	req := c.msg("genesis.v1.Request")
	set(req, "target", target)
	set(req, "type", typ)
	set(req, "payload", set(set(c.msg("genesis.v1.Payload"), "data", data), "content_type", "text/plain"))
	return c.call(ctx, "/genesis.v1.Genesis/Request", req, "genesis.v1.Reply")
}

func (c *client) call(ctx context.Context, method string, req *dynamicpb.Message, out string) (*dynamicpb.Message, error) {
	reply := c.msg(out)
	err := c.conn.Invoke(ctx, method, req, reply, grpc.ForceCodec(codec{}))
	return reply, err
}

// errorInfo decodes the ErrorInfo of a failed call's grpc-status-details-bin.
func (c *client) errorInfo(err error) (protoreflect.Message, error) {
	st, _ := status.FromError(err)
	details := st.Proto().GetDetails()
	if len(details) != 1 {
		return nil, fmt.Errorf("want one detail, got %d", len(details))
	}
	if details[0].GetTypeUrl() != "type.googleapis.com/genesis.v1.ErrorInfo" {
		return nil, fmt.Errorf("detail type %q", details[0].GetTypeUrl())
	}
	info := c.msg("genesis.v1.ErrorInfo")
	if err := protov2.Unmarshal(details[0].GetValue(), info); err != nil {
		return nil, err
	}
	return info, nil
}

func check(cond bool, format string, args ...interface{}) {
	if !cond {
		panic(fmt.Sprintf(format, args...))
	}
}

func step(s string) { fmt.Println("grpc-go: " + s) }

func checks(c *client) {
	ctx := context.Background()
	wait, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()

	step("unary ping")
	reply, err := c.request(wait, "comp1", "ping", nil)
	check(err == nil, "ping: %v", err)
	payload := get(reply, "payload").Message()
	check(string(get(payload, "data").Bytes()) == "Pong from comp1", "ping reply %v", reply)

	step("error details")
	_, err = c.request(wait, "nope", "ping", nil)
	check(status.Code(err) == codes.NotFound, "want NOT_FOUND, got %v", err)
	info, ierr := c.errorInfo(err)
	check(ierr == nil, "details: %v", ierr)
	check(get(info, "reason").String() == "NOT_FOUND", "reason %v", info)
	check(get(info, "component").String() == "nope", "component %v", info)
	check(get(info, "protocol").String() == "grpc", "protocol %v", info)

	step("deadline exceeded")
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = c.request(short, "slow", "sleep", []byte("2000"))
	cancelShort()
	check(status.Code(err) == codes.DeadlineExceeded, "want DEADLINE_EXCEEDED, got %v", err)

	step("a Watch stream of events, then cancelled")
	sctx, stop := context.WithCancel(ctx)
	stream, err := c.conn.NewStream(sctx, &grpc.StreamDesc{ServerStreams: true},
		"/genesis.v1.Genesis/Watch", grpc.ForceCodec(codec{}))
	check(err == nil, "watch: %v", err)
	check(stream.SendMsg(set(c.msg("genesis.v1.WatchRequest"), "types", []string{"go.test"})) == nil, "send")
	check(stream.CloseSend() == nil, "close send")
	events := make(chan *dynamicpb.Message, 100)
	ended := make(chan error, 1)
	go func() {
		for {
			ev := c.msg("genesis.v1.Event")
			if err := stream.RecvMsg(ev); err != nil {
				ended <- err
				return
			}
			events <- ev
		}
	}()
	got := 0
	deadline := time.Now().Add(waitFor)
	for n := 1; got < 3; n++ {
		check(time.Now().Before(deadline), "no events on the stream")
		emit := set(set(c.msg("genesis.v1.Emit"), "type", "go.test"), "source", "go")
		set(emit, "payload", set(c.msg("genesis.v1.Payload"), "data", []byte(fmt.Sprintf("e%d", n))))
		_, err := c.call(wait, "/genesis.v1.Genesis/Emit", emit, "genesis.v1.EmitAck")
		check(err == nil, "emit: %v", err)
		_, err = c.call(wait, "/genesis.v1.Genesis/Emit",
			set(set(c.msg("genesis.v1.Emit"), "type", "other"), "source", "go"), "genesis.v1.EmitAck")
		check(err == nil, "emit: %v", err)
		for drained := false; !drained; {
			select {
			case ev := <-events:
				check(get(ev, "type").String() == "go.test", "event type %v", ev)
				got++
			case <-time.After(20 * time.Millisecond):
				drained = true
			}
		}
	}
	stop()
	select {
	case err := <-ended:
		check(status.Code(err) == codes.Canceled, "want CANCELLED, got %v", err)
	case <-time.After(waitFor):
		panic("the cancelled stream never ended")
	}

	step("messages at and above the size limit")
	at := sized(c, maxBody)
	reply, err = c.call(wait, "/genesis.v1.Genesis/Request", at, "genesis.v1.Reply")
	check(err == nil, "at the limit: %v", err)
	check(len(get(get(reply, "payload").Message(), "data").Bytes()) ==
		len(get(get(at, "payload").Message(), "data").Bytes()), "echo size")
	_, err = c.call(wait, "/genesis.v1.Genesis/Request", sized(c, maxBody+1), "genesis.v1.Reply")
	check(status.Code(err) == codes.ResourceExhausted, "want RESOURCE_EXHAUSTED, got %v", err)
	info, ierr = c.errorInfo(err)
	check(ierr == nil && get(info, "reason").String() == "MESSAGE_TOO_LARGE", "details %v %v", info, ierr)

	step("gzip: a message at the size limit, compressed both ways")
	reply = c.msg("genesis.v1.Reply")
	err = c.conn.Invoke(wait, "/genesis.v1.Genesis/Request", at, reply, grpc.ForceCodec(codec{}),
		grpc.UseCompressor(gzip.Name))
	check(err == nil, "gzip at the limit: %v", err)
	check(len(get(get(reply, "payload").Message(), "data").Bytes()) ==
		len(get(get(at, "payload").Message(), "data").Bytes()), "gzip echo size")
}

// sized is a Request whose encoding is exactly size bytes.
func sized(c *client, size int) *dynamicpb.Message {
	req := set(set(c.msg("genesis.v1.Request"), "target", "comp1"), "type", "echo")
	p := set(c.msg("genesis.v1.Payload"), "content_type", "text/plain")
	set(req, "payload", p)
	pad := size - protov2.Size(req)
	for {
		set(p, "data", []byte(strings.Repeat("x", pad)))
		set(req, "payload", p)
		n := protov2.Size(req)
		if n == size {
			return req
		}
		pad -= n - size
	}
}

func run(genesisd, service, descriptors string) (err error) {
	raw, err := ioutil.ReadFile(descriptors)
	if err != nil {
		return err
	}
	var set descriptorpb.FileDescriptorSet
	if err := protov2.Unmarshal(raw, &set); err != nil {
		return err
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return err
	}
	c := &client{types: map[string]protoreflect.MessageDescriptor{}}
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		for i := 0; i < f.Messages().Len(); i++ {
			m := f.Messages().Get(i)
			c.types[string(m.FullName())] = m
		}
		return true
	})
	_ = protoregistry.GlobalTypes

	tmp, err := ioutil.TempDir("", "genesis-grpc-go-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var procs []*proc
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			if e := procs[i].stop(); e != nil && err == nil {
				err = e
			}
		}
	}()
	d, err := start(tmp, "genesisd", genesisd, "--demo", "--front-door", "tcp://127.0.0.1:0",
		"--events", "tcp://127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "warn",
		"--max-body", fmt.Sprint(maxBody))
	if err != nil {
		return err
	}
	procs = append(procs, d)
	line, err := d.wait("ready ")
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`ready front_door=(\S+) event_bus=(\S+) http=http://(\S+)`).FindStringSubmatch(line)
	if m == nil {
		return fmt.Errorf("cannot parse %q", line)
	}
	s, err := start(tmp, "service-slow", service, "--id", "slow", "--front-door", m[1], "--events", m[2],
		"--listen", "ipc://"+filepath.Join(tmp, "slow.sock"))
	if err != nil {
		return err
	}
	procs = append(procs, s)
	if _, err := s.wait("ready "); err != nil {
		return err
	}
	c.conn, err = grpc.Dial(m[3], grpc.WithInsecure())
	if err != nil {
		return err
	}
	defer c.conn.Close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	checks(c)
	step("all checks passed")
	return nil
}

func main() {
	genesisd := flag.String("genesisd", "", "genesisd binary")
	service := flag.String("service", "", "test_service binary")
	descriptors := flag.String("descriptors", "", "FileDescriptorSet of genesis.proto")
	flag.Parse()
	if err := run(*genesisd, *service, *descriptors); err != nil {
		fmt.Fprintln(os.Stderr, "grpc-go:", err)
		os.Exit(1)
	}
}
