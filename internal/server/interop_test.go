package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"popd/internal/testutil"
)

// need finds a real client program. On CI (.ci/run installs them) a missing
// one is a failure, elsewhere the test is skipped.
func need(t *testing.T, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run should have installed it", prog)
		}
		t.Skipf("%s not installed", prog)
	}
	return p
}

func TestCurl(t *testing.T) {
	t.Parallel()
	curl := need(t, "curl")
	e := newEnv(t, []account{alice}, nil)
	for _, m := range tricky {
		e.deliver("alice", m.stored)
	}
	base := fmt.Sprintf("pop3://%s:%s@%s/", alice.name, url.PathEscape(alice.pass), e.addr)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "--max-time", "20"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// curl pop3://host/ is LIST.
	list := run(base)
	for i, m := range tricky {
		if !strings.Contains(list, fmt.Sprintf("%d %d\r\n", i+1, len(m.wire))) {
			t.Errorf("curl LIST lacks message %d size %d:\n%q", i+1, len(m.wire), list)
		}
	}
	for i, m := range tricky {
		if m.name == "empty" {
			continue // curl prints nothing either way
		}
		if got := run(fmt.Sprintf("%s%d", base, i+1)); got != m.wire {
			t.Errorf("curl RETR %d (%s): got %q, want %q", i+1, m.name, got, m.wire)
		}
	}
	if got := run("-X", "UIDL", base); strings.Count(got, "\r\n") != len(tricky) {
		t.Errorf("curl UIDL: %q", got)
	}
	// DELE over curl, then QUIT: the message is gone.
	run("-X", "DELE", "-I", base+"1")
	if n := len(e.files("alice")); n != len(tricky)-1 {
		t.Errorf("after curl DELE: %d files, want %d", n, len(tricky)-1)
	}
}

const poplibScript = `
import base64, json, poplib, sys
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
poplib._MAXLINE = 10000  # poplib's default of 2048 refuses the 5000-octet line
p = poplib.POP3(host, port, timeout=20)
p.user(user)
p.pass_(pw)
count, size = p.stat()
out = {"count": count, "size": size, "capa": sorted(p.capa().keys()), "msgs": []}
for n in range(1, count + 1):
    resp, lines, octets = p.retr(n)
    uid = p.uidl(n).split()[2].decode()
    body = b"".join(l + b"\r\n" for l in lines)
    out["msgs"].append({"body": base64.b64encode(body).decode(), "uid": uid})
for n in range(1, count + 1):
    p.dele(n)
p.quit()
json.dump(out, sys.stdout)
`

func TestPythonPoplib(t *testing.T) {
	py := need(t, "python3")
	e := newEnv(t, []account{alice}, nil)
	var total int
	for _, m := range tricky {
		e.deliver("alice", m.stored)
		total += len(m.wire)
	}
	out := runPython(t, py, poplibScript, e.addr, alice.name, alice.pass)
	var got struct {
		Count, Size int
		Capa        []string
		Msgs        []struct {
			Body []byte // base64 in the JSON
			UID  string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Count != len(tricky) || got.Size != total {
		t.Fatalf("poplib stat = %d %d, want %d %d", got.Count, got.Size, len(tricky), total)
	}
	for i, m := range tricky {
		if body := string(got.Msgs[i].Body); body != m.wire {
			t.Errorf("%s: poplib got %q, want %q", m.name, body, m.wire)
		}
	}
	// poplib deleted everything and said QUIT.
	testutil.Eventually(t, 5*time.Second, "condition", func() bool { return len(e.files("alice")) == 0 })
}

// TestFetchmail: fetchmail reads with TOP n 99999999 and keeps UIDLs
// between polls; with "keep", a second poll must fetch nothing.
func TestFetchmail(t *testing.T) {
	fm := need(t, "fetchmail")
	// (sslproto '': this server has no certificate; fetchmail 6.4 would
	// otherwise insist on STLS.)
	e := newEnv(t, []account{alice}, nil)
	for _, m := range tricky {
		if m.name != "empty" { // fetchmail delivers no empty message
			e.deliver("alice", m.stored)
		}
	}
	dir := t.TempDir()
	host, port, _ := strings.Cut(e.addr, ":")
	rc := filepath.Join(dir, "fetchmailrc")
	os.WriteFile(rc, []byte(fmt.Sprintf(`poll %s service %s protocol pop3 uidl
  user %s password "%s" is root here
  keep
  sslproto ''
  mda "/bin/sh -c 'cat > %s/msg.$$'"
`, host, port, alice.name, alice.pass, dir)), 0o600)
	poll := func() string {
		cmd := exec.Command(fm, "-f", rc, "-i", filepath.Join(dir, "ids"), "--nodetach", "-v")
		cmd.Env = append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir)
		out, err := cmd.CombinedOutput()
		// fetchmail exits 1 for "no mail", 0 when it fetched some.
		if code := cmd.ProcessState.ExitCode(); err != nil && code != 1 {
			t.Fatalf("fetchmail: %v\n%s", err, out)
		}
		return string(out)
	}
	out := poll()
	if !strings.Contains(out, "TOP 1 99999999") {
		t.Errorf("fetchmail did not use TOP n 99999999:\n%s", out)
	}
	msgs, _ := filepath.Glob(filepath.Join(dir, "msg.*"))
	if len(msgs) != len(tricky)-1 {
		t.Fatalf("fetchmail delivered %d messages, want %d:\n%s", len(msgs), len(tricky)-1, out)
	}
	for _, want := range []string{"last line", strings.Repeat("L", 5000), "\xe9t\xe9"} {
		found := false
		for _, m := range msgs {
			b, _ := os.ReadFile(m)
			found = found || strings.Contains(string(b), want)
		}
		if !found {
			t.Errorf("no fetched message contains %.20q", want)
		}
	}
	poll()
	if again, _ := filepath.Glob(filepath.Join(dir, "msg.*")); len(again) != len(msgs) {
		t.Fatalf("the second poll fetched %d more: UIDLs not stable to fetchmail", len(again)-len(msgs))
	}
}

// runPython runs the Python script source with the host and port of addr
// and args, and returns what it printed; it fails the test with what the
// script said on stderr when it fails.
func runPython(t *testing.T, py, source, addr string, args ...string) []byte {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	script := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(script, []byte(source), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append([]string{script, host, port}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("poplib: %v\n%s", err, stderr.String())
	}
	return out
}
