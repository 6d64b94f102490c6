package main

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"popd/internal/pop3"
	"popd/internal/server"
	"popd/internal/testutil"
	"popd/internal/testutil/site"
)

// The fail2ban files popd ships (contrib/fail2ban), from this directory.
var (
	f2bFilter = filepath.Join("..", "..", "contrib", "fail2ban", "filter.d", "popd.conf")
	f2bJail   = filepath.Join("..", "..", "contrib", "fail2ban", "jail.d", "popd.conf")
)

// needFail2ban is the path of one of Debian's fail2ban tools; the test is
// skipped where fail2ban is not installed (.ci/run installs it).
func needFail2ban(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not found: fail2ban is not installed (apt-get install fail2ban)", tool)
	}
	return p
}

// runFail2ban runs a fail2ban tool and returns its standard output; it
// fails the test if the tool fails.
func runFail2ban(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := runFail2banErr(tool, args...)
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", filepath.Base(tool), args, err, out)
	}
	return out
}

func runFail2banErr(tool string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(tool, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// fail2ban is Python: its output in UTF-8 whatever the locale.
	cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8")
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// TestFail2banFilter drives real sessions against real popd processes —
// over IPv4 and IPv6, directly and through PROXY headers, and through
// nginx's auth_http endpoint — with good and bad passwords, refusals and
// hostile user names, then runs Debian's fail2ban-regex with the shipped
// filter over popd's log, as a file and as fail2ban's systemd backend and
// rsyslog would show it. fail2ban must find every failed login at the
// right address, and nothing else.
func TestFail2banFilter(t *testing.T) {
	regexTool := needFail2ban(t, "fail2ban-regex")
	filter, err := filepath.Abs(f2bFilter)
	if err != nil {
		t.Fatal(err)
	}
	r := startFail2banSite(t)
	r.drive()
	lines := r.collect()

	for _, tc := range []struct {
		form string
		line func(l f2bLine) string
		args []string
		// file: every line's date is popd's time=, matched by the
		// filter's own datepattern and equal to fail2ban's time.
		file bool
	}{
		{"file", func(l f2bLine) string { return l.text }, nil, true},
		// fail2ban's systemd backend (filtersystemd.py,
		// formatJournalEntry): "_HOSTNAME SYSLOG_IDENTIFIER[_PID]:
		// MESSAGE", the date given apart. popd leaves time= out under
		// journald.
		{"journal", func(l f2bLine) string {
			return fmt.Sprintf("mailhost popd[%d]: %s", l.pid, l.message)
		}, []string{"--datepattern", "{NONE}"}, false},
		// journalctl -o cat.
		{"journal message", func(l f2bLine) string { return l.message }, []string{"--datepattern", "{NONE}"}, false},
		// rsyslog's file from the journal (Debian's format).
		{"syslog", func(l f2bLine) string {
			return fmt.Sprintf("%s mailhost popd[%d]: %s", l.time.Format("2006-01-02T15:04:05.000000-07:00"), l.pid, l.message)
		}, nil, false},
	} {
		t.Run(strings.ReplaceAll(tc.form, " ", "_"), func(t *testing.T) {
			t.Parallel()
			var log strings.Builder
			shown := map[string][]int{} // indexes in lines, by the line fail2ban reads
			for i, l := range lines {
				s := tc.line(l)
				log.WriteString(s + "\n")
				shown[s] = append(shown[s], i)
			}
			file := filepath.Join(t.TempDir(), "popd.log")
			f2bWrite(t, file, log.String())
			args := append([]string{"--raw", "--encoding", "UTF-8"}, tc.args...)
			// Every match: the address fail2ban would ban, its time, the line.
			out := runFail2ban(t, regexTool, append(args, "--out", "<ip>|<time>|<msg>", file, filter)...)
			var got []string
			matched := map[int]bool{}
			for _, row := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if row == "" {
					continue
				}
				f := strings.SplitN(row, "|", 3)
				if len(f) != 3 {
					t.Fatalf("fail2ban-regex printed %q", row)
				}
				ip, when, text := f[0], f[1], f[2]
				got = append(got, ip)
				if strings.Contains(ip, "1.2.3.4") {
					t.Errorf("a client-chosen address was matched: %s", text)
				}
				i := slices.IndexFunc(shown[text], func(i int) bool { return !matched[i] })
				if i < 0 {
					t.Errorf("matched %s in a line that is not in the log (or not that often): %q", ip, text)
					continue
				}
				i = shown[text][i]
				matched[i] = true
				l := lines[i]
				if !l.failed {
					t.Errorf("matched %s in a line that is no failed login: %s", ip, l.text)
				} else if want := f2bRemote(l.text); ip != want {
					t.Errorf("matched %s, want %s (remote=), in %s", ip, want, l.text)
				}
				if tc.file {
					sec, err := strconv.ParseFloat(when, 64)
					if err != nil || int64(sec) != l.time.Unix() {
						t.Errorf("fail2ban's time %s for %s, want %d", when, l.text, l.time.Unix())
					}
				}
			}
			// Each failed login once.
			for i, l := range lines {
				if l.failed && !matched[i] {
					t.Errorf("failed login not matched: %s", tc.line(l))
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(r.want))
			if !slices.Equal(got, want) {
				t.Errorf("fail2ban found failures from\n%q\nwant\n%q", got, want)
			}

			// The summary, and (for the file) that every line's date
			// came from time=.
			sum := runFail2ban(t, regexTool, append(args, "--print-no-missed", file, filter)...)
			m := regexp.MustCompile(`(?m)^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed`).FindStringSubmatch(sum)
			if m == nil {
				t.Fatalf("no summary in fail2ban-regex's output:\n%s", sum)
			}
			t.Logf("%s: %s", tc.form, m[0])
			if m[1] != strconv.Itoa(len(lines)) || m[2] != "0" || m[3] != strconv.Itoa(len(r.want)) ||
				m[4] != strconv.Itoa(len(lines)-len(r.want)) {
				t.Errorf("%s, want %d lines, 0 ignored, %d matched, %d missed", m[0], len(lines), len(r.want), len(lines)-len(r.want))
			}
			if tc.file {
				hits := regexp.MustCompile(`(?m)^\|\s+\[(\d+)\] \{\^LN-BEG\}time=`).FindStringSubmatch(sum)
				if hits == nil || hits[1] != strconv.Itoa(len(lines)) {
					t.Errorf("the time= date pattern did not date all %d lines:\n%s", len(lines), sum)
				}
			}
		})
	}

	// The hostile names are no idle threat: a filter that looks for the
	// last remote= on the line bans 1.2.3.4.
	t.Run("naive_filter", func(t *testing.T) {
		t.Parallel()
		var log strings.Builder
		for _, l := range lines {
			log.WriteString(l.text + "\n")
		}
		file := filepath.Join(t.TempDir(), "popd.log")
		f2bWrite(t, file, log.String())
		out := runFail2ban(t, regexTool, "--raw", "--encoding", "UTF-8", "--out", "ip", file, `msg="auth failed" .*remote=<ADDR>`)
		if !slices.Contains(strings.Fields(out), "1.2.3.4") {
			t.Errorf("an unanchored filter did not ban 1.2.3.4 either; the hostile names test nothing:\n%s", out)
		}
	})
}

// f2bLine is one line of popd's log, and what the test knows of it.
type f2bLine struct {
	text    string    // as popd wrote it
	message string    // without time=, as popd writes it to the journal
	time    time.Time // of time=
	pid     int       // the popd that wrote it
	failed  bool      // msg="auth failed"
}

// f2bRemote is a failed login's address as popd logged it, without port
// and brackets.
func f2bRemote(line string) string {
	m := regexp.MustCompile(`^time=\S+ level=\w+ msg="auth failed" (?:session=[0-9a-z]{4}-\d+ )?remote=(\S+) `).FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	if ap, err := netip.ParseAddrPort(m[1]); err == nil {
		return ap.Addr().String()
	}
	return m[1]
}

// f2bSite is the popd processes of TestFail2banFilter over one users file
// and maildir root, and the failed logins the test made.
type f2bSite struct {
	t *testing.T
	// direct4 and direct6 serve 127.0.0.1 and [::1] (empty: no IPv6
	// loopback here); proxied takes PROXY headers from 127.0.0.1, and
	// authHTTP answers nginx's auth_http.
	direct4, direct6, proxied, authHTTP string
	key                                 string // auth_http's key
	procs                               []*f2bProc
	// want is the address of every failed login the test made, as
	// fail2ban must find it.
	want []string
	// Lines popd must have logged that fail2ban must not match: for each
	// a pattern and how many at least.
	others map[string]int
}

type f2bProc struct {
	log *logBuffer
	pid int
}

const (
	f2bUser = "alice"
	f2bPass = "alice's password"
)

func startFail2banSite(t *testing.T) *f2bSite {
	bin := buildPopd(t)
	st := site.New(t, []site.Account{{Name: f2bUser, Pass: f2bPass, Scheme: "PLAIN"}})
	st.Deliver(t, f2bUser, "Subject: hello\r\n\r\nhello\r\n")
	r := &f2bSite{t: t, others: map[string]int{}}
	// start runs a popd and returns the address in its first log line
	// that re matches, and its control socket.
	start := func(re string, args ...string) (addr, control string) {
		control = filepath.Join(st.Dir, fmt.Sprintf("control%d.sock", len(r.procs)))
		args = append(siteArgs(st, control),
			append([]string{"-apop", "-max-connections-per-ip", "1000",
				// Failures are slowed down, and the penalty logged,
				// but briefly.
				"-auth-failure-delay", "5ms", "-auth-penalty-max", "20ms"}, args...)...)
		addr, cmd, log := startPopdAwait(t, bin, regexp.MustCompile(re), args...)
		r.procs = append(r.procs, &f2bProc{log: log, pid: cmd.Process.Pid})
		return addr, control
	}
	const listening = `msg=listening addr=(\S+)`
	r.direct4, _ = start(listening)
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Logf("no IPv6 loopback here (%v): IPv6 is tested through PROXY headers only", err)
	} else {
		ln.Close()
		// LOGIN-DELAY: a second login within the hour is refused.
		r.direct6, _ = start(listening, "-listen", "[::1]:0", "-login-delay", "1h")
	}
	var control string
	r.proxied, control = start(listening, "-proxy-from", "127.0.0.1")
	// auth_http, whose fleet is the proxied popd.
	fleet := filepath.Join(st.Dir, "fleet.toml")
	f2bWrite(t, fleet, fmt.Sprintf("[[node]]\nname = \"pop1\"\npop3 = %q\ncontrol = %q\nproxy = true\n", r.proxied, control))
	r.key = "f2b0123456789abcdef0123456789abc"
	keyFile := filepath.Join(st.Dir, "auth-http.key")
	f2bWrite(t, keyFile, r.key+"\n")
	r.authHTTP, _ = start(`msg="auth_http listening" addr=(\S+)`, "-listen", "none", "-auth-http", "127.0.0.1:0",
		"-fleet", fleet, "-auth-http-key", keyFile)
	return r
}

// f2bWrite writes a file for the test.
func f2bWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// f2bOrigin is where a client connects from, as popd sees it: the
// listener, the PROXY header sent first (none: nil) and the address popd
// is to log.
type f2bOrigin struct {
	addr   string
	header []byte
	ip     string
}

func (o f2bOrigin) dial(t *testing.T) *testutil.POP3 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", o.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if o.header != nil {
		if _, err := conn.Write(o.header); err != nil {
			t.Fatal(err)
		}
	}
	c := testutil.NewPOP3(t, conn)
	c.Greeting = c.Expect("+OK")
	return c
}

// auth logs in with method (USER, APOP, AUTH PLAIN) and returns the last
// answer.
func f2bAuth(c *testutil.POP3, method, user, pass string) string {
	switch method {
	case "USER":
		c.Send("USER " + user)
		if l := c.Line(); !strings.HasPrefix(l, "+OK") {
			return l
		}
		c.Send("PASS " + pass)
	case "APOP":
		i := strings.LastIndex(c.Greeting, " <")
		if i < 0 {
			c.T.Fatalf("no APOP timestamp in %q", c.Greeting)
		}
		sum := md5.Sum([]byte(c.Greeting[i+1:] + pass))
		c.Send("APOP " + user + " " + hex.EncodeToString(sum[:]))
	case "AUTH PLAIN":
		resp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
		if len("AUTH PLAIN "+resp+"\r\n") <= pop3.MaxLine {
			c.Send("AUTH PLAIN " + resp) // the initial response
			break
		}
		c.Send("AUTH PLAIN")
		if l := c.Line(); l != "+ " {
			return l
		}
		c.Send(resp)
	default:
		c.T.Fatalf("method %q", method)
	}
	return c.Line()
}

// ok logs in and returns the session, in TRANSACTION.
func (r *f2bSite) ok(o f2bOrigin, method string) *testutil.POP3 {
	r.t.Helper()
	c := o.dial(r.t)
	if l := f2bAuth(c, method, f2bUser, f2bPass); !strings.HasPrefix(l, "+OK") {
		r.t.Fatalf("%s login from %s: %q", method, o.ip, l)
	}
	r.others[`msg=login `]++
	return c
}

// okQuit logs in and out.
func (r *f2bSite) okQuit(o f2bOrigin, method string) {
	r.t.Helper()
	c := r.ok(o, method)
	c.OK("QUIT")
	c.Conn.Close()
}

// fail makes a failed login: user, or the right user with a wrong
// password.
func (r *f2bSite) fail(o f2bOrigin, method, user string) {
	r.t.Helper()
	c := o.dial(r.t)
	defer c.Conn.Close()
	if l := f2bAuth(c, method, user, "wrong "+f2bPass); !strings.HasPrefix(l, "-ERR [AUTH] ") {
		r.t.Fatalf("%s %q from %s: %q, want -ERR [AUTH]", method, user, o.ip, l)
	}
	r.want = append(r.want, o.ip)
}

// hostile tries user, a name a client chose to fool a log reader: it
// counts as a failed login if popd takes it to the password check, and
// the test logs what became of it.
func (r *f2bSite) hostile(o f2bOrigin, method, user string) {
	r.t.Helper()
	c := o.dial(r.t)
	defer c.Conn.Close()
	l := f2bAuth(c, method, user, "wrong "+f2bPass)
	switch {
	case strings.HasPrefix(l, "-ERR [AUTH] "):
		r.want = append(r.want, o.ip)
	case strings.HasPrefix(l, "-ERR"):
		r.t.Logf("%s %q from %s: %q (no login attempt)", method, user, o.ip, l)
	default:
		r.t.Fatalf("%s %q from %s: %q", method, user, o.ip, l)
	}
}

// abort starts AUTH PLAIN and cancels it: a failed login too.
func (r *f2bSite) abort(o f2bOrigin) {
	r.t.Helper()
	c := o.dial(r.t)
	defer c.Conn.Close()
	c.Send("AUTH PLAIN")
	c.Expect("+")
	c.Send("*")
	c.Expect("-ERR ")
	r.want = append(r.want, o.ip)
}

// refused logs in with the right password and expects -ERR [code].
func (r *f2bSite) refused(o f2bOrigin, code string) {
	r.t.Helper()
	c := o.dial(r.t)
	defer c.Conn.Close()
	if l := f2bAuth(c, "USER", f2bUser, f2bPass); !strings.HasPrefix(l, "-ERR ["+code+"] ") {
		r.t.Fatalf("login from %s: %q, want -ERR [%s]", o.ip, l, code)
	}
	r.others[`msg="login refused" .*reason=`+code]++
}

// authHTTPLogin asks as nginx would, and returns Auth-Status.
func (r *f2bSite) authHTTPLogin(client, user, pass string) string {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+r.authHTTP+"/auth", nil)
	if err != nil {
		r.t.Fatal(err)
	}
	for k, v := range map[string]string{
		"Auth-Method": "plain", "Auth-User": url.PathEscape(user), "Auth-Pass": url.PathEscape(pass),
		"Auth-Protocol": "pop3", "Auth-Login-Attempt": "1", "Client-IP": client,
		server.AuthHTTPKeyHeader: r.key,
	} {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Auth-Status")
}

func (r *f2bSite) authHTTPFail(client, user string) {
	r.t.Helper()
	if s := r.authHTTPLogin(client, user, "wrong "+f2bPass); !strings.HasPrefix(s, "[AUTH] ") {
		r.t.Fatalf("auth_http for %q from %s: Auth-Status %q, want [AUTH]", user, client, s)
	}
	r.want = append(r.want, client)
}

// Names a client may choose that hold an address, or what would pass for
// a log line of its own, for popd to log.
var f2bHostileNames = []string{
	"x remote=1.2.3.4",
	"remote=1.2.3.4:1",
	`a" remote=1.2.3.4 b="`,
	`x\" remote=1.2.3.4:1`,
	"a\rlevel=INFO msg=\"auth failed\" remote=1.2.3.4:1",
	"a\x00 remote=1.2.3.4:1",
	"a\x1b[2K\rlevel=INFO msg=\"auth failed\" remote=1.2.3.4:1",
	"a\u2028level=INFO msg=\"auth failed\" remote=1.2.3.4:1",
	"a\u0085level=INFO msg=\"auth failed\" remote=1.2.3.4:1",
	`time=2020-01-01T00:00:00.000Z level=INFO msg="auth failed" remote=1.2.3.4:1`,
	strings.Repeat("é", 120) + " remote=1.2.3.4:1", // cut at 255 bytes
}

// drive makes the logins.
func (r *f2bSite) drive() {
	t := r.t
	d4 := f2bOrigin{addr: r.direct4, ip: "127.0.0.1"}
	via := func(header []byte, ip string) f2bOrigin { return f2bOrigin{addr: r.proxied, header: header, ip: ip} }

	// Over IPv4: good logins with each method; bad ones; one for a user
	// that does not exist; an AUTH the client gives up.
	for _, m := range []string{"USER", "APOP", "AUTH PLAIN"} {
		r.okQuit(d4, m)
		r.fail(d4, m, f2bUser)
	}
	r.fail(d4, "USER", "nobody")
	r.fail(d4, "AUTH PLAIN", "nobody")
	r.abort(d4)
	// The maildrop in use: refused for the server's reason, not a failure.
	c := r.ok(d4, "USER")
	r.refused(d4, "IN-USE")
	c.OK("QUIT")
	c.Conn.Close()
	// Hostile names: over USER, AUTH PLAIN (whose base64 carries any
	// byte, a newline too) and APOP (a name without spaces).
	for _, name := range f2bHostileNames {
		r.hostile(d4, "USER", name)
		r.hostile(d4, "AUTH PLAIN", name)
	}
	for _, name := range []string{
		"a\nlevel=INFO msg=\"auth failed\" remote=1.2.3.4:1",
		"a\r\nlevel=INFO msg=\"auth failed\" remote=1.2.3.4:1 method=USER user=x reason=AUTH\n",
		"\ntime=2026-01-01T00:00:00.000Z level=INFO msg=\"auth failed\" session=1 remote=1.2.3.4:1 method=USER user=x reason=AUTH",
	} {
		r.hostile(d4, "AUTH PLAIN", name)
	}
	r.hostile(d4, "APOP", "remote=1.2.3.4:1")
	// A name with a newline over USER: the newline ends the command, the
	// rest is a command of its own.
	func() {
		c := d4.dial(t)
		defer c.Conn.Close()
		c.Send("USER a\r\nlevel=INFO msg=\"auth failed\" remote=1.2.3.4:1")
		c.Expect("+OK")
		c.Expect("-ERR")
		c.Send("PASS wrong")
		if l := c.Line(); strings.HasPrefix(l, "-ERR [AUTH] ") {
			r.want = append(r.want, d4.ip)
		} else {
			t.Logf("PASS after a USER line cut by a newline: %q", l)
		}
	}()
	// Failures in a row from 127.0.0.1: popd's penalty, logged.
	r.others[`msg="login penalty" source=127\.0\.0\.1/`] = 1

	// Over IPv6, with LOGIN-DELAY.
	if r.direct6 != "" {
		d6 := f2bOrigin{addr: r.direct6, ip: "::1"}
		r.okQuit(d6, "USER")
		r.refused(d6, "LOGIN-DELAY")
		r.fail(d6, "USER", f2bUser)
		r.fail(d6, "AUTH PLAIN", f2bUser)
		r.fail(d6, "APOP", f2bUser)
		r.abort(d6)
		r.hostile(d6, "USER", "x remote=1.2.3.4")
	}

	// Through a load balancer: PROXY v1 and v2, IPv4 and IPv6 clients.
	for _, o := range []f2bOrigin{
		via(f2bProxyV1("203.0.113.7", 40001), "203.0.113.7"),
		via(f2bProxyV2("2001:db8::7", 40002), "2001:db8::7"),
		via(f2bProxyV1("2001:db8:1::8", 40003), "2001:db8:1::8"),
		via(f2bProxyV2("198.51.100.7", 40004), "198.51.100.7"),
	} {
		r.okQuit(o, "USER")
		r.fail(o, "USER", f2bUser)
		r.fail(o, "AUTH PLAIN", f2bUser)
		r.hostile(o, "USER", "x remote=1.2.3.4")
	}
	r.abort(via(f2bProxyV2("203.0.113.7", 40005), "203.0.113.7"))

	// nginx's auth_http: the client's address from Client-IP, no port.
	r.authHTTPFail("192.0.2.55", f2bUser)
	r.authHTTPFail("2001:db8::55", "nobody")
	r.authHTTPFail("192.0.2.56", "a\nlevel=INFO msg=\"auth failed\" remote=1.2.3.4 method=plain")
	r.authHTTPFail("192.0.2.56", "x remote=1.2.3.4")
	if s := r.authHTTPLogin("192.0.2.57", f2bUser, f2bPass); s == "" || strings.HasPrefix(s, "[AUTH]") {
		t.Fatalf("auth_http, right password: Auth-Status %q", s)
	}
}

// collect waits for popd's log of it all and returns its lines.
func (r *f2bSite) collect() []f2bLine {
	t := r.t
	read := func() []f2bLine {
		var out []f2bLine
		for _, p := range r.procs {
			for _, s := range strings.Split(strings.TrimSuffix(p.log.String(), "\n"), "\n") {
				l := f2bLine{text: s, pid: p.pid}
				if ts, rest, ok := strings.Cut(s, " "); ok && strings.HasPrefix(ts, "time=") {
					l.time, _ = time.Parse(time.RFC3339Nano, strings.TrimPrefix(ts, "time="))
					l.message = rest
					l.failed = strings.HasPrefix(rest, `level=INFO msg="auth failed" `)
				}
				out = append(out, l)
			}
		}
		return out
	}
	count := func(lines []f2bLine, pattern string) int {
		re := regexp.MustCompile(pattern)
		n := 0
		for _, l := range lines {
			if re.MatchString(l.text) {
				n++
			}
		}
		return n
	}
	// What is missing from the log; it comes through pipes, and may
	// trail the sessions.
	missing := func(lines []f2bLine) string {
		if n := count(lines, `^time=\S+ level=INFO msg="auth failed" `); n < len(r.want) {
			return fmt.Sprintf("%d failed logins of %d", n, len(r.want))
		}
		for p, n := range r.others {
			if count(lines, p) < n {
				return fmt.Sprintf("%d lines matching %s", n, p)
			}
		}
		return ""
	}
	lines := read()
	for deadline := time.Now().Add(10 * time.Second); missing(lines) != ""; lines = read() {
		if time.Now().After(deadline) {
			t.Fatalf("popd did not log %s", missing(lines))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := count(lines, `^time=\S+ level=INFO msg="auth failed" `); n != len(r.want) {
		t.Fatalf("popd logged %d failed logins, want %d", n, len(r.want))
	}
	for _, l := range lines {
		if l.message == "" || l.time.IsZero() {
			t.Fatalf("a log line without time=: %q", l.text)
		}
	}
	// What the client chose reached the log, quoted.
	var hostile []string
	for _, l := range lines {
		if l.failed && strings.Contains(l.text, "1.2.3.4") {
			hostile = append(hostile, l.text)
		}
	}
	if len(hostile) < 10 {
		t.Fatalf("only %d failed logins name 1.2.3.4 in the log", len(hostile))
	}
	t.Logf("failed logins with hostile names:\n%s", strings.Join(hostile, "\n"))
	t.Logf("%d log lines, %d failed logins", len(lines), len(r.want))
	return lines
}

// f2bProxyV1 is a PROXY v1 header (haproxy's proxy-protocol.txt §2.1)
// for a client at src:port.
func f2bProxyV1(src string, port int) []byte {
	if netip.MustParseAddr(src).Is4() {
		return fmt.Appendf(nil, "PROXY TCP4 %s 192.0.2.1 %d 110\r\n", src, port)
	}
	return fmt.Appendf(nil, "PROXY TCP6 %s 2001:db8::1 %d 110\r\n", src, port)
}

// f2bProxyV2 is a PROXY v2 header (§2.2) for a client at src:port.
func f2bProxyV2(src string, port uint16) []byte {
	a := netip.MustParseAddr(src)
	h := []byte("\r\n\r\n\x00\r\nQUIT\n\x21")
	var addrs []byte
	if a.Is4() {
		h = append(h, 0x11) // TCP over IPv4
		s, d := a.As4(), netip.MustParseAddr("192.0.2.1").As4()
		addrs = append(s[:], d[:]...)
	} else {
		h = append(h, 0x21) // TCP over IPv6
		s, d := a.As16(), netip.MustParseAddr("2001:db8::1").As16()
		addrs = append(s[:], d[:]...)
	}
	addrs = binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(addrs, port), 110)
	h = binary.BigEndian.AppendUint16(h, uint16(len(addrs)))
	return append(h, addrs...)
}

// TestFail2banJail checks the shipped jail with Debian's fail2ban-client:
// the configuration it makes with Debian's /etc/fail2ban (the jail on, the
// systemd backend, popd's unit), and the file backend its comment
// documents.
func TestFail2banJail(t *testing.T) {
	client := needFail2ban(t, "fail2ban-client")
	regexTool := needFail2ban(t, "fail2ban-regex")
	conf := t.TempDir()
	// Debian's configuration without the machine's own jails and
	// overrides.
	err := filepath.WalkDir("/etc/fail2ban", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("/etc/fail2ban", path)
		switch {
		case d.IsDir():
			return os.MkdirAll(filepath.Join(conf, rel), 0o755)
		case strings.HasPrefix(rel, "jail.d/") || strings.HasSuffix(rel, ".local"):
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(conf, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	jail, err := os.ReadFile(f2bJail)
	if err != nil {
		t.Fatal(err)
	}
	filter, err := os.ReadFile(f2bFilter)
	if err != nil {
		t.Fatal(err)
	}
	f2bWrite(t, filepath.Join(conf, "jail.d", "popd.conf"), string(jail))
	f2bWrite(t, filepath.Join(conf, "filter.d", "popd.conf"), string(filter))

	test := func() (string, error) { return runFail2banErr(client, "-c", conf, "--test") }
	dump := func() string { return runFail2ban(t, client, "-c", conf, "-d") }
	if out, err := test(); err != nil || !strings.Contains(out, "OK: configuration test is successful") {
		t.Fatalf("fail2ban-client --test: %v\n%s", err, out)
	}
	d := dump()
	for _, want := range []string{
		"['add', 'popd', 'systemd']",
		"['set', 'popd', 'addjournalmatch', '_SYSTEMD_UNIT=popd.service']",
		"['set', 'popd', 'addfailregex', '^\\\\s*(?:\\\\S+ \\\\S+\\\\[\\\\d+\\\\]: )?level=[A-Z]+ msg=\"auth failed\" ",
		"['set', 'popd', 'logencoding', 'utf-8']",
		"['set', 'popd', 'maxretry', 5]",
		"['set', 'popd', 'findtime', '10m']",
		"['set', 'popd', 'bantime', '1h']",
		"['port', 'pop3,pop3s']",
		"['start', 'popd']",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("fail2ban-client -d lacks %s:\n%s", want, d)
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^\['set', 'popd', 'addjournalmatch', (.*)\]$`).FindAllStringSubmatch(d, -1) {
		if m[1] != "'_SYSTEMD_UNIT=popd.service'" {
			t.Errorf("journal match %s", m[1])
		}
	}
	if jails := regexp.MustCompile(`(?m)^\['add', '([^']+)'`).FindAllStringSubmatch(d, -1); len(jails) != 1 {
		t.Errorf("jails %q, want popd alone", jails)
	}
	// The systemd backend opens the journal with the filter's match
	// (python3-systemd; there may be no popd lines to read).
	if out := runFail2ban(t, regexTool, "-c", conf, "systemd-journal", "popd"); !regexp.MustCompile(`(?m)^Use +journal match : _SYSTEMD_UNIT=popd\.service$`).MatchString(out) {
		t.Errorf("fail2ban-regex systemd-journal popd: no journal match for popd.service:\n%s", out)
	}

	// The file backend, as the jail's comment has it in popd.local.
	var local []string
	on := false
	for _, l := range strings.Split(string(jail), "\n") {
		switch {
		case strings.HasSuffix(l, "/etc/fail2ban/jail.d/popd.local"):
			on = true
		case on && strings.HasPrefix(l, "#     "):
			local = append(local, strings.TrimPrefix(l, "#     "))
		case on:
			on = false
		}
	}
	if len(local) == 0 || local[0] != "[popd]" {
		t.Fatalf("no popd.local in the jail's comment: %q", local)
	}
	logFile := filepath.Join(t.TempDir(), "popd.log")
	for i, l := range local {
		if k, _, ok := strings.Cut(l, " = "); ok && k == "logpath" {
			local[i] = "logpath = " + logFile
		}
	}
	f2bWrite(t, filepath.Join(conf, "jail.d", "popd.local"), strings.Join(local, "\n")+"\n")
	// As the comment says, not without the file.
	if out, err := test(); err == nil || !strings.Contains(out, "Have not found any log file for popd jail") {
		t.Errorf("fail2ban-client --test without %s: %v\n%s", logFile, err, out)
	}
	f2bWrite(t, logFile, "")
	if out, err := test(); err != nil {
		t.Fatalf("fail2ban-client --test with the file backend: %v\n%s", err, out)
	}
	d = dump()
	for _, want := range []string{
		"['add', 'popd', 'auto']",
		fmt.Sprintf("['set', 'popd', 'addlogpath', '%s', 'head']", logFile),
		"['set', 'popd', 'datepattern', '{^LN-BEG}time=%Y-%m-%dT%H:%M:%S(?:\\\\.%f)?%z\\n{^LN-BEG}']",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("fail2ban-client -d with popd.local lacks %s:\n%s", want, d)
		}
	}
}
