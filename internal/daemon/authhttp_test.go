package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"popd/internal/testutil"
	"popd/internal/testutil/site"
)

// TestAuthHTTPOnly: a popd with -auth-http, -fleet and no POP3 listener
// starts, checks its nodes, answers nginx with the home node of a user
// (here the one node, a whole popd), and stops cleanly: its port is then
// closed. A fleet file that does not load stops it from starting.
func TestAuthHTTPOnly(t *testing.T) {
	node := newEnv(t, []account{alice}, nil)
	st := site.New(t, []account{alice})
	fleetFile := filepath.Join(st.Dir, "fleet.toml")
	os.WriteFile(fleetFile, []byte(fmt.Sprintf("[[node]]\nname = \"pop1\"\npop3 = %q\ncontrol = \"/run/pop1.sock\"\n", node.addr)), 0o600)
	cfg := st.Cfg
	cfg.Listen = "none"
	cfg.AuthHTTP = "127.0.0.1:0"
	cfg.Fleet = fleetFile
	cfg.Control = filepath.Join(t.TempDir(), "control.sock")
	cfg.AllowRoot = true

	log, buf := testutil.Logger(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	var plain net.Addr = &net.TCPAddr{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{
			Logger:        log,
			ReadyAuthHTTP: func(a net.Addr) { ready <- a },
			Ready:         func(p, _ net.Addr) { plain = p },
		})
	}()
	var addr string
	select {
	case a := <-ready:
		addr = a.String()
	case err := <-done:
		t.Fatalf("popd did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("popd did not start within 10s")
	}

	req, _ := http.NewRequest("GET", "http://"+addr+"/auth", nil)
	for k, v := range map[string]string{"Auth-Method": "plain", "Auth-User": "alice", "Auth-Pass": "correct%20horse",
		"Auth-Protocol": "pop3", "Auth-Login-Attempt": "1", "Client-IP": "192.0.2.1"} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header; h.Get("Auth-Status") != "OK" || net.JoinHostPort(h.Get("Auth-Server"), h.Get("Auth-Port")) != node.addr {
		t.Errorf("answer: %v, want OK and %s", h, node.addr)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("popd did not stop within 10s")
	}
	if plain != nil {
		t.Errorf("Ready was given a POP3 address, %v", plain)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("auth_http still listening after Run returned")
	}
	if logs := buf.String(); !strings.Contains(logs, `msg="auth_http listening" addr=`+addr+" nodes=1 up=1") {
		t.Errorf("log:\n%s", logs)
	}

	os.WriteFile(fleetFile, []byte("[[node]]\nname = \"pop1\"\npop3 = \"mail.example:110\"\ncontrol = \"/s\"\n"), 0o600)
	err = Run(context.Background(), cfg, Options{Logger: log})
	if err == nil || !strings.Contains(err.Error(), "fleet: "+fleetFile) || !strings.Contains(err.Error(), "want IP:port") {
		t.Errorf("Run with a bad fleet file: %v", err)
	}
	cfg.Fleet = ""
	if err := Run(context.Background(), cfg, Options{Logger: log}); err == nil || !strings.Contains(err.Error(), "auth-http needs fleet") {
		t.Errorf("Run without a fleet file: %v", err)
	}
}
