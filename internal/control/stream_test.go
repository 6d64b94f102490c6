package control_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
)

// bareStream is a connection with nothing but Read, Write and Close, as
// the pipes of an ssh process are: no deadlines.
type bareStream struct {
	rwc    io.ReadWriteCloser
	closed atomic.Bool
}

func (s *bareStream) Read(p []byte) (int, error)  { return s.rwc.Read(p) }
func (s *bareStream) Write(p []byte) (int, error) { return s.rwc.Write(p) }
func (s *bareStream) Close() error                { s.closed.Store(true); return s.rwc.Close() }

func openBare(t *testing.T, path string) *bareStream {
	t.Helper()
	nc, err := control.Connect(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &bareStream{rwc: nc}
}

// A Client over a stream without deadlines works as over the socket;
// DialWith gives it the second connection Events needs.
func TestNewClient(t *testing.T) {
	d := controltest.NewDaemon()
	path, srv := serve(t, d, "", nil)
	d.AddSession(control.Session{ID: "7", User: "alice"})
	ctx := t.Context()

	c, err := control.NewClient(ctx, openBare(t, path), "ssh://node/ctl.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Role() != control.RoleAdmin || c.ServerVersion() != "9.9.9" {
		t.Errorf("role %q, version %q", c.Role(), c.ServerVersion())
	}
	// A deadline that passes between two calls breaks nothing.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	ss, err := c.Sessions(short)
	cancel()
	if err != nil || len(ss) != 1 || ss[0].ID != "7" {
		t.Fatalf("who: %v, %v", ss, err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := c.Kick(ctx, "7"); err != nil {
		t.Fatal(err)
	}
	var ce *control.Error
	if err := c.Kick(ctx, "7"); !errors.As(err, &ce) || ce.Code != control.CodeNotFound {
		t.Errorf("kick again: %v", err)
	}
	if _, err := c.Events(ctx); err == nil || !strings.Contains(err.Error(), "ssh://node/ctl.sock: events need a connection of their own") {
		t.Errorf("events without a second connection: %v", err)
	}

	opened := 0
	c2, err := control.DialWith(ctx, func(ctx context.Context) (*control.Client, error) {
		opened++
		return control.NewClient(ctx, openBare(t, path), "ssh://node/ctl.sock")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	ch, err := c2.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.Publish(control.Event{Type: event.Login, User: "bob"})
	select {
	case e := <-ch:
		if e.User != "bob" {
			t.Errorf("event %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	if opened != 2 {
		t.Errorf("opened %d streams, want 2", opened)
	}
}

// A call still waiting when its context ends closes the stream, which is
// the only way to stop the read, and the Client; a hello that does not
// come in time is an error.
func TestNewClientDeadline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hello := make(chan bool, 2) // whether the fake server says hello
	hello <- true
	hello <- false
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			if <-hello {
				io.WriteString(nc, `{"hello":"popd-control","version":1,"role":"admin"}`+"\n")
			}
			go func() { // reads, never answers
				defer nc.Close()
				bufio.NewReader(nc).WriteTo(io.Discard)
			}()
		}
	}()

	s := openBare(t, path)
	c, err := control.NewClient(t.Context(), s, "mute")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Stats(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stats: %v", err)
	}
	if time.Since(start) > 3*time.Second || !s.closed.Load() {
		t.Errorf("the stream was not closed at the deadline (%v)", time.Since(start))
	}
	if _, err := c.Stats(t.Context()); !errors.Is(err, control.ErrClosed) {
		t.Errorf("after: %v", err)
	}

	s = openBare(t, path)
	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = control.NewClient(ctx, s, "mute")
	if msg := fmt.Sprint(err); (msg != "control: mute: context deadline exceeded" && msg != "control: mute: no hello from popd in time") || !s.closed.Load() {
		t.Errorf("no hello: %v (closed %v)", err, s.closed.Load())
	}
}
