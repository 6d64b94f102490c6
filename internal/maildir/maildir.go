package maildir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Errors returned, wrapped or as they are, by this package; test them with
// errors.Is.
var (
	// ErrLocked means another session, live, holds the maildrop's lock
	// (RFC 1939 §4); the POP3 answer is "-ERR [IN-USE]".
	ErrLocked = errors.New("maildir: maildrop is locked by another session")
	// ErrVanished means a message of the list is no longer in the maildir,
	// under any folder or flags: another program deleted it.
	ErrVanished = errors.New("maildir: message no longer exists")
	// ErrNoMessage means a message index outside 0..Count()-1.
	ErrNoMessage = errors.New("maildir: no such message")
	// ErrClosed means the Mailbox was closed (perhaps by a kick from
	// another goroutine).
	ErrClosed = errors.New("maildir: mailbox is closed")
)

// DefaultStaleLock is the Options.StaleLock used when it is zero.
const DefaultStaleLock = 5 * time.Minute

// Options tune Open. The zero value is ready to use.
type Options struct {
	// StaleLock is how long a lock may go without being refreshed before
	// another session may break it. Zero means DefaultStaleLock.
	StaleLock time.Duration
	// RefreshLock is how often a held lock is refreshed. Zero, or a value
	// not below StaleLock, means StaleLock/5.
	RefreshLock time.Duration
	// Owner is free text written into the lock file for whoever looks at
	// it, e.g. "popd session 42 from 192.0.2.7". Optional; control
	// characters are replaced and it is cut at 256 bytes.
	Owner string
	// Logger gets the few events worth an administrator's attention (stale
	// lock broken, a move skipped, a cache that could not be written). It
	// may be nil. Message contents are never logged.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.StaleLock <= 0 {
		o.StaleLock = DefaultStaleLock
	}
	if o.RefreshLock <= 0 || o.RefreshLock >= o.StaleLock {
		o.RefreshLock = o.StaleLock / 5
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Mailbox is an open, locked maildrop: a list of messages fixed when it was
// opened, indexed 0..Count()-1. Its methods are for one session goroutine,
// except Close, which may be called from any goroutine.
type Mailbox struct {
	dir  string
	opt  Options
	log  *slog.Logger
	lock *lockFile

	// fileReads counts message files opened, for tests.
	fileReads atomic.Int64

	mu     sync.Mutex // guards what follows, and msgs but for uid and base
	msgs   []message
	closed bool
	// cacheDirty: the sizes cache file holds entries to drop or lacks
	// entries that we know.
	cacheDirty bool

	cacheMu      sync.Mutex // guards cachePending and cacheWriting
	cachePending []cacheLine
	cacheWriting bool
	cacheWG      sync.WaitGroup // the cache writer goroutine
}

// Open opens and locks the maildrop in dir and lists its messages. It makes
// dir and its new/, cur/ and tmp/ (mode 0700) when they are missing. When a
// live session holds the lock it fails with an error wrapping ErrLocked; a
// stale lock is broken (see the package documentation).
//
// Open reads only directories and the sizes cache, never messages: sizes are
// computed on the first call of Size or TotalSize that needs them.
func Open(dir string, opt Options) (*Mailbox, error) {
	opt = opt.withDefaults()
	if err := makeMaildir(dir); err != nil {
		return nil, err
	}
	lk, err := acquireLock(dir, opt, opt.Logger)
	if err != nil {
		return nil, err
	}
	msgs, cacheDirty, err := scan(dir, opt.Logger)
	if err != nil {
		lk.release()
		return nil, err
	}
	m := &Mailbox{dir: dir, opt: opt, log: opt.Logger, lock: lk, msgs: msgs, cacheDirty: cacheDirty}
	lk.startRefresh(opt.RefreshLock)
	return m, nil
}

// makeMaildir makes the maildir and its folders where they are missing.
func makeMaildir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	for _, sub := range []string{"new", "cur", "tmp"} {
		err := os.Mkdir(filepath.Join(dir, sub), 0o700)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("maildir: %w", err)
		}
	}
	return nil
}

// Count is the number of messages in the maildrop when it was opened.
func (m *Mailbox) Count() int { return len(m.msgs) }

// UID is the unique-id listing of message i (RFC 1939 §7), or "" when i is
// out of range. It is the file's base name when that is 1-70 octets in
// 0x21-0x7E, else a digest of it, so it stays the same across sessions and
// restarts while the message exists.
func (m *Mailbox) UID(i int) string {
	if i < 0 || i >= len(m.msgs) {
		return ""
	}
	return m.msgs[i].uid // set in Open, never changed
}

// checkIndex returns an error when i is not a message index. m.mu is held.
func (m *Mailbox) checkIndex(i int) error {
	if m.closed {
		return ErrClosed
	}
	if i < 0 || i >= len(m.msgs) {
		return fmt.Errorf("%w: index %d, have %d", ErrNoMessage, i, len(m.msgs))
	}
	if m.msgs[i].deleted {
		return fmt.Errorf("%w (deleted)", ErrVanished)
	}
	return nil
}

// path is where message i is as far as we know. m.mu is held.
func (m *Mailbox) path(i int) string {
	msg := &m.msgs[i]
	return filepath.Join(m.dir, msg.folder.String(), msg.name)
}

// Size is the exact size of message i in network form (RFC 1939 §11): the
// number of octets the reader from Open yields. The first call computes the
// sizes of all messages that are not in the sizes cache, in parallel. The
// error wraps ErrVanished when the message is found gone; a size once known
// is returned without checking that the file is still there.
func (m *Mailbox) Size(i int) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkIndex(i); err != nil {
		return 0, err
	}
	if msg := &m.msgs[i]; msg.vanished {
		return 0, ErrVanished
	} else if msg.size >= 0 {
		return msg.size, nil
	}
	errs := m.computeSizes()
	msg := &m.msgs[i]
	switch {
	case msg.size >= 0:
		return msg.size, nil
	case msg.vanished:
		return 0, ErrVanished
	case errs[i] != nil:
		return 0, errs[i]
	}
	return 0, fmt.Errorf("maildir: size of message %d unknown", i) // not reached
}

// TotalSize is the sum of the sizes of all messages (for STAT; the Mailbox
// knows nothing of messages marked deleted, the caller subtracts those).
// When some sizes cannot be found it returns the sum of the others and an
// error (wrapping ErrVanished when messages vanished).
func (m *Mailbox) TotalSize() (total int64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	errs := m.computeSizes()
	vanished := 0
	for i := range m.msgs {
		msg := &m.msgs[i]
		switch {
		case msg.vanished || msg.deleted:
			vanished++
		case msg.size >= 0:
			total += msg.size
		case errs[i] != nil && err == nil:
			err = errs[i] // the first
		}
	}
	if err != nil {
		return total, err
	}
	if vanished > 0 {
		return total, fmt.Errorf("%w (%d messages)", ErrVanished, vanished)
	}
	return total, nil
}

// Open returns message i in network form (see NewCRLFReader): exactly
// Size(i) octets. The caller byte-stuffs and terminates it, and closes the
// reader. If the message was moved to another folder or got other flags
// since Open, it is found there; the error wraps ErrVanished when it is gone.
func (m *Mailbox) Open(i int) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkIndex(i); err != nil {
		return nil, err
	}
	f, err := m.openMessage(i)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("maildir: %s is not a regular file", f.Name())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	msg := &m.msgs[i]
	if msg.raw >= 0 && st.Size() != msg.raw {
		// Maildir files do not change, but this one did (or the cache
		// was wrong): count it again, so that Size tells the truth from
		// now on.
		m.log.Warn("maildir: message size changed; recounting", "file", f.Name(),
			"was", msg.raw, "now", st.Size())
		var c sizeCounter
		_, err := io.CopyBuffer(&c, f, make([]byte, 64<<10))
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("maildir: %w", err)
		}
		msg.raw, msg.size = c.raw, c.Size()
		m.cacheDirty = true
	}
	return &messageReader{Reader: NewCRLFReader(f), f: f}, nil
}

type messageReader struct {
	io.Reader
	f *os.File
}

func (r *messageReader) Close() error { return r.f.Close() }

// openFlags opens message files: no symlinks (a user with write access to
// the maildir must not get popd to read other files), no blocking on a FIFO.
const openFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// openMessage opens the file of message i, looking for it if it moved. m.mu
// is held.
func (m *Mailbox) openMessage(i int) (*os.File, error) {
	m.fileReads.Add(1)
	f, err := os.OpenFile(m.path(i), openFlags, 0)
	if errors.Is(err, fs.ErrNotExist) {
		locs, lerr := readLocations(m.dir)
		if m.relocate(i, locs) {
			f, err = os.OpenFile(m.path(i), openFlags, 0)
		} else if lerr != nil {
			return nil, lerr
		}
		if errors.Is(err, fs.ErrNotExist) {
			m.msgs[i].vanished = true
			return nil, ErrVanished
		}
	}
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	return f, nil
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

// Close releases the lock, without changing anything else on disk (RFC 1939
// §6 happens in Update). It may be called from any goroutine, also while a
// method runs in another, and waits for that method to return. Readers
// returned by Open stay usable. Closing twice is not an error.
func (m *Mailbox) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	m.cacheWG.Wait()
	return m.lock.release()
}
