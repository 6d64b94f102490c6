// Package dovecot runs a real Dovecot 2.3 POP3 server for tests: its own
// configuration, runtime and state directories in a temporary directory, a
// loopback port, the same passwd-file users file and Maildirs that popd
// serves. Tests use it to check that popd takes over a Dovecot site
// without a client noticing (issue 10). Only tests import it.
package dovecot

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"popd/internal/testutil"
)

// Options say what the Dovecot instance serves.
type Options struct {
	// Users is a passwd-file users file (popd's format is Dovecot's). A
	// hash without a {SCHEME} prefix is read as CRYPT, as popd reads it.
	Users string
	// Maildir is the mail location template, with %u for the user name,
	// as in popd's configuration: "DIR/mail/%u" becomes
	// mail_location = maildir:DIR/mail/%u.
	Maildir string
	// UIDLFormat is pop3_uidl_format; "" keeps Dovecot's default,
	// %08Xu%08Xv (the IMAP UID and UIDVALIDITY in hex).
	UIDLFormat string
	// SaveUIDL sets pop3_save_uidl = yes: Dovecot then records each UIDL
	// it shows in dovecot-uidlist (the P field).
	SaveUIDL bool
	// Extra is appended to dovecot.conf as it is.
	Extra string
}

// Server is a running Dovecot.
type Server struct {
	Addr string // host:port of the POP3 listener
	Dir  string // base_dir, state_dir, the log and dovecot.conf are in here
	Conf string // dovecot.conf
	Log  string // log_path

	opt     Options
	mailUID int // the uid and gid Dovecot accesses mail as
	mailGID int
	cmd     *exec.Cmd
	stderr  *testutil.Buffer
	exited  chan struct{}
	stop    func()
}

// Start starts Dovecot (dovecot -F -c dovecot.conf) on a free loopback
// port and waits until it greets. It is stopped when the test ends, and
// when the test has failed the tail of its log is printed. Without Dovecot
// installed the test is skipped, or fails when the environment variable CI
// is set.
//
// As root, Dovecot serves no mail as uid 0, so the Maildirs are given to
// nobody (see Own), and directories on the way to them and to Dovecot's
// own are made searchable by others for as long as the test runs.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	bin := need(t)
	if opt.Users == "" || !strings.Contains(opt.Maildir, "%u") {
		t.Fatalf("dovecot: Options need Users and a Maildir template with %%u (got %q, %q)", opt.Users, opt.Maildir)
	}
	dir := t.TempDir()
	if len(dir) > 60 {
		// Dovecot's UNIX sockets live in base_dir; sun_path has 108 bytes.
		d, err := os.MkdirTemp("", "dovecot")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	s := &Server{opt: opt, Dir: dir, Conf: filepath.Join(dir, "dovecot.conf"), Log: filepath.Join(dir, "dovecot.log")}
	s.mailUID, s.mailGID = os.Getuid(), os.Getgid()
	if s.mailUID == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Fatalf("dovecot: as root, mail goes to nobody: %v", err)
		}
		s.mailUID, _ = strconv.Atoi(u.Uid)
		s.mailGID, _ = strconv.Atoi(u.Gid)
		searchable(t, dir)
		searchable(t, s.mailRoot())
		searchable(t, filepath.Dir(opt.Users))
	}
	s.Own(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dovecot: stderr:\n%s\ndovecot: the end of %s:\n%s", s.stderr, s.Log, tail(s.Log, 40))
		}
	})
	var err error
	for range 5 {
		if err = s.start(bin); err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("dovecot: %v", err)
	return nil
}

var errPortTaken = errors.New("port taken")

// start writes the configuration for a free port and starts Dovecot on it.
// It returns errPortTaken when someone else took the port first.
func (s *Server) start(bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := os.WriteFile(s.Conf, []byte(s.config(port)), 0o644); err != nil {
		return err
	}
	os.Remove(s.Log)
	s.stderr = &testutil.Buffer{}
	s.cmd = exec.Command(bin, "-F", "-c", s.Conf)
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.exited) }()
	s.stop = sync.OnceFunc(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-s.exited:
			if strings.Contains(s.stderr.String()+tail(s.Log, 20), "Address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("exited at start: %v\n%s%s", s.cmd.ProcessState, s.stderr, tail(s.Log, 20))
		default:
		}
		if greets(s.Addr) {
			return nil
		}
	}
	s.stop()
	return fmt.Errorf("no +OK greeting on %s within 20s", s.Addr)
}

// Stop stops Dovecot and waits for it (and so its POP3 processes) to exit.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
	}
}

// Own gives the Maildirs to the user Dovecot reads mail as (nobody, when
// the test runs as root; else nothing changes). Call it after delivering
// mail as root, before Dovecot serves it. Removing the temporary
// directories needs no ownership back: the test is root.
func (s *Server) Own(t testing.TB) {
	t.Helper()
	if os.Getuid() != 0 {
		return
	}
	root := s.mailRoot()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipAll
			}
			return err
		}
		return os.Lchown(p, s.mailUID, s.mailGID)
	})
	if err != nil {
		t.Fatalf("dovecot: chown %s: %v", root, err)
	}
}

// mailRoot is the directory above the first "%" of the Maildir template.
func (s *Server) mailRoot() string {
	prefix, _, _ := strings.Cut(s.opt.Maildir, "%")
	return filepath.Dir(prefix + "x")
}

// config is dovecot.conf for Dovecot 2.3 listening on 127.0.0.1:port.
func (s *Server) config(port int) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("base_dir = %s", filepath.Join(s.Dir, "run"))
	w("state_dir = %s", filepath.Join(s.Dir, "state"))
	w("log_path = %s", s.Log)
	w("protocols = pop3")
	w("listen = 127.0.0.1")
	w("ssl = no")
	w("disable_plaintext_auth = no")
	w("auth_verbose = yes")
	w("first_valid_uid = 1")
	w("first_valid_gid = 0")
	if os.Getuid() != 0 {
		// Unprivileged, every process runs as this user, unchrooted.
		me, group := strconv.Itoa(os.Getuid()), strconv.Itoa(os.Getgid())
		if u, err := user.Current(); err == nil {
			me = u.Username
		}
		if g, err := user.LookupGroupId(group); err == nil {
			group = g.Name
		}
		w("default_login_user = %s", me)
		w("default_internal_user = %s", me)
		w("default_internal_group = %s", group) // stats-writer, dict sockets
		w("service pop3-login {\n  chroot =\n}")
		w("service anvil {\n  chroot =\n}")
	} else {
		// The auth process runs as user dovecot by default; root can read
		// a users file kept 0600 in a 0700 temporary directory.
		w("service auth {\n  user = root\n}")
	}
	// The users file is popd's: "{SCHEME}hash" or a bare crypt(3) hash.
	w("passdb {\n  driver = passwd-file\n  args = scheme=CRYPT username_format=%%u %s\n}", s.opt.Users)
	w("userdb {\n  driver = static\n  args = uid=%d gid=%d\n}", s.mailUID, s.mailGID)
	w("mail_location = maildir:%s", s.opt.Maildir)
	if s.opt.UIDLFormat != "" {
		w("pop3_uidl_format = %s", s.opt.UIDLFormat)
	}
	if s.opt.SaveUIDL {
		w("pop3_save_uidl = yes")
	}
	w("service pop3-login {\n  inet_listener pop3 {\n    port = %d\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}", port)
	b.WriteString(s.opt.Extra)
	return b.String()
}

// need returns the path of a Dovecot 2.3 (whose configuration this
// package writes), or skips the test; under CI it fails instead.
func need(t testing.TB) string {
	t.Helper()
	skip := t.Skip
	if os.Getenv("CI") != "" {
		skip = t.Fatal
	}
	p, err := exec.LookPath("dovecot")
	if err != nil {
		skip("dovecot is not installed (apt-get install dovecot-pop3d; .ci/run does)")
		return ""
	}
	out, err := exec.Command(p, "--version").Output()
	if v := string(out); err != nil || !strings.HasPrefix(v, "2.3.") {
		skip(fmt.Sprintf("dovecot --version: %q, %v: these tests need Dovecot 2.3", strings.TrimSpace(v), err))
	}
	return p
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// greets reports whether a POP3 server answers on addr with +OK.
func greets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	l, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(l, "+OK")
}

// searchable makes dir and the directories above it searchable (o+x) by
// Dovecot's unprivileged processes, for as long as the test runs.
func searchable(t testing.TB, dir string) {
	t.Helper()
	for d := dir; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			mode := fi.Mode().Perm()
			if err := os.Chmod(d, mode|0o001); err != nil {
				t.Fatalf("dovecot: %v", err)
			}
			t.Cleanup(func() { os.Chmod(d, mode) })
		}
		if d == filepath.Dir(d) {
			return
		}
	}
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)\n", err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, nil))
}
