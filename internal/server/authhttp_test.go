package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/event"
	"popd/internal/fleet"
	"popd/internal/testutil"
	"popd/internal/userdb"
)

// proxyEnv is a popd answering auth_http on loopback for a fleet of three
// real popd nodes, with a users file of its own.
type proxyEnv struct {
	t      *testing.T
	srv    *Server
	cfg    config.Config
	log    *testutil.Buffer
	fleet  *fleet.Fleet
	addr   string            // auth_http
	events chan event.Event  // what the server published
	nodes  map[string]string // node name → its POP3 address
	mu     sync.Mutex        // guards down
	down   map[string]bool   // nodes the up func calls down
	up     func(*fleet.Node) bool
}

const (
	alicePass = "correct horse 100%" // bcrypt; space and % come URL-escaped
	bobPass   = "bob's secret"       // {PLAIN}
)

// authUsers are the users of every proxyEnv: alice (bcrypt), bob and
// u0…u11 ({PLAIN}), dave ({PLAIN}, disabled).
func authUsers(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	line := func(name, scheme, pass, extra string) {
		hash, err := userdb.Hash(scheme, pass)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%s::::%s::%s\n", name, hash, filepath.Join(dir, "home", name), extra)
	}
	line("alice", "", alicePass, "")
	line("bob", "PLAIN", bobPass, "")
	line("dave", "PLAIN", "pw", "nologin")
	for i := range 12 {
		line(fmt.Sprintf("u%d", i), "PLAIN", "pw", "")
	}
	path := filepath.Join(dir, "users")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// proxyOpts adjust an proxyEnv.
type proxyOpts struct {
	mod func(*config.Config) // adjusts the auth_http popd's configuration
	// refusing names a node whose POP3 address is a port that refuses.
	refusing string
	// checker: the fleet's health checker says which nodes are up, not
	// the test (a.down).
	checker bool
	// key is the auth-http-key the requests must carry.
	key []byte
}

// newProxyEnv starts three popd nodes and the auth_http popd.
func newProxyEnv(t *testing.T, o proxyOpts) *proxyEnv {
	t.Helper()
	a := &proxyEnv{t: t, nodes: map[string]string{}, down: map[string]bool{}, events: make(chan event.Event, 100)}
	dir := t.TempDir()
	var ff strings.Builder
	for _, name := range []string{"pop1", "pop2", "pop3"} {
		if name == o.refusing {
			a.nodes[name] = closedPort(t)
		} else {
			a.nodes[name] = newEnv(t, nil, nil).addr
		}
		fmt.Fprintf(&ff, "[[node]]\nname = %q\npop3 = %q\ncontrol = \"/run/%s.sock\"\n", name, a.nodes[name], name)
	}
	ffile := filepath.Join(dir, "fleet.toml")
	os.WriteFile(ffile, []byte(ff.String()), 0o600)
	var err error
	if a.fleet, err = fleet.Load(ffile); err != nil {
		t.Fatal(err)
	}
	a.cfg = config.Default()
	a.cfg.Users = authUsers(t, dir)
	a.cfg.Maildir = filepath.Join(dir, "mail", "%u")
	a.cfg.APOP = true
	if o.mod != nil {
		o.mod(&a.cfg)
	}
	log, buf := testutil.Logger(t)
	a.log = buf
	users, err := userdb.Open(a.cfg.Users, log)
	if err != nil {
		t.Fatal(err)
	}
	a.srv, err = New(a.cfg, Options{Users: users, Logger: log, Publish: func(e event.Event) {
		select {
		case a.events <- e:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	a.up = func(n *fleet.Node) bool { a.mu.Lock(); defer a.mu.Unlock(); return !a.down[n.Name] }
	if o.checker {
		c := fleet.NewChecker(a.fleet, log)
		c.Timeout = 500 * time.Millisecond
		c.Check(context.Background())
		a.up = c.Up
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.addr = l.Addr().String()
	hs := NewAuthHTTPServer(a.srv.AuthHTTP(a.fleet, a.up, o.key), log)
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		<-done
	})
	return a
}

func (a *proxyEnv) setDown(names ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.down = map[string]bool{}
	for _, n := range names {
		a.down[n] = true
	}
}

// login is what nginx asks about; zero fields get defaults (plain, the
// first attempt, from 192.0.2.1).
type login struct {
	method, user, pass, salt, ip string
	attempt                      int
}

func (l login) header() string {
	l.method = cmpOr(l.method, "plain")
	l.ip = cmpOr(l.ip, "192.0.2.1")
	l.attempt = max(l.attempt, 1)
	h := "Host: localhost\r\nAuth-Method: " + l.method + "\r\nAuth-User: " + nginxEscape(l.user) +
		"\r\nAuth-Pass: " + nginxEscape(l.pass) + "\r\n"
	if l.salt != "" {
		h += "Auth-Salt: " + l.salt + "\r\n"
	}
	return h + fmt.Sprintf("Auth-Protocol: pop3\r\nAuth-Login-Attempt: %d\r\nClient-IP: %s\r\n", l.attempt, l.ip)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// nginxEscape escapes as nginx does Auth-User and Auth-Pass
// (NGX_ESCAPE_MAIL_AUTH: space, "%" and control characters).
func nginxEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '%' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ask sends a request as nginx does (HTTP/1.0, header only) and returns
// the response. nginx reads the response header into 1024 bytes: it must
// fit.
func (a *proxyEnv) ask(request string) *http.Response {
	a.t.Helper()
	c, err := net.Dial("tcp", a.addr)
	if err != nil {
		a.t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		a.t.Fatal(err)
	}
	raw, err := io.ReadAll(c)
	if err != nil {
		a.t.Fatal(err)
	}
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i < 0 || i+4 > 1024 {
		a.t.Fatalf("response header is %d bytes, more than nginx reads:\n%s", i, raw)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		a.t.Fatalf("%v: %q", err, raw)
	}
	return resp
}

func (a *proxyEnv) login(l login) http.Header {
	a.t.Helper()
	resp := a.ask("GET /auth HTTP/1.0\r\n" + l.header() + "\r\n")
	if resp.StatusCode != http.StatusOK {
		a.t.Errorf("%s %s: HTTP %s", l.method, l.user, resp.Status)
	}
	return resp.Header
}

// home asks for user's node and returns its name ("" for a failure).
func (a *proxyEnv) home(user, pass string) string {
	a.t.Helper()
	h := a.login(login{user: user, pass: pass})
	if h.Get("Auth-Status") != "OK" {
		return ""
	}
	for name, addr := range a.nodes {
		if addr == net.JoinHostPort(h.Get("Auth-Server"), h.Get("Auth-Port")) {
			return name
		}
	}
	a.t.Fatalf("%s sent to %s:%s, no node of the fleet", user, h.Get("Auth-Server"), h.Get("Auth-Port"))
	return ""
}

const authFailed = "[AUTH] invalid user name or password"

// TestAuthHTTPPlain: a good password sends the user to their home node
// (fleet.Home), the same one every time, and the users spread over the
// nodes; nginx is not sent the password back.
func TestAuthHTTPPlain(t *testing.T) {
	a := newProxyEnv(t, proxyOpts{})
	h := a.login(login{user: "alice", pass: alicePass})
	if h.Get("Auth-Status") != "OK" || h.Get("Auth-Pass") != "" || h.Get("Auth-Wait") != "" {
		t.Fatalf("alice: %v", h)
	}
	want, _ := a.fleet.Home("alice", nil)
	if got := a.home("alice", alicePass); got != want.Name {
		t.Errorf("alice sent to %s, her home is %s", got, want.Name)
	}
	seen := map[string]int{}
	for i := range 12 {
		user := fmt.Sprintf("u%d", i)
		first := a.home(user, "pw")
		if again := a.home(user, "pw"); first == "" || again != first {
			t.Errorf("%s sent to %q, then %q", user, first, again)
		}
		seen[first]++
	}
	if len(seen) < 2 {
		t.Errorf("12 users all on one node: %v", seen)
	}
	if strings.Contains(a.log.String(), alicePass) || !strings.Contains(a.log.String(), `msg="proxied login" user=alice method=plain remote=192.0.2.1 node=`) {
		t.Errorf("log:\n%s", a.log)
	}
}

// TestAuthHTTPFailures: a failure is the [AUTH] text with an Auth-Wait
// that grows with the failures from one Client-IP (not from others) and
// is left out from max-auth-failures attempts on (10 at most); the handler
// does not sit out the penalty itself. Each failure is logged as a direct
// one is, with the client's address and never the password. ({PLAIN}
// users first: once a bcrypt check was made, every failure takes as long,
// and bcrypt is slow under the race detector.)
func TestAuthHTTPFailures(t *testing.T) {
	a := newProxyEnv(t, proxyOpts{mod: func(c *config.Config) {
		c.AuthFailureDelay.Duration = time.Second
		c.MaxAuthFailures = 5
	}})
	const wrong = "wrong 50% guess"
	for i, want := range []string{"1", "2", "4", "8", "", ""} {
		start := time.Now()
		h := a.login(login{user: "bob", pass: wrong, ip: "192.0.2.7", attempt: i + 1})
		if h.Get("Auth-Status") != authFailed || h.Get("Auth-Wait") != want {
			t.Errorf("attempt %d: Auth-Status %q, Auth-Wait %q, want %q", i+1, h.Get("Auth-Status"), h.Get("Auth-Wait"), want)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("attempt %d took %v: the handler waited out the penalty", i+1, d)
		}
	}
	for _, l := range []login{
		{user: "bob", pass: "x", ip: "198.51.100.1"}, // another source: a fresh penalty
		{user: "../etc", pass: "x", ip: "198.51.100.3"},
		{user: "dave", pass: "pw", ip: "198.51.100.4"},   // disabled
		{user: "", pass: "", ip: "2001:db8:1::1"},        // no name at all
		{user: "bob", pass: "x", ip: "2001:db8:1:ff::2"}, // the same /48
	} {
		want := "1"
		if l.ip == "2001:db8:1:ff::2" {
			want = "2"
		}
		if h := a.login(l); h.Get("Auth-Status") != authFailed || h.Get("Auth-Wait") != want {
			t.Errorf("%+v: %v, want Auth-Wait %s", l, h, want)
		}
	}
	// Never more than nginx's docs allow, whatever max-auth-failures says.
	live := a.cfg.Live
	live.MaxAuthFailures = 50
	a.srv.Apply(live)
	for attempt, want := range map[int]bool{9: true, 10: false, 11: false} {
		h := a.login(login{user: "bob", pass: "x", ip: "203.0.113.9", attempt: attempt})
		if got := h.Get("Auth-Wait") != ""; got != want {
			t.Errorf("attempt %d with max-auth-failures 50: Auth-Wait %q", attempt, h.Get("Auth-Wait"))
		}
	}
	// A right password clears the failures it made.
	if h := a.login(login{user: "bob", pass: bobPass, ip: "192.0.2.7"}); h.Get("Auth-Status") != "OK" {
		t.Errorf("bob: %v", h)
	}
	if h := a.login(login{user: "bob", pass: "x", ip: "192.0.2.7"}); h.Get("Auth-Wait") != "1" {
		t.Errorf("after a success: %v", h)
	}
	// bcrypt users and unknown names fail alike.
	for _, user := range []string{"alice", "nobody"} {
		if h := a.login(login{user: user, pass: wrong, ip: "198.51.100.9"}); h.Get("Auth-Status") != authFailed {
			t.Errorf("%s: %v", user, h)
		}
	}

	logs := a.log.String()
	for _, want := range []string{
		`msg="auth failed" remote=192.0.2.7 method=plain user=bob reason=AUTH via=auth_http`,
		`msg="auth failed" remote=198.51.100.9 method=plain user=nobody reason=AUTH via=auth_http`,
		`msg="login refused: user is disabled" user=dave`,
		`msg="login penalty" source=192.0.2.7/32 failures=2`,
		`msg="login penalty" source=2001:db8:1::/48 failures=2`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if strings.Contains(logs, "50% guess") || strings.Contains(logs, "50%25") || strings.Contains(logs, bobPass) {
		t.Error("a password in the log")
	}
	if ev := testutil.NextEvent(t, a.events, event.LoginFailed, time.Second); ev.Remote != "192.0.2.7" || ev.User != "bob" || ev.Reason != "AUTH" {
		t.Errorf("event %+v", ev)
	}
	if got := len(a.srv.Penalties()); got != 7 {
		t.Errorf("%d sources penalized, want 7: %+v", got, a.srv.Penalties())
	}
}

// TestAuthHTTPAPOPAndCRAM: apop and cram-md5 work for a {PLAIN} user, whose
// password nginx is then given for its USER/PASS to the node; not for a
// bcrypt user, not with a wrong digest, and not without -apop.
func TestAuthHTTPAPOPAndCRAM(t *testing.T) {
	a := newProxyEnv(t, proxyOpts{})
	const salt = "<238188073.1163692009@mail.example.com>"
	apop := func(pass string) string { s := md5.Sum([]byte(salt + pass)); return hex.EncodeToString(s[:]) }
	cram := func(pass string) string {
		m := hmac.New(md5.New, []byte(pass))
		m.Write([]byte(salt))
		return hex.EncodeToString(m.Sum(nil))
	}
	home, _ := a.fleet.Home("bob", nil)
	for _, l := range []login{
		{method: "apop", user: "bob", pass: apop(bobPass), salt: salt},
		{method: "apop", user: "bob", pass: strings.ToUpper(apop(bobPass)), salt: salt},
		{method: "cram-md5", user: "bob", pass: cram(bobPass), salt: salt},
	} {
		h := a.login(l)
		if h.Get("Auth-Status") != "OK" || h.Get("Auth-Pass") != bobPass ||
			net.JoinHostPort(h.Get("Auth-Server"), h.Get("Auth-Port")) != home.POP3 {
			t.Errorf("%s: %v", l.method, h)
		}
	}
	for _, l := range []login{
		{method: "apop", user: "alice", pass: apop(alicePass), salt: salt},     // bcrypt
		{method: "cram-md5", user: "alice", pass: cram(alicePass), salt: salt}, // bcrypt
		{method: "apop", user: "bob", pass: apop("nope"), salt: salt},
		{method: "cram-md5", user: "bob", pass: cram(bobPass), salt: "<other@host>"},
		{method: "apop", user: "dave", pass: apop("pw"), salt: salt}, // disabled
		{method: "apop", user: "nobody", pass: apop("pw"), salt: salt},
	} {
		h := a.login(l)
		if h.Get("Auth-Status") != authFailed || h.Get("Auth-Pass") != "" || h.Get("Auth-Wait") == "" {
			t.Errorf("%s %s: %v", l.method, l.user, h)
		}
	}
	if !strings.Contains(a.log.String(), `msg="auth failed" remote=192.0.2.1 method=apop user=alice`) {
		t.Errorf("log:\n%s", a.log)
	}

	live := a.cfg.Live
	live.APOP = false
	a.srv.Apply(live)
	if h := a.login(login{method: "apop", user: "bob", pass: apop(bobPass), salt: salt}); h.Get("Auth-Status") != authFailed || h.Get("Auth-Pass") != "" {
		t.Errorf("apop without -apop: %v", h)
	}
	if !strings.Contains(a.log.String(), "apop and cram-md5 need -apop") {
		t.Errorf("log:\n%s", a.log)
	}
}

// TestAuthHTTPNodeDown: a node that is down loses its users to the others,
// and only its users move; with every node down the answer is a
// temporary failure that nginx passes on and closes.
func TestAuthHTTPNodeDown(t *testing.T) {
	a := newProxyEnv(t, proxyOpts{})
	before := map[string]string{}
	for i := range 12 {
		user := fmt.Sprintf("u%d", i)
		before[user] = a.home(user, "pw")
	}
	a.setDown("pop2")
	moved := 0
	for user, was := range before {
		now := a.home(user, "pw")
		switch {
		case now == "pop2" || now == "":
			t.Errorf("%s sent to %q with pop2 down", user, now)
		case was != "pop2" && now != was:
			t.Errorf("%s moved from %s to %s though its node is up", user, was, now)
		case was == "pop2":
			moved++
		}
	}
	if moved == 0 {
		t.Error("no user had pop2 for home: the move is not shown")
	}
	a.setDown("pop1", "pop2", "pop3")
	h := a.login(login{user: "bob", pass: bobPass})
	if h.Get("Auth-Status") != "[SYS/TEMP] temporary server failure, try again later" || h.Get("Auth-Wait") != "" || h.Get("Auth-Server") != "" {
		t.Errorf("all down: %v", h)
	}
	if !strings.Contains(a.log.String(), `msg="auth_http: no fleet node is up; login refused for now" user=bob`) {
		t.Errorf("log:\n%s", a.log)
	}
}

// TestAuthHTTPWithChecker: with the health checker as the up func, the
// users of a node whose port refuses go to the nodes that answer.
func TestAuthHTTPWithChecker(t *testing.T) {
	a := newProxyEnv(t, proxyOpts{refusing: "pop2", checker: true})
	for i := range 12 {
		user := fmt.Sprintf("u%d", i)
		if got := a.home(user, "pw"); got == "pop2" || got == "" {
			t.Errorf("%s sent to %q", user, got)
		}
	}
	if !strings.Contains(a.log.String(), `msg="fleet node down" node=pop2`) {
		t.Errorf("log:\n%s", a.log)
	}
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestAuthHTTPBadRequests: what nginx would not send is refused with a
// clear Auth-Status and no Auth-Wait (nginx closes), never a 500, and is
// not counted against the client.
func TestAuthHTTPBadRequests(t *testing.T) {
	a := newProxyEnv(t, proxyOpts{})
	good := login{user: "bob", pass: bobPass}.header()
	without := func(name string) string {
		var out []string
		for _, l := range strings.SplitAfter(good, "\r\n") {
			if !strings.HasPrefix(l, name+":") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "")
	}
	replace := func(name, value string) string { return without(name) + name + ": " + value + "\r\n" }
	const perm = "[SYS/PERM] this login cannot be proxied, contact the administrator"
	for _, tc := range []struct{ name, header, status string }{
		{"no Client-IP", without("Client-IP"), perm},
		{"bad Client-IP", replace("Client-IP", "unix:"), perm},
		{"no Auth-Method", without("Auth-Method"), perm},
		{"external", replace("Auth-Method", "external"), "unsupported authentication mechanism"},
		{"imap", replace("Auth-Protocol", "imap"), perm},
		{"two users", good + "Auth-User: alice\r\n", perm},
		{"no Auth-Pass", without("Auth-Pass"), perm},
		{"bad escape", replace("Auth-Pass", "100%zz"), perm},
		{"attempt 0", replace("Auth-Login-Attempt", "0"), perm},
		{"attempt x", replace("Auth-Login-Attempt", "x"), perm},
		{"apop without salt", replace("Auth-Method", "apop"), perm},
	} {
		resp := a.ask("GET /auth HTTP/1.0\r\n" + tc.header + "\r\n")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Auth-Status") != tc.status || resp.Header.Get("Auth-Wait") != "" {
			t.Errorf("%s: %s %v", tc.name, resp.Status, resp.Header)
		}
	}
	if resp := a.ask("POST /auth HTTP/1.0\r\n" + good + "Content-Length: 0\r\n\r\n"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s", resp.Status)
	}
	if resp := a.ask("GET /auth HTTP/1.0\r\n" + good + "X-Big: " + strings.Repeat("x", 24<<10) + "\r\n\r\n"); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 24 KiB header: %s", resp.Status)
	}
	if p := a.srv.Penalties(); len(p) != 0 {
		t.Errorf("bad requests penalized: %+v", p)
	}
	if strings.Contains(a.log.String(), bobPass) || !strings.Contains(a.log.String(), `msg="auth_http: request refused"`) {
		t.Errorf("log:\n%s", a.log)
	}
	if h := a.login(login{user: "bob", pass: bobPass}); h.Get("Auth-Status") != "OK" {
		t.Errorf("a good request after the bad ones: %v", h)
	}
}

// TestAuthHTTPKey: with an auth-http-key, a request without it, or with
// another, is refused (403) before any password is checked or penalty
// counted; with it, the login is answered. The key file must be 0600 and
// hold a usable key.
func TestAuthHTTPKey(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	write := func(content string, mode os.FileMode) {
		if err := os.WriteFile(keyFile, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(keyFile, mode)
	}
	write("0123456789abcdef0123456789abcdef\n# rotated 2026-11\n", 0o600)
	key, err := ReadAuthHTTPKey(keyFile)
	if err != nil || string(key) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("ReadAuthHTTPKey = %q, %v", key, err)
	}
	for content, want := range map[string]string{
		"short\n":                           "at least 16",
		"with \"quote\" 0123456789abcdef\n": "without quotes",
		"":                                  "at least 16",
	} {
		write(content, 0o600)
		if _, err := ReadAuthHTTPKey(keyFile); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", content, err, want)
		}
	}
	write("0123456789abcdef0123456789abcdef\n", 0o640)
	if _, err := ReadAuthHTTPKey(keyFile); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("mode 0640: %v", err)
	}

	a := newProxyEnv(t, proxyOpts{key: key})
	alice := login{user: "alice", pass: alicePass}
	for _, header := range []string{"", AuthHTTPKeyHeader + ": 0123456789abcdef0123456789abcdeX\r\n"} {
		resp := a.ask("GET /auth HTTP/1.0\r\n" + alice.header() + header + "\r\n")
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Auth-Status") == "OK" || resp.Header.Get("Auth-Wait") != "" {
			t.Errorf("key %q: HTTP %s, %v", header, resp.Status, resp.Header)
		}
	}
	resp := a.ask("GET /auth HTTP/1.0\r\n" + alice.header() + AuthHTTPKeyHeader + ": " + string(key) + "\r\n\r\n")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Auth-Status") != "OK" {
		t.Errorf("with the key: HTTP %s, %v", resp.Status, resp.Header)
	}
}
