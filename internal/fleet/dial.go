package fleet

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"popd/internal/control"
)

// Dialer connects to the nodes' control sockets.
type Dialer struct {
	// SSH is the ssh program for ssh:// addresses; "" is "ssh".
	SSH string
}

// Dial connects to n's control socket: a path directly; an ssh:// address
// by running
//
//	ssh -T -o BatchMode=yes [-p PORT] -- [USER@]HOST popadm dial-stdio PATH
//
// and speaking the control protocol over its standard input and output,
// so that popd checks the credentials of the ssh user on the far side.
// BatchMode: ssh never asks for a password (several nodes at once would
// ask together); use keys and an agent. An Events on the Client runs a
// second ssh. What ssh or the far popadm said on standard error (no route,
// no socket there) is the error when the connection fails.
func (d Dialer) Dial(ctx context.Context, n *Node) (*control.Client, error) {
	dest, port, path, ok := n.SSH()
	if !ok {
		return control.Dial(ctx, n.Control)
	}
	return control.DialWith(ctx, func(ctx context.Context) (*control.Client, error) {
		s, err := d.start(dest, port, path)
		if err != nil {
			return nil, err
		}
		c, err := control.NewClient(ctx, s, n.Control)
		if err != nil {
			s.Close() // closed already; this waits for ssh to exit
			if msg := s.said(); msg != "" {
				return nil, fmt.Errorf("fleet: %s: %s", n.Control, msg)
			}
		}
		return c, err
	})
}

// SSHArgs is the command line Dial runs for an ssh:// address (without
// the program).
func SSHArgs(dest, port, path string) []string {
	args := []string{"-T", "-o", "BatchMode=yes"}
	if port != "" {
		args = append(args, "-p", port)
	}
	// The far side's shell reads the command: the path is quoted for it.
	return append(args, "--", dest, "popadm", "dial-stdio", shellQuote(path))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sshExitWait is how long Close lets ssh end by itself once its input is
// closed, before it is killed.
const sshExitWait = 2 * time.Second

// sshStream is an ssh process's standard output and input as one stream.
type sshStream struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr tail
	once   sync.Once
}

func (d Dialer) start(dest, port, path string) (*sshStream, error) {
	prog := d.SSH
	if prog == "" {
		prog = "ssh"
	}
	s := &sshStream{cmd: exec.Command(prog, SSHArgs(dest, port, path)...)}
	s.cmd.Stderr = &s.stderr
	// A child of ssh that keeps standard error open does not hold up Wait.
	s.cmd.WaitDelay = time.Second
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	if s.stdout, err = s.cmd.StdoutPipe(); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	return s, nil
}

func (s *sshStream) Read(p []byte) (int, error)  { return s.stdout.Read(p) }
func (s *sshStream) Write(p []byte) (int, error) { return s.stdin.Write(p) }

// Close ends the input, which ends dial-stdio on the far side and then
// ssh, and waits for ssh to exit (killing it after sshExitWait).
func (s *sshStream) Close() error {
	s.once.Do(func() {
		s.stdin.Close()
		s.stdout.Close()
		kill := time.AfterFunc(sshExitWait, func() { s.cmd.Process.Kill() })
		s.cmd.Wait()
		kill.Stop()
	})
	return nil
}

// said is the last line ssh wrote on standard error, once it has exited.
func (s *sshStream) said() string {
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// tail keeps the last tailMax bytes written to it.
type tail struct {
	mu sync.Mutex
	b  []byte
}

const tailMax = 4096

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > tailMax {
		t.b = t.b[len(t.b)-tailMax:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
