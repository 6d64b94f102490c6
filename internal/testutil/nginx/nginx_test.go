package nginx_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"popd/internal/testutil/nginx"
)

// TestStart: nginx asks the auth service, then logs in to the backend it
// names with USER/PASS and relays the session. The backend here is a
// scripted POP3 peer that records what nginx sent it.
func TestStart(t *testing.T) {
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	got := make(chan string, 1)
	go func() {
		c, err := backend.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		io.WriteString(c, "+OK backend\r\n")
		var seen []string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				got <- strings.Join(seen, "|")
				return
			}
			seen = append(seen, strings.TrimSpace(l))
			io.WriteString(c, "+OK\r\n")
			if strings.HasPrefix(l, "QUIT") {
				got <- strings.Join(seen, "|")
				return
			}
		}
	}()
	port := backend.Addr().(*net.TCPAddr).Port
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Auth-User") != "alice" || r.Header.Get("Auth-Pass") != "secret" {
			w.Header().Set("Auth-Status", "Invalid login or password")
			return
		}
		w.Header().Set("Auth-Status", "OK")
		w.Header().Set("Auth-Server", "127.0.0.1")
		w.Header().Set("Auth-Port", fmt.Sprint(port))
	}))
	defer auth.Close()
	p := nginx.Start(t, nginx.Options{AuthHTTP: strings.TrimPrefix(auth.URL, "http://")})
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(cmd, want string) {
		t.Helper()
		if cmd != "" {
			io.WriteString(c, cmd+"\r\n")
		}
		l, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(l, want) {
			t.Fatalf("%q: %q %v, want %q", cmd, l, err, want)
		}
	}
	say("", "+OK")
	say("USER alice", "+OK")
	say("PASS secret", "+OK")
	say("STAT", "+OK")
	say("QUIT", "+OK")
	if s := <-got; s != "USER alice|PASS secret|STAT|QUIT" {
		t.Errorf("the backend saw %q", s)
	}
}
