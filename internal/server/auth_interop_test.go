package server

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/testutil"
)

// accounts for the login-method tests: one {PLAIN} (APOP, CRAM-MD5 and
// SCRAM from it), one {SCRAM-SHA-256}, one bcrypt.
var (
	plainUser  = account{"pat", "plain secret", "PLAIN"}
	scramUser  = account{"sam", "scram secret", "SCRAM-SHA-256"}
	bcryptUser = account{"bea", "bcrypt secret", ""}
)

func authEnv(t *testing.T) *env {
	e := newEnv(t, []account{plainUser, scramUser, bcryptUser}, func(c *config.Config) { c.APOP = true })
	for _, a := range []account{plainUser, scramUser, bcryptUser} {
		e.deliver(a.name, "Subject: for "+a.name+"\n\nhello\n")
	}
	return e
}

func TestCurlSASL(t *testing.T) {
	t.Parallel()
	curl := need(t, "curl")
	e := authEnv(t)
	for _, tc := range []struct {
		mech string
		a    account
	}{
		{"PLAIN", bcryptUser}, {"LOGIN", scramUser}, {"CRAM-MD5", plainUser}, {"PLAIN", plainUser},
	} {
		u := fmt.Sprintf("pop3://%s:%s@%s/1", tc.a.name, url.PathEscape(tc.a.pass), e.addr)
		out, err := exec.Command(curl, "-sS", "--max-time", "20", "--login-options", "AUTH="+tc.mech, u).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Subject: for "+tc.a.name) {
			t.Errorf("curl AUTH=%s as %s: %v\n%s", tc.mech, tc.a.name, err, out)
		}
		// And a wrong password fails.
		bad := fmt.Sprintf("pop3://%s:wrong@%s/1", tc.a.name, e.addr)
		if out, err := exec.Command(curl, "-sS", "--max-time", "20", "--login-options", "AUTH="+tc.mech, bad).CombinedOutput(); err == nil {
			t.Errorf("curl AUTH=%s with a wrong password succeeded: %s", tc.mech, out)
		}
	}
}

func TestMpopSCRAM(t *testing.T) {
	mpop := need(t, "mpop")
	e := authEnv(t)
	host, port, _ := strings.Cut(e.addr, ":")
	for _, a := range []account{scramUser, plainUser} {
		dir := t.TempDir()
		pwfile := filepath.Join(dir, "pw")
		os.WriteFile(pwfile, []byte(a.pass), 0o600)
		rc := filepath.Join(dir, "mpoprc")
		delivered := filepath.Join(dir, "out")
		os.MkdirAll(filepath.Join(delivered, "new"), 0o700)
		os.MkdirAll(filepath.Join(delivered, "cur"), 0o700)
		os.MkdirAll(filepath.Join(delivered, "tmp"), 0o700)
		os.WriteFile(rc, []byte(fmt.Sprintf(`account default
host %s
port %s
tls off
auth scram-sha-256
user %s
passwordeval cat %s
delivery maildir %s
keep on
uidls_file %s
`, host, port, a.name, pwfile, delivered, filepath.Join(dir, "uidls"))), 0o600)
		out, err := exec.Command(mpop, "-C", rc, "-q").CombinedOutput()
		if err != nil {
			t.Fatalf("mpop --auth=scram-sha-256 as %s: %v\n%s", a.name, err, out)
		}
		got, _ := os.ReadDir(filepath.Join(delivered, "new"))
		if len(got) != 1 {
			t.Fatalf("mpop as %s fetched %d messages", a.name, len(got))
		}
	}
}

const poplibAuthScript = `
import poplib, ssl, sys
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
p = poplib.POP3(host, port, timeout=20)
if mode == "apop":
    p.apop(sys.argv[4], sys.argv[5])
elif mode == "apop-wrong":
    try:
        p.apop(sys.argv[4], "wrong")
        sys.exit("APOP with a wrong secret succeeded")
    except poplib.error_proto as e:
        print(e)
        sys.exit(0)
elif mode == "stls":
    ctx = ssl.create_default_context(cafile=sys.argv[6])
    p.stls(ctx)
    p.user(sys.argv[4])
    p.pass_(sys.argv[5])
print(p.stat()[0])
p.quit()
`

func TestPoplibAPOPAndSTLS(t *testing.T) {
	py := need(t, "python3")
	dir := t.TempDir()
	cert, key, _ := testCert(t, dir, "popd test")
	e := newEnv(t, []account{plainUser, bcryptUser}, func(c *config.Config) {
		c.APOP = true
		c.TLSCert, c.TLSKey = cert, key
	})
	e.deliver(plainUser.name, "Subject: x\n\ny\n")
	e.deliver(bcryptUser.name, "Subject: x\n\ny\n")
	script := filepath.Join(dir, "auth.py")
	os.WriteFile(script, []byte(poplibAuthScript), 0o600)
	host, port, _ := strings.Cut(e.addr, ":")
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(py, append([]string{script, host, port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("poplib %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run("apop", plainUser.name, plainUser.pass); got != "1" {
		t.Errorf("poplib apop: %q", got)
	}
	if got := run("apop-wrong", plainUser.name); !strings.Contains(got, "[AUTH]") {
		t.Errorf("poplib apop with a wrong secret: %q", got)
	}
	// bcrypt users cannot use APOP (no plaintext secret): refused alike.
	if got := run("apop-wrong", bcryptUser.name); !strings.Contains(got, "[AUTH]") {
		t.Errorf("poplib apop for a bcrypt user: %q", got)
	}
	if got := run("stls", bcryptUser.name, bcryptUser.pass, cert); got != "1" {
		t.Errorf("poplib stls: %q", got)
	}
}

func TestAuthTranscript(t *testing.T) {
	e := authEnv(t)
	c := e.dial()
	// AUTH alone lists the mechanisms (Outlook and Thunderbird probe so).
	c.OK("AUTH")
	if got := c.Multi(); got != "PLAIN\r\nLOGIN\r\nCRAM-MD5\r\nSCRAM-SHA-256\r\n" {
		t.Fatalf("AUTH list: %q", got)
	}
	if !containsLine(capaOf(c), "SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256") {
		t.Fatal("CAPA lacks SASL in AUTHORIZATION")
	}
	c.Err("AUTH NTLM", "-ERR unsupported authentication mechanism")
	// Cancel with "*": a failed login, so the rest goes on a new
	// connection, within max-auth-failures.
	c.Send("AUTH PLAIN")
	c.Expect("+ ")
	c.Err("*", "-ERR authentication cancelled")
	c = e.dial()
	// Bad base64.
	c.Err("AUTH PLAIN !!!notbase64", "-ERR invalid base64 in authentication exchange")
	// "=" is an empty initial response: malformed for PLAIN, a failure.
	c.Err("AUTH PLAIN =", "-ERR [AUTH] invalid user name or password")
	// LOGIN step by step, wrong password.
	c.Send("AUTH LOGIN")
	if got := c.Expect("+ "); got != "+ VXNlcm5hbWU6" { // "Username:"
		t.Fatalf("LOGIN challenge %q", got)
	}
	events := e.sessionEvents()
	c.Send(b64(plainUser.name))
	c.Expect("+ UGFzc3dvcmQ6") // "Password:"
	c.Err(b64("nope"), "-ERR [AUTH] invalid user name or password")
	// The failure names the user the client tried, for logs and popadm.
	if ev := testutil.NextEvent(t, events, "login.failed", 2*time.Second); ev.User != plainUser.name {
		t.Fatalf("failed AUTH LOGIN event: %+v", ev)
	}
	// After failures the session is as before: PLAIN with an initial
	// response logs in.
	c.OK("AUTH PLAIN " + b64("\x00"+plainUser.name+"\x00"+plainUser.pass))
	if !containsLine(capaOf(c), "SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256") {
		t.Fatal("CAPA lacks SASL in TRANSACTION")
	}
	c.Err("AUTH PLAIN", "-ERR command not valid in this state")

	// Without -apop: no APOP banner, no CRAM-MD5.
	e2 := newEnv(t, []account{plainUser}, nil)
	c2 := e2.dial()
	c2.OK("AUTH")
	if got := c2.Multi(); strings.Contains(got, "CRAM-MD5") {
		t.Fatalf("CRAM-MD5 offered without -apop: %q", got)
	}
	c2.Err("APOP pat 0123456789abcdef0123456789abcdef", "-ERR APOP is not available")
	// With -apop but no user that can use it: no banner either.
	e3 := newEnv(t, []account{bcryptUser}, func(c *config.Config) { c.APOP = true })
	greeting := e3.dialGreeting()
	if strings.Contains(greeting, "<") {
		t.Fatalf("APOP banner with no user able to use it: %q", greeting)
	}
	if g := e.dialGreeting(); !strings.Contains(g, "<") || !strings.HasSuffix(g, ">") {
		t.Fatalf("no APOP timestamp in %q", g)
	}
	if e.dialGreeting() == e.dialGreeting() {
		t.Fatal("APOP timestamps repeat")
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
