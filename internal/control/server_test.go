package control_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
	"popd/internal/testutil"
)

// serve runs a control server for d at path (a new short temporary
// directory when ""), with setup called before serving.
func serve(t *testing.T, d control.Daemon, path string, setup func(*control.Server)) (string, *control.Server) {
	t.Helper()
	return serveConfig(t, d, control.ServerConfig{Path: path}, setup)
}

// serveConfig is serve with more of the configuration: cfg.Path as for
// serve; Version and Logger are set.
func serveConfig(t *testing.T, d control.Daemon, cfg control.ServerConfig, setup func(*control.Server)) (string, *control.Server) {
	t.Helper()
	if cfg.Path == "" {
		dir, err := os.MkdirTemp("", "popd-ctl-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		cfg.Path = filepath.Join(dir, "control.sock")
	}
	cfg.Version, cfg.Logger = "9.9.9", testutil.Log(t)
	ln, err := control.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := control.NewServer(cfg, d)
	if setup != nil {
		setup(srv)
	}
	if fd, ok := d.(*controltest.Daemon); ok {
		fd.SetPublisher(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return cfg.Path, srv
}

func dial(t *testing.T, path string) *control.Client {
	t.Helper()
	c, err := control.Dial(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// raw is a hand-driven connection for protocol tests.
type raw struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

// dialRaw connects and reads the server's hello; with hello it also sends
// the client's.
func dialRaw(t *testing.T, path string, hello bool) (*raw, control.Hello) {
	t.Helper()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	r := &raw{t: t, nc: nc, r: bufio.NewReader(nc)}
	var h control.Hello
	r.read(&h)
	if hello {
		r.send(`{"hello":"popd-control","version":1}`)
	}
	return r, h
}

func (r *raw) send(line string) {
	r.t.Helper()
	if _, err := r.nc.Write([]byte(line + "\n")); err != nil {
		r.t.Fatal(err)
	}
}

func (r *raw) read(v any) {
	r.t.Helper()
	line, err := r.r.ReadBytes('\n')
	if err != nil {
		r.t.Fatalf("reading: %v (got %q)", err, line)
	}
	if err := json.Unmarshal(line, v); err != nil {
		r.t.Fatalf("%q: %v", line, err)
	}
}

// expectError reads a Response and checks its id and error code.
func (r *raw) expectError(id int64, code control.ErrorCode) *control.Error {
	r.t.Helper()
	var resp control.Response
	r.read(&resp)
	if resp.ID != id || resp.Error == nil || resp.Error.Code != code {
		r.t.Fatalf("got %+v (error %v), want id %d and error %q", resp, resp.Error, id, code)
	}
	return resp.Error
}

func (r *raw) expectClosed() {
	r.t.Helper()
	if line, err := r.r.ReadBytes('\n'); err == nil || len(line) > 0 {
		r.t.Fatalf("connection still open: %q, %v", line, err)
	}
}

func me(t *testing.T) string {
	uid := os.Getuid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return fmt.Sprintf("uid %d (%s)", uid, u.Username)
	}
	return fmt.Sprintf("uid %d", uid)
}

func TestHello(t *testing.T) {
	path, _ := serve(t, controltest.NewDaemon(), "", nil)
	r, h := dialRaw(t, path, true)
	if h != (control.Hello{Hello: "popd-control", Version: control.Version, Server: "9.9.9", Role: control.RoleAdmin}) {
		t.Errorf("hello %+v", h)
	}
	r.send(`{"id":1,"method":"who"}`)
	var resp control.Response
	r.read(&resp)
	if resp.ID != 1 || resp.Error != nil || string(resp.Result) != "[]" {
		t.Errorf("who: %+v", resp)
	}

	c := dial(t, path)
	if c.Role() != control.RoleAdmin || c.ServerVersion() != "9.9.9" {
		t.Errorf("client: role %q, version %q", c.Role(), c.ServerVersion())
	}
}

func TestHelloVersionMismatch(t *testing.T) {
	path, _ := serve(t, controltest.NewDaemon(), "", nil)
	r, _ := dialRaw(t, path, false)
	r.send(`{"hello":"popd-control","version":99}`)
	var e struct{ Error *control.Error }
	r.read(&e)
	if e.Error == nil || e.Error.Code != control.CodeUnsupportedVersion {
		t.Errorf("got %+v", e.Error)
	}
	r.expectClosed()

	for _, first := range []string{`{"id":1,"method":"who"}`, "GET / HTTP/1.0", strings.Repeat("x", 70<<10)} {
		r, _ := dialRaw(t, path, false)
		r.send(first)
		var e struct{ Error *control.Error }
		r.read(&e)
		if e.Error == nil || e.Error.Code != control.CodeBadRequest {
			t.Errorf("%.20q: got %+v", first, e.Error)
		}
		r.expectClosed()
	}
}

// The client tells a version mismatch itself, from the server's hello.
func TestClientVersionMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			nc.Write([]byte(`{"hello":"popd-control","version":2,"server":"2.0","role":"admin"}` + "\n"))
			nc.Close()
		}
	}()
	_, err = control.Dial(t.Context(), path)
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Code != control.CodeUnsupportedVersion {
		t.Fatalf("got %v", err)
	}
	t.Log(err)
}

func TestDialNoSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	_, err := control.Dial(t.Context(), path)
	if err == nil || err.Error() != "control: popd is not running? no control socket at "+path {
		t.Errorf("got %v", err)
	}
}

func TestMethods(t *testing.T) {
	d := controltest.NewDaemon()
	since := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	sessions := []control.Session{
		{ID: "1", User: "alice", Remote: "192.0.2.1:1110", Local: "192.0.2.9:110", TLS: true, State: "TRANSACTION",
			LastCommand: "RETR", Retrieved: 2, Octets: 2048, Since: since, Idle: 3 * time.Second, Locked: true},
		{ID: "2", User: "bob", Remote: "192.0.2.2:1111", State: "TRANSACTION", Since: since},
		{ID: "3", User: "bob", Remote: "192.0.2.2:1112", State: "TRANSACTION", Since: since},
	}
	for _, s := range sessions {
		d.AddSession(s)
	}
	alice := control.User{Name: "alice", Scheme: "BLF-CRYPT", Messages: 3, Octets: 4000, Locked: true, LastLogin: since}
	d.PutUser(alice, "alicepw")
	lock := control.Lock{User: "alice", Session: "1", Owner: "popd", Host: "mx1", PID: 42, Since: since, Refreshed: since}
	d.AddLock(lock)
	pen := control.Penalty{Source: "198.51.100.0/24", Failures: 5, Last: since, Delay: 2 * time.Second, Users: []string{"root", "admin"}}
	d.AddPenalty(pen)
	d.SetStats(control.Stats{Uptime: time.Hour, Logins: 10, Failures: 2, BytesSent: 1 << 20})

	path, _ := serve(t, d, "", nil)
	c := dial(t, path)
	ctx := t.Context()

	got, err := c.Sessions(ctx)
	if err != nil || len(got) != 3 || got[0] != sessions[0] {
		t.Errorf("Sessions: %+v, %v", got, err)
	}
	st, err := c.Stats(ctx)
	if err != nil || st.Version != "9.9.9" || st.Sessions != 3 || st.Logins != 10 || st.Uptime != time.Hour {
		t.Errorf("Stats: %+v, %v", st, err)
	}
	us, err := c.Users(ctx)
	if err != nil || len(us) != 1 || us[0] != alice {
		t.Errorf("Users: %+v, %v", us, err)
	}
	ls, err := c.Locks(ctx)
	if err != nil || len(ls) != 1 || ls[0] != lock {
		t.Errorf("Locks: %+v, %v", ls, err)
	}
	ps, err := c.Penalties(ctx)
	if err != nil || len(ps) != 1 || !reflect.DeepEqual(ps[0], pen) {
		t.Errorf("Penalties: %+v, %v", ps, err)
	}

	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	check("Kick", c.Kick(ctx, "1"))
	n, err := c.KickUser(ctx, "bob")
	if n != 2 || err != nil {
		t.Errorf("KickUser: %d, %v", n, err)
	}
	check("AddUser", c.AddUser(ctx, "carol", "carol pw"))
	if pw, _ := d.Password("carol"); pw != "carol pw" {
		t.Errorf("carol's password %q", pw)
	}
	check("SetPassword", c.SetPassword(ctx, "carol", "new:pw"))
	if pw, _ := d.Password("carol"); pw != "new:pw" {
		t.Errorf("carol's new password %q", pw)
	}
	check("SetDisabled", c.SetDisabled(ctx, "carol", true))
	check("SetDisabled false", c.SetDisabled(ctx, "carol", false))
	check("DeleteUser", c.DeleteUser(ctx, "carol", true))
	check("Unlock", c.Unlock(ctx, "alice"))
	check("ClearPenalty", c.ClearPenalty(ctx, "198.51.100.0/24"))
	check("Reload", c.Reload(ctx))

	by := " by " + me(t)
	want := []string{
		"kick 1" + by, "kick 2" + by, "kick 3" + by,
		"user_add carol" + by, "user_passwd carol" + by,
		"user_disable carol true" + by, "user_disable carol false" + by,
		"user_del carol purge=true" + by, "unlock alice" + by,
		"penalty_clear 198.51.100.0/24" + by, "reload" + by,
	}
	if calls := d.Calls(); strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	if got, _ := c.Sessions(ctx); len(got) != 0 {
		t.Errorf("sessions left: %+v", got)
	}
}

// misbehaving is a Daemon whose Sessions panics and whose Reload waits.
type misbehaving struct {
	*controltest.Daemon
	release chan struct{}
}

func (m misbehaving) Sessions() []control.Session { panic("bug in Sessions") }

func (m misbehaving) Reload(by string) error {
	<-m.release
	return nil
}

func TestErrors(t *testing.T) {
	d := controltest.NewDaemon()
	m := misbehaving{Daemon: d, release: make(chan struct{})}
	path, _ := serve(t, m, "", nil)
	c := dial(t, path)
	ctx := t.Context()

	var ce *control.Error
	if err := c.Kick(ctx, "nope"); !errors.As(err, &ce) || ce.Code != control.CodeNotFound || ce.Message != "no session nope" {
		t.Errorf("Kick: %v", err)
	}
	if err := c.SetPassword(ctx, "nobody", "x"); !errors.As(err, &ce) || ce.Code != control.CodeNotFound {
		t.Errorf("SetPassword: %v", err)
	}
	if _, err := c.Sessions(ctx); !errors.As(err, &ce) || ce.Code != control.CodeInternal {
		t.Errorf("panicking Sessions: %v", err)
	}
	// Still serving on the same connection.
	if _, err := c.Stats(ctx); err != nil {
		t.Errorf("after a panic: %v", err)
	}

	// A plain error becomes "internal" with its text.
	d2 := controltest.NewDaemon()
	d2.FailReload(errors.New("userdb: users: permission denied"))
	path2, _ := serve(t, d2, "", nil)
	if err := dial(t, path2).Reload(ctx); !errors.As(err, &ce) || ce.Code != control.CodeInternal || ce.Message != "userdb: users: permission denied" {
		t.Errorf("Reload: %v", err)
	}

	// A call cancelled while popd works closes the client; a new one works.
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := c.Reload(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled Reload: %v", err)
	}
	close(m.release)
	if _, err := c.Stats(ctx); !errors.Is(err, control.ErrClosed) {
		t.Errorf("call after a cancelled one: %v", err)
	}
	if _, err := dial(t, path).Stats(ctx); err != nil {
		t.Errorf("new client: %v", err)
	}
}

func TestBadRequests(t *testing.T) {
	d := controltest.NewDaemon()
	d.PutUser(control.User{Name: "alice"}, "pw")
	path, _ := serve(t, d, "", nil)
	r, _ := dialRaw(t, path, true)
	for i, req := range []string{
		`{"id":1,"method":"nope"}`,
		`{"id":2,"method":""}`,
		`{"id":3,"method":"kick"}`,
		`{"id":4,"method":"kick","params":{"id":""}}`,
		`{"id":5,"method":"user_del","params":{"name":"alice","purge":true}}`,
		`{"id":6,"method":"user_disable","params":{"name":"alice"}}`,
		`{"id":7,"method":"who","params":{"all":true}}`,
		`{"id":8,"method":"user_add","params":["alice","pw"]}`,
		`{"id":9,"method":"user_add","params":{"name":"bob"}}`,
	} {
		r.send(req)
		e := r.expectError(int64(i+1), "bad-request")
		if strings.Contains(e.Message, "nope") {
			t.Errorf("client input echoed: %q", e.Message)
		}
	}
	r.send(`{"id":10,"method":"users","params":{}}`)
	var resp control.Response
	r.read(&resp)
	if resp.ID != 10 || resp.Error != nil {
		t.Errorf("users after bad requests: %+v", resp)
	}
	if calls := d.Calls(); len(calls) != 0 {
		t.Errorf("calls made: %q", calls)
	}
}

// An oversized or malformed frame is answered and the connection closed;
// the daemon goes on serving everyone else.
func TestBadFrames(t *testing.T) {
	path, _ := serve(t, controltest.NewDaemon(), "", nil)
	other := dial(t, path)
	for _, tt := range []struct {
		line string
		id   int64
	}{
		{`{"id":1,"method":"who","params":{"x":"` + strings.Repeat("a", 70<<10) + `"}}`, 0},
		{strings.Repeat("{", 70<<10), 0},
		{`{"id":5,"method":`, 0},
		{`{"id":7,"method":3}`, 7},
		{`[1,2,3]`, 0},
		{`{"id":1,"method":"who"} {"id":2,"method":"who"}`, 0},
		{"\x00\xff\xfe", 0},
	} {
		r, _ := dialRaw(t, path, true)
		r.send(tt.line)
		r.expectError(tt.id, "bad-request")
		r.expectClosed()
		if _, err := other.Stats(t.Context()); err != nil {
			t.Fatalf("other client after %.20q: %v", tt.line, err)
		}
		if _, err := dial(t, path).Stats(t.Context()); err != nil {
			t.Fatalf("new client after %.20q: %v", tt.line, err)
		}
	}
}

// The current uid is popd's own: admin.
func TestRoleOnRealSocket(t *testing.T) {
	d := controltest.NewDaemon()
	path, _ := serve(t, d, "", nil)
	c := dial(t, path)
	if c.Role() != control.RoleAdmin {
		t.Fatalf("role %q", c.Role())
	}
	if err := c.AddUser(t.Context(), "x", "y"); err != nil {
		t.Error(err)
	}
}

func TestMonitorRole(t *testing.T) {
	d := controltest.NewDaemon()
	d.AddSession(control.Session{ID: "1", User: "alice"})
	d.PutUser(control.User{Name: "alice"}, "pw")
	d.AddLock(control.Lock{User: "alice"})
	d.AddPenalty(control.Penalty{Source: "192.0.2.1/32"})
	var asked [2]uint32
	var mu sync.Mutex
	path, srv := serve(t, d, "", func(s *control.Server) {
		control.SetRoleFunc(s, func(uid, gid uint32) (string, bool) {
			mu.Lock()
			asked = [2]uint32{uid, gid}
			mu.Unlock()
			return control.RoleMonitor, true
		})
	})
	c := dial(t, path)
	if c.Role() != control.RoleMonitor {
		t.Fatalf("role %q", c.Role())
	}
	mu.Lock()
	if asked != [2]uint32{uint32(os.Getuid()), uint32(os.Getgid())} {
		t.Errorf("role asked for uid/gid %v", asked)
	}
	mu.Unlock()
	ctx := t.Context()
	if _, err := c.Sessions(ctx); err != nil {
		t.Error(err)
	}
	if _, err := c.Stats(ctx); err != nil {
		t.Error(err)
	}
	if _, err := c.Users(ctx); err != nil {
		t.Error(err)
	}
	if _, err := c.Locks(ctx); err != nil {
		t.Error(err)
	}
	if _, err := c.Penalties(ctx); err != nil {
		t.Error(err)
	}
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.Publish(control.Event{Type: event.Login, User: "alice"})
	if e := <-events; e.Type != event.Login {
		t.Errorf("event %+v", e)
	}

	admin := map[string]func() error{
		"kick":          func() error { return c.Kick(ctx, "1") },
		"kick_user":     func() error { _, err := c.KickUser(ctx, "alice"); return err },
		"user_add":      func() error { return c.AddUser(ctx, "bob", "pw") },
		"user_passwd":   func() error { return c.SetPassword(ctx, "alice", "pw2") },
		"user_del":      func() error { return c.DeleteUser(ctx, "alice", false) },
		"user_disable":  func() error { return c.SetDisabled(ctx, "alice", true) },
		"unlock":        func() error { return c.Unlock(ctx, "alice") },
		"penalty_clear": func() error { return c.ClearPenalty(ctx, "192.0.2.1/32") },
		"reload":        func() error { return c.Reload(ctx) },
	}
	for name, f := range admin {
		var ce *control.Error
		if err := f(); !errors.As(err, &ce) || ce.Code != control.CodeForbidden {
			t.Errorf("%s as monitor: %v", name, err)
		}
	}
	if calls := d.Calls(); len(calls) != 0 {
		t.Errorf("a monitor changed things: %q", calls)
	}
}

func TestRefusedByRole(t *testing.T) {
	path, _ := serve(t, controltest.NewDaemon(), "", func(s *control.Server) {
		control.SetRoleFunc(s, func(uint32, uint32) (string, bool) { return "", false })
	})
	_, err := control.Dial(t.Context(), path)
	want := fmt.Sprintf("uid %d is not allowed to use the popd control socket", os.Getuid())
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Code != control.CodeForbidden || ce.Message != want {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error does not name the socket: %v", err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	d := controltest.NewDaemon()
	d.AddSession(control.Session{ID: "1"})
	path, _ := serve(t, d, "", nil)
	c := dial(t, path)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if s, err := c.Sessions(t.Context()); err != nil || len(s) != 1 {
					t.Errorf("%v, %v", s, err)
					return
				}
				if _, err := c.Stats(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestServeStops(t *testing.T) {
	d := controltest.NewDaemon()
	dir := t.TempDir()
	cfg := control.ServerConfig{Path: filepath.Join(dir, "c.sock"), Logger: testutil.Log(t)}
	ln, err := control.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := control.NewServer(cfg, d)
	srv.Publish(control.Event{Type: "before"}) // no subscribers: nothing happens
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	c := dial(t, cfg.Path)
	events, err := c.Events(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	for range events {
	}
	if _, err := c.Stats(t.Context()); err == nil {
		t.Error("call after Serve ended")
	}
	if _, err := os.Stat(cfg.Path); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	srv.Publish(control.Event{Type: "after"})
}
