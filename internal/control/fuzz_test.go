package control_test

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
)

// FuzzServer sends arbitrary bytes after the hello: the server may answer
// or close, but must go on serving others.
func FuzzServer(f *testing.F) {
	for _, seed := range []string{
		`{"id":1,"method":"who"}`,
		`{"id":2,"method":"stats","params":{}}`,
		`{"id":3,"method":"users"}`,
		`{"id":4,"method":"locks"}`,
		`{"id":5,"method":"penalties"}`,
		`{"id":6,"method":"events"}`,
		`{"id":7,"method":"kick","params":{"id":"1"}}`,
		`{"id":8,"method":"kick_user","params":{"user":"alice"}}`,
		`{"id":9,"method":"user_add","params":{"name":"bob","password":"pw"}}`,
		`{"id":10,"method":"user_passwd","params":{"name":"alice","password":"pw"}}`,
		`{"id":11,"method":"user_del","params":{"name":"alice","purge_mail":true}}`,
		`{"id":12,"method":"user_disable","params":{"name":"alice","disabled":true}}`,
		`{"id":13,"method":"unlock","params":{"user":"alice"}}`,
		`{"id":14,"method":"penalty_clear","params":{"source":"192.0.2.1"}}`,
		`{"id":15,"method":"reload"}`,
		"{\"id\":1,\"method\":\"who\"}\n{\"id\":2,\"method\":\"who\"}",
		`{"id":-1,"method":"who","params":null}`,
		"\r\n\r\n",
		`{"hello":"popd-control","version":1}`,
	} {
		f.Add([]byte(seed))
	}
	d := controltest.NewDaemon()
	d.AddSession(control.Session{ID: "1", User: "alice"})
	d.PutUser(control.User{Name: "alice"}, "pw")
	// Not controltest.Start: its logger writes to f, which the fuzz
	// function must not use.
	dir, err := os.MkdirTemp("", "popd-ctl-")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	cfg := control.ServerConfig{Path: filepath.Join(dir, "control.sock")}
	ln, err := control.Listen(cfg)
	if err != nil {
		f.Fatal(err)
	}
	srv := control.NewServer(cfg, d)
	d.SetPublisher(srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	f.Cleanup(func() { cancel(); <-done })
	path := cfg.Path

	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(2 * time.Second))
		nc.Write([]byte(`{"hello":"popd-control","version":1}` + "\n"))
		nc.Write(append(data, '\n'))
		if uc, ok := nc.(*net.UnixConn); ok {
			uc.CloseWrite()
		}
		io.Copy(io.Discard, nc) // until popd closes, or the deadline for a stream

		c, err := control.Dial(t.Context(), path)
		if err != nil {
			t.Fatalf("after %q: %v", data, err)
		}
		defer c.Close()
		if _, err := c.Stats(t.Context()); err != nil {
			t.Fatalf("after %q: %v", data, err)
		}
	})
}
