package maildir

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// Reading one message: Open, the readers that check what a file yields
// against the size announced for it, and finding a file that moved.

// ErrChanged means a message file no longer is what its size was taken
// from: Maildir files never change, but whoever can write into the maildir
// can change one. Open fails with it when the file's size differs from the
// one the size was computed from, before anything is sent (the POP3 answer
// is -ERR); the reader from Open fails with it when the file yields more or
// fewer octets than Size announced, after the caller began sending (the
// caller must then end the connection without the final ".", so the client
// never keeps a truncated message as complete). Either way the message's
// size is dropped from the cache and counted again by the next session.
var ErrChanged = errors.New("maildir: message file changed")

// Open returns message i in network form (see NewCRLFReader): exactly
// Size(i) octets, or, when the file changed meanwhile, an error wrapping
// ErrChanged from Read. The caller byte-stuffs and terminates it, and
// closes the reader. If the message was moved to another folder or got
// other flags since Open, it is found there; the error wraps ErrVanished
// when it is gone.
func (m *Mailbox) Open(i int) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkIndex(i); err != nil {
		return nil, err
	}
	fd, st, err := m.openMessage(i)
	if err != nil {
		return nil, err
	}
	msg := &m.msgs[i]
	switch {
	case msg.raw < 0 || msg.size < 0:
		// Opened before its size was asked for: count it now.
		var c sizeCounter
		_, err := io.CopyBuffer(&c, fdReader(fd), make([]byte, 64<<10))
		if err == nil {
			_, err = unix.Seek(fd, 0, io.SeekStart)
		}
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("maildir: %w", err)
		}
		st.Size = c.raw
		msg.raw, msg.size = c.raw, c.Size()
		m.cacheDirty = true
	case st.Size != msg.raw:
		unix.Close(fd)
		m.log.Warn("maildir: message file changed size", "dir", m.dir, "file", m.path(i),
			"was", msg.raw, "now", st.Size)
		m.dropSize(i)
		return nil, fmt.Errorf("%w: %s", ErrChanged, m.path(i))
	}
	src := &fileReader{fd: fdReader(fd), left: st.Size}
	return &messageReader{r: NewCRLFReader(src), fd: fd, left: msg.size, m: m, i: i}, nil
}

// fileReader reads a message file whose size fstat gave, and spares the
// read that would only say io.EOF: a read of a regular file that returns
// fewer octets than asked for has reached its end, and when that end is
// where fstat said, the file is read (a message is mostly one read). A
// file that grew goes on being read, and messageReader tells.
type fileReader struct {
	fd   fdReader
	left int64 // octets fstat promised that have not been read yet
}

func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.fd.Read(p)
	r.left -= int64(n)
	if err == nil && n < len(p) && r.left == 0 {
		err = io.EOF
	}
	return n, err
}

// dropSize makes the next session count message i again: its size is left
// out of the cache, which is rewritten. This session keeps the size it
// announced. m.mu is held.
func (m *Mailbox) dropSize(i int) {
	m.msgs[i].changed = true
	m.cacheDirty = true
	m.saveCache()
}

// messageReader yields a message in network form, and an error wrapping
// ErrChanged instead of more or fewer octets than announced.
type messageReader struct {
	r    io.Reader
	fd   int
	left int64 // octets still to come
	m    *Mailbox
	i    int
	err  error
}

func (r *messageReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1] // one more octet than announced tells a grown file
	}
	n, err := r.r.Read(p)
	switch {
	case int64(n) > r.left:
		n = int(r.left)
		r.fail("the file grew")
	case err == io.EOF && int64(n) < r.left:
		r.fail("the file shrank")
	case err != nil && err != io.EOF:
		r.err = err
	}
	r.left -= int64(n)
	if r.err != nil {
		return n, r.err
	}
	return n, err
}

func (r *messageReader) fail(how string) {
	m := r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	r.err = fmt.Errorf("%w: %s: %s while being sent", ErrChanged, m.path(r.i), how)
	m.log.Warn("maildir: message file changed while being sent", "dir", m.dir, "file", m.path(r.i), "how", how)
	if m.closed {
		return
	}
	// The session ends (see ErrChanged): the size may change now. Counted
	// in full, it goes into the cache, which wins over a lying ",W=".
	msg := &m.msgs[r.i]
	raw, size, err := sizeFile(m.t, msg.folder, msg.name, make([]byte, 64<<10), -1, -1)
	if err != nil {
		m.dropSize(r.i)
		return
	}
	msg.raw, msg.size = raw, size
	m.cacheDirty = true
	m.saveCache()
}

func (r *messageReader) Close() error {
	if z, ok := r.r.(*crlfReader); ok {
		z.release()
	}
	if r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}

// openMessage opens the file of message i, looking for it if it moved. m.mu
// is held.
func (m *Mailbox) openMessage(i int) (int, unix.Stat_t, error) {
	m.fileReads.Add(1)
	open := func() (int, unix.Stat_t, error) {
		msg := &m.msgs[i]
		return openFd(m.t.folder[msg.folder], msg.name, unix.O_RDONLY)
	}
	fd, st, err := open()
	if err == unix.ENOENT {
		locs, lerr := readLocations(m.t)
		if m.relocate(i, locs) {
			fd, st, err = open()
		} else if lerr != nil {
			return -1, st, lerr
		}
		if err == unix.ENOENT {
			m.msgs[i].vanished = true
			return -1, st, ErrVanished
		}
	}
	if err == nil {
		if err = m.t.checkLinks(&st); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		return -1, st, fmt.Errorf("maildir: %s: %w", m.path(i), err)
	}
	return fd, st, nil
}

// relocate points message i to where locs says a file with its base name is,
// other than the files of other messages of the list with the same base
// name. It reports whether one was found. m.mu is held.
func (m *Mailbox) relocate(i int, locs locations) bool {
	msg := &m.msgs[i]
	claimed := func(l location) bool {
		// Entries with the same base name are next to each other.
		for _, step := range []int{-1, 1} {
			for j := i + step; j >= 0 && j < len(m.msgs) && m.msgs[j].base == msg.base; j += step {
				o := &m.msgs[j]
				if !o.deleted && !o.vanished && o.folder == l.folder && o.name == l.name {
					return true
				}
			}
		}
		return false
	}
	for _, l := range locs[msg.base] {
		if claimed(l) {
			continue
		}
		if l.folder != msg.folder || l.name != msg.name {
			m.log.Debug("maildir: message moved by someone else", "from",
				msg.folder.String()+"/"+msg.name, "to", l.folder.String()+"/"+l.name)
		}
		msg.folder, msg.name = l.folder, l.name
		msg.vanished = false
		return true
	}
	return false
}
