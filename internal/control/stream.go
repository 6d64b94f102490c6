package control

import (
	"io"
	"os"
	"sync"
	"time"
)

// clientConn is what a Client needs of its connection: a net.Conn, or a
// streamConn around a stream without deadlines.
type clientConn interface {
	io.ReadWriteCloser
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
}

// streamConn gives a stream without deadlines (the pipes of an ssh
// process) the deadlines a Client sets. A read or write that starts after
// the deadline fails at once, as on a net.Conn; one that is still blocked
// when the deadline passes can only be stopped by closing the stream, so
// it is closed, and that read or write and every later one fails with
// os.ErrDeadlineExceeded. The Client closes itself after such a failure
// anyway. A deadline that passes between calls closes nothing.
type streamConn struct {
	rwc       io.ReadWriteCloser
	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex
	deadline time.Time   // zero: none
	timer    *time.Timer // set while ops > 0 and there is a deadline
	ops      int         // reads and writes in progress
	broken   bool        // closed by a deadline
}

func newStreamConn(rwc io.ReadWriteCloser) *streamConn { return &streamConn{rwc: rwc} }

func (s *streamConn) Read(p []byte) (int, error)  { return s.do(s.rwc.Read, p) }
func (s *streamConn) Write(p []byte) (int, error) { return s.do(s.rwc.Write, p) }

func (s *streamConn) Close() error {
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	return s.close()
}

func (s *streamConn) close() error {
	s.closeOnce.Do(func() { s.closeErr = s.rwc.Close() })
	return s.closeErr
}

// SetDeadline sets the deadline of reads and writes alike.
func (s *streamConn) SetDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadline = t
	s.arm()
	return nil
}

// SetReadDeadline is SetDeadline: a Client never reads and writes at once.
func (s *streamConn) SetReadDeadline(t time.Time) error { return s.SetDeadline(t) }

// arm (mu held) sets the timer for the deadline while a read or write is
// in progress.
func (s *streamConn) arm() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if s.ops > 0 && !s.deadline.IsZero() {
		s.timer = time.AfterFunc(time.Until(s.deadline), s.expire)
	}
}

// expire closes the stream when a read or write is still blocked at the
// deadline.
func (s *streamConn) expire() {
	s.mu.Lock()
	if s.ops == 0 || s.deadline.IsZero() || time.Now().Before(s.deadline) {
		s.mu.Unlock() // done meanwhile, or the deadline moved
		return
	}
	s.broken = true
	s.mu.Unlock()
	s.close()
}

func (s *streamConn) do(f func([]byte) (int, error), p []byte) (int, error) {
	s.mu.Lock()
	if s.broken || (!s.deadline.IsZero() && !time.Now().Before(s.deadline)) {
		s.mu.Unlock()
		return 0, os.ErrDeadlineExceeded
	}
	s.ops++
	if s.ops == 1 {
		s.arm()
	}
	s.mu.Unlock()

	n, err := f(p)

	s.mu.Lock()
	s.ops--
	if s.ops == 0 && s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if err != nil && s.broken {
		err = os.ErrDeadlineExceeded
	}
	s.mu.Unlock()
	return n, err
}
