package control_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
	"popd/internal/testutil"
)

// fakeUIDs lets one test process stand for many users over real
// connections: a client that bound its socket to a name "uNNNN-…" is
// taken for uid NNNN; any other keeps its real credentials. Uids
// 2000–2999 are monitors, 3000 and up admins (members of the admin
// group, say), and the test's own uid is popd's: an admin.
func fakeUIDs(s *control.Server) {
	control.SetPeerFunc(s, func(nc net.Conn) (uint32, uint32, int32, error) {
		uid, gid, pid, err := control.PeerCred(nc)
		if a, ok := nc.RemoteAddr().(*net.UnixAddr); ok {
			var n uint32
			if _, serr := fmt.Sscanf(filepath.Base(a.Name), "u%d-", &n); serr == nil {
				uid = n
			}
		}
		return uid, gid, pid, err
	})
	control.SetRoleFunc(s, func(uid, _ uint32) (string, bool) {
		switch {
		case uid == uint32(os.Getuid()) || uid >= 3000:
			return control.RoleAdmin, true
		case uid >= 2000:
			return control.RoleMonitor, true
		}
		return "", false
	})
}

var clientSeq atomic.Int64

// dialAs connects as uid (see fakeUIDs) and reads what popd says first:
// on its hello it sends the client's and returns the connection; on a
// refusal it checks that popd closes, and returns the error.
func dialAs(t *testing.T, path string, uid int) (*raw, *control.Error) {
	t.Helper()
	local := filepath.Join(filepath.Dir(path), fmt.Sprintf("u%d-%d", uid, clientSeq.Add(1)))
	nc, err := net.DialUnix("unix", &net.UnixAddr{Name: local, Net: "unix"}, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nc.Close()
		os.Remove(local)
	})
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	r := &raw{t: t, nc: nc, r: bufio.NewReader(nc)}
	var h struct {
		control.Hello
		Error *control.Error `json:"error"`
	}
	r.read(&h)
	if h.Error != nil {
		r.expectClosed()
		return nil, h.Error
	}
	if h.Hello.Hello != "popd-control" {
		t.Fatalf("uid %d: hello %+v", uid, h.Hello)
	}
	r.send(`{"hello":"popd-control","version":1}`)
	return r, nil
}

// wantBusy checks that e is a refusal for too many connections whose
// message has all of words.
func wantBusy(t *testing.T, e *control.Error, words ...string) {
	t.Helper()
	if e == nil || e.Code != control.CodeBusy {
		t.Fatalf("got %v, want a %q error", e, control.CodeBusy)
	}
	for _, w := range words {
		if !strings.Contains(e.Message, w) {
			t.Errorf("message %q does not say %q", e.Message, w)
		}
	}
}

// call makes one request on r and checks that it is answered.
func (r *raw) call(id int, method string) {
	r.t.Helper()
	r.send(fmt.Sprintf(`{"id":%d,"method":%q}`, id, method))
	var resp control.Response
	r.read(&resp)
	if resp.ID != int64(id) || resp.Error != nil {
		r.t.Fatalf("%s: %+v (error %v)", method, resp, resp.Error)
	}
}

func TestConnLimitPerUID(t *testing.T) {
	path, _ := serveConfig(t, controltest.NewDaemon(),
		control.ServerConfig{MaxConns: 10, MaxConnsPerUID: 3, AdminReserve: 2}, fakeUIDs)
	var held []*raw
	for i := range 3 {
		r, e := dialAs(t, path, 2001)
		if e != nil {
			t.Fatalf("connection %d of uid 2001: %v", i+1, e)
		}
		held = append(held, r)
	}
	_, e := dialAs(t, path, 2001)
	wantBusy(t, e, "uid 2001", "3")

	// Another uid is not held back by the first one's connections, and
	// the connections held still work.
	if _, e := dialAs(t, path, 2002); e != nil {
		t.Fatalf("uid 2002: %v", e)
	}
	held[0].call(1, "stats")

	// A closed connection frees its place.
	held[2].nc.Close()
	testutil.Eventually(t, 10*time.Second, "uid 2001's place not freed", func() bool {
		_, e := dialAs(t, path, 2001)
		return e == nil
	})
	if _, err := dial(t, path).Stats(t.Context()); err != nil {
		t.Fatalf("the admin: %v", err)
	}
}

// Monitors fill every place but the admins' reserve; admins, of any
// uid, still get in, up to the total.
func TestConnLimitAdminReserve(t *testing.T) {
	path, _ := serveConfig(t, controltest.NewDaemon(),
		control.ServerConfig{MaxConns: 6, MaxConnsPerUID: 2, AdminReserve: 2}, fakeUIDs)
	var monitors []*raw
	for _, uid := range []int{2001, 2001, 2002, 2002} {
		r, e := dialAs(t, path, uid)
		if e != nil {
			t.Fatalf("uid %d: %v", uid, e)
		}
		monitors = append(monitors, r)
	}
	_, e := dialAs(t, path, 2003)
	wantBusy(t, e, "too many")

	c := dial(t, path) // popd's own uid
	if _, err := c.Stats(t.Context()); err != nil {
		t.Fatalf("the admin: %v", err)
	}
	admin, e := dialAs(t, path, 3001) // the admin group
	if e != nil {
		t.Fatalf("uid 3001: %v", e)
	}
	admin.call(1, "users")

	// Every place is taken: an admin waits too, and a monitor leaving
	// frees a place for a monitor.
	_, e = dialAs(t, path, 3002)
	wantBusy(t, e, "too many")
	monitors[0].nc.Close()
	testutil.Eventually(t, 10*time.Second, "the monitor's place not freed", func() bool {
		_, e := dialAs(t, path, 2003)
		return e == nil
	})
}

// With the real credentials (SO_PEERCRED), the test's uid is capped like
// any other, and its refusal reaches Dial's caller as an *Error.
func TestConnLimitRealPeer(t *testing.T) {
	path, _ := serveConfig(t, controltest.NewDaemon(), control.ServerConfig{MaxConnsPerUID: 2}, nil)
	c1 := dial(t, path)
	dial(t, path)
	_, err := control.Dial(t.Context(), path)
	var ce *control.Error
	if !errors.As(err, &ce) {
		t.Fatalf("third connection: %v", err)
	}
	wantBusy(t, ce, fmt.Sprintf("uid %d", os.Getuid()))
	t.Log(err)
	c1.Close()
	testutil.Eventually(t, 10*time.Second, "a closed connection's place not freed", func() bool {
		c, err := control.Dial(t.Context(), path)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// TestControlFlood is the audit's "control-socket floods": monitors of
// many uids open more connections than popd takes, hold them idle, half
// send, flood requests (some never reading the answers); the admin is
// still answered, events still flow, and no uid got more than its share.
func TestControlFlood(t *testing.T) {
	d := controltest.NewDaemon()
	d.AddSession(control.Session{ID: "1", User: "alice"})
	d.PutUser(control.User{Name: "alice"}, "pw")
	path, srv := serveConfig(t, d, control.ServerConfig{}, fakeUIDs)

	admitted := 0
	var flooders, halfSent []*raw
	for uid := 2001; uid <= 2008; uid++ {
		n := 0
		for range control.DefaultMaxConnsPerUID + 4 {
			r, e := dialAs(t, path, uid)
			if e != nil {
				wantBusy(t, e)
				continue
			}
			n++
			switch uid {
			case 2001:
				flooders = append(flooders, r)
			case 2002:
				r.nc.Write([]byte(`{"id":1,"method":"wh`))
				halfSent = append(halfSent, r)
			}
		}
		if n > control.DefaultMaxConnsPerUID {
			t.Errorf("uid %d has %d connections, more than %d", uid, n, control.DefaultMaxConnsPerUID)
		}
		admitted += n
	}
	if want := control.DefaultMaxConns - control.DefaultAdminReserve; admitted != want {
		t.Errorf("%d monitor connections admitted, want %d", admitted, want)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	flood := []byte(strings.Repeat(`{"id":1,"method":"who"}`+"\n", 64))
	for i, r := range flooders {
		if i%2 == 0 {
			wg.Go(func() { io.Copy(io.Discard, r.nc) })
		}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := r.nc.Write(flood); err != nil {
					return
				}
			}
		})
	}
	defer func() {
		close(stop)
		for _, r := range flooders {
			r.nc.Close()
		}
		wg.Wait()
	}()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := control.Dial(ctx, path)
	if err != nil {
		t.Fatalf("the admin cannot connect: %v", err)
	}
	defer c.Close()
	if _, err := c.Stats(ctx); err != nil {
		t.Fatalf("the admin is not answered: %v", err)
	}
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatalf("the admin's event stream: %v", err)
	}
	if err := c.Kick(ctx, "1"); err != nil {
		t.Fatalf("the admin's kick: %v", err)
	}
	testutil.NextEvent(t, events, event.Kicked, 10*time.Second)
	member, e := dialAs(t, path, 3001)
	if e != nil {
		t.Fatalf("an admin-group member cannot connect: %v", e)
	}
	member.call(1, "users")
	_, e = dialAs(t, path, 2009)
	wantBusy(t, e, "too many")
	srv.Publish(control.Event{Type: "after-the-flood"})
	testutil.NextEvent(t, events, "after-the-flood", 10*time.Second)
}

// A connection without a hello, or idle between requests, or with a
// request half sent, is told and closed after IdleTimeout; an event
// stream is not, however long it stays quiet.
func TestIdleTimeout(t *testing.T) {
	path, srv := serveConfig(t, controltest.NewDaemon(), control.ServerConfig{IdleTimeout: 200 * time.Millisecond}, nil)
	c := dial(t, path)
	events, err := c.Events(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	quiet, _ := dialRaw(t, path, true)
	half, _ := dialRaw(t, path, true)
	half.nc.Write([]byte(`{"id":1,"meth`))
	for name, r := range map[string]*raw{"quiet": quiet, "half sent": half} {
		e := r.expectError(0, control.CodeTimeout)
		if !strings.Contains(e.Message, "200ms") {
			t.Errorf("%s: message %q", name, e.Message)
		}
		r.expectClosed()
	}
	mute, _ := dialRaw(t, path, false)
	var h struct{ Error *control.Error }
	mute.read(&h)
	if h.Error == nil || h.Error.Code != control.CodeTimeout {
		t.Errorf("no hello: got %+v", h.Error)
	}
	mute.expectClosed()

	// Only the stream is left (c's own connection idled out too); it
	// still delivers.
	testutil.Eventually(t, 10*time.Second, "idle connections left", func() bool { return control.ConnCount(srv) == 1 })
	srv.Publish(control.Event{Type: "still-here"})
	testutil.NextEvent(t, events, "still-here", 10*time.Second)
	// The client says why its connection went.
	_, err = c.Stats(t.Context())
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Code != control.CodeTimeout {
		t.Errorf("a call on the idled-out client: %v", err)
	}
	t.Log(err)
}
