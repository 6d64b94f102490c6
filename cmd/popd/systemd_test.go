package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"popd/internal/testutil"
	"popd/internal/testutil/site"
)

// unitLine returns the value of key= in the shipped unit.
func unitLine(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile("../../contrib/systemd/popd.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	t.Fatalf("popd.service has no %s=", key)
	return ""
}

// exampleConfig is contrib/popd.conf, the package's /etc/popd/popd.conf,
// pointed at st: listen, users and maildir replaced, user and group
// dropped (vmail need not exist here).
func exampleConfig(t *testing.T, st *site.Site, control string) string {
	t.Helper()
	b, err := os.ReadFile("../../contrib/popd.conf")
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]string{"listen": "127.0.0.1:0", "users": st.Cfg.Users, "maildir": st.Cfg.Maildir}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		key, _, _ := strings.Cut(l, " = ")
		if v, ok := set[key]; ok {
			l = fmt.Sprintf("%s = %q", key, v)
			delete(set, key)
		}
		if key == "user" || key == "group" {
			continue
		}
		out = append(out, l)
	}
	if len(set) > 0 {
		t.Fatalf("contrib/popd.conf does not set %v", set)
	}
	out = append(out, fmt.Sprintf("control = %q", control))
	if os.Geteuid() == 0 {
		out = append(out, "allow-root = true")
	}
	file := filepath.Join(t.TempDir(), "popd.conf")
	os.WriteFile(file, []byte(strings.Join(out, "\n")+"\n"), 0o644)
	return file
}

// The unit's ExecStart line, run as systemd would run it (the binary and
// the configuration file in their test places), tells the notification
// socket READY=1 once it serves, RELOADING=1 and READY=1 around the unit's
// ExecReload, and STOPPING=1 on SIGTERM; then it exits 0.
func TestUnitExecStart(t *testing.T) {
	bin := buildPopd(t)
	st := site.New(t, []site.Account{{Name: "alice", Pass: "secret"}})
	conf := exampleConfig(t, st, filepath.Join(t.TempDir(), "control.sock"))
	argv := strings.Fields(unitLine(t, "ExecStart"))
	if argv[0] != "/usr/sbin/popd" || len(argv) != 3 || argv[1] != "-config" || argv[2] != "/etc/popd/popd.conf" {
		t.Fatalf("ExecStart = %q; this test expects /usr/sbin/popd -config /etc/popd/popd.conf", argv)
	}
	if unitLine(t, "Type") != "notify" {
		t.Fatal("Type= is not notify")
	}
	argv[0], argv[2] = bin, conf

	sock := filepath.Join(t.TempDir(), "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	next := func(want string) string {
		t.Helper()
		notify.SetReadDeadline(time.Now().Add(20 * time.Second))
		buf := make([]byte, 4096)
		n, err := notify.Read(buf)
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		if !strings.HasPrefix(string(buf[:n]), want) {
			t.Fatalf("notified %q, want %s first", buf[:n], want)
		}
		return string(buf[:n])
	}
	t.Setenv("NOTIFY_SOCKET", sock)
	addr, cmd, log := startPopdLog(t, argv[0], argv[1:]...)
	if got := next("READY=1\n"); !strings.Contains(got, "STATUS=serving POP3 on 127.0.0.1:0; 1 users") {
		t.Errorf("READY without the status: %q", got)
	}
	c := testutil.DialPOP3(t, addr)
	c.Send("USER alice")
	c.Expect("+OK")
	c.Send("PASS secret")
	c.Expect("+OK")

	reload := strings.ReplaceAll(unitLine(t, "ExecReload"), "$MAINPID", strconv.Itoa(cmd.Process.Pid))
	if out, err := exec.Command("sh", "-c", reload).CombinedOutput(); err != nil {
		t.Fatalf("ExecReload %q: %v %s", reload, err, out)
	}
	if got := next("RELOADING=1\n"); !regexp.MustCompile(`MONOTONIC_USEC=\d+\n`).MatchString(got) {
		t.Errorf("RELOADING without MONOTONIC_USEC: %q", got)
	}
	next("READY=1\n")
	c.Send("STAT")
	c.Expect("+OK 0 0") // the session went on through the reload

	// A reload of a broken file keeps the settings in force, and the log
	// names the file and line.
	b, _ := os.ReadFile(conf)
	os.WriteFile(conf, append(b, "lock-stale = \"1s\"\n"...), 0o644)
	lines := strings.Count(string(b), "\n") + 1
	exec.Command("sh", "-c", reload).Run()
	next("RELOADING=1\n")
	next("READY=1\n")
	want := fmt.Sprintf("%s:%d: lock-stale 1s is too short", conf, lines)
	testutil.Eventually(t, 10*time.Second, "the reload's error in the log", func() bool { return strings.Contains(log.String(), want) })

	cmd.Process.Signal(syscall.SIGTERM)
	next("STOPPING=1\n")
	if err := cmd.Wait(); err != nil {
		t.Errorf("popd exited: %v", err)
	}
}

// Under systemd, stderr is the journal ($JOURNAL_STREAM): each line starts
// with its syslog priority and leaves time= to the journal.
func TestJournalLogFormat(t *testing.T) {
	bin := buildPopd(t)
	st := site.New(t, []site.Account{{Name: "alice", Pass: "secret"}})
	logFile, err := os.Create(filepath.Join(t.TempDir(), "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	var fi syscall.Stat_t
	syscall.Fstat(int(logFile.Fd()), &fi)
	cmd := exec.Command(bin, siteArgs(st, filepath.Join(t.TempDir(), "control.sock"))...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("JOURNAL_STREAM=%d:%d", fi.Dev, fi.Ino))
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	listening := regexp.MustCompile(`(?m)^<6>level=INFO msg=listening addr=(\S+)`)
	var addr string
	testutil.Eventually(t, 20*time.Second, "popd listening", func() bool {
		b, _ := os.ReadFile(logFile.Name())
		if m := listening.FindSubmatch(b); m != nil {
			addr = string(m[1])
		}
		return addr != ""
	})
	c := testutil.DialPOP3(t, addr)
	c.Send("USER alice")
	c.Expect("+OK")
	c.Send("PASS wrong")
	c.Expect("-ERR [AUTH]")
	c.Send("QUIT")
	c.Expect("+OK")
	testutil.Eventually(t, 20*time.Second, "the failed login logged", func() bool {
		b, _ := os.ReadFile(logFile.Name())
		return regexp.MustCompile(`\n<6>level=INFO msg="auth failed" session=[0-9a-z]{4}-1 remote=127\.0\.0\.1:`).Match(b)
	})
	b, _ := os.ReadFile(logFile.Name())
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		l := sc.Text()
		if !regexp.MustCompile(`^<[3467]>level=(ERROR|WARN|INFO|DEBUG) msg=`).MatchString(l) || strings.Contains(l, "time=") {
			t.Errorf("not a journal line: %q", l)
		}
		if strings.HasPrefix(l, "<6>level=WARN") || strings.HasPrefix(l, "<4>level=INFO") {
			t.Errorf("priority does not match the level: %q", l)
		}
	}
	// Without JOURNAL_STREAM (or with another stream's), the time stays.
	cmd2 := exec.Command(bin, "-version")
	cmd2.Env = append(os.Environ(), "JOURNAL_STREAM=1:2")
	if out, err := cmd2.Output(); err != nil || !strings.HasPrefix(string(out), "popd ") {
		t.Errorf("-version: %q %v", out, err)
	}
}
