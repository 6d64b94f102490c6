package maildir

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
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
	// UIDLFormat is Dovecot's pop3_uidl_format for messages listed in a
	// dovecot-uidlist (see uidmap.go); "" means Dovecot 2.3's default,
	// "%08Xu%08Xv". Check it with CheckUIDLFormat.
	UIDLFormat string
	// Control is the directory of dovecot-uidlist when the Dovecot mail
	// location has CONTROL=; "" means the maildir.
	Control string
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
	dir  string // for messages
	t    *tree
	opt  Options
	log  *slog.Logger
	lock *lockFile
	src  *sources // where UIDLs come from besides base names

	// fileReads counts message files opened, for tests.
	fileReads atomic.Int64

	mu     sync.Mutex // guards what follows, and msgs but for uid and base
	msgs   []message
	closed bool
	// cacheDirty: the sizes cache file holds entries to drop or lacks
	// entries that we know.
	cacheDirty bool
	// pendingSeen, pendingDel: the moves of an Update left to Close (see
	// Update): which messages were retrieved, and deleted.
	pendingSeen, pendingDel []bool
	settling                bool // Open waits for this Close (settle.go)
	// stamps: what the list was made from, when an index can be written
	// for it (nil after Update); indexStale: it is to be written.
	stamps     *stamps
	indexStale bool
	fromIndex  bool // the list came from the index

	cacheMu      sync.Mutex // guards cachePending, indexPending and cacheWriting
	cachePending []cacheLine
	indexPending *indexJob
	cacheWriting bool
	cacheWG      sync.WaitGroup // the cache writer goroutine
}

// Open opens and locks the maildrop in dir and lists its messages. It makes
// dir and its new/, cur/ and tmp/ (mode 0700) when they are missing. When a
// live session holds the lock it fails with an error wrapping ErrLocked
// (after waiting, when it is a session of this process finishing its
// moves after a QUIT: see settle.go); a stale lock is broken (see the package documentation). A maildir reached
// through a user's symbolic link, or whose new/ or cur/ is not a directory
// of its own, fails with an error wrapping ErrUnsafe (see openTree).
//
// Open reads only directories and the sizes cache, never messages: sizes are
// computed on the first call of Size or TotalSize that needs them.
func Open(dir string, opt Options) (*Mailbox, error) {
	opt = opt.withDefaults()
	t, err := openTree(dir, true)
	if err != nil {
		if !errors.Is(err, ErrUnsafe) {
			err = fmt.Errorf("maildir: %w", err)
		}
		return nil, err
	}
	lk, err := acquireLock(t, opt)
	if errors.Is(err, ErrLocked) && waitSettling(t) {
		lk, err = acquireLock(t, opt) // this process's QUIT has finished
	}
	if err != nil {
		t.close()
		return nil, err
	}
	m := &Mailbox{dir: dir, t: t, opt: opt, log: opt.Logger, lock: lk}
	if err := m.list(); err != nil {
		lk.release()
		t.close()
		return nil, err
	}
	lk.startRefresh(opt.RefreshLock)
	return m, nil
}

// list makes the list of messages: from the index when it is valid (see
// index.go), else from the folders, the sizes cache and the UIDL sources,
// and then writes the index when it can.
func (m *Mailbox) list() error {
	t, opt := m.t, m.opt
	// The file system's time before the listing: taking the lock has just
	// made a file in root.
	var rootSt unix.Stat_t
	nowErr := unix.Fstat(t.root, &rootSt)
	msgs, st, err := readIndex(t, opt)
	if err != nil {
		indexErrors.report(m.log, m.dir, "maildir: ignoring "+indexName, err)
	}
	if msgs != nil {
		m.msgs, m.stamps, m.fromIndex = msgs, st, true
		return nil
	}
	src := readSources(t, opt)
	msgs, cacheDirty, err := scan(t, opt.Logger)
	if err != nil {
		return err
	}
	assignUIDs(msgs, src)
	applyHints(msgs, src)
	m.msgs, m.cacheDirty, m.src = msgs, cacheDirty, src
	if !m.remember(src) || nowErr != nil || len(msgs) < indexMin {
		return nil
	}
	// Stamps taken now, if older than the listing by more than a clock
	// tick, are those of what was listed: a change since would have a
	// later time.
	if st, ok := takeStamps(t, opt); ok && st.settled(rootSt.Ctim.Nano()) {
		m.stamps = &st
		m.indexStale = true
		m.saveCache()
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

// path is where message i is as far as we know, for messages. m.mu is held.
func (m *Mailbox) path(i int) string {
	msg := &m.msgs[i]
	return msg.folder.String() + "/" + msg.name
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
	m.settlePending()
	m.closed = true
	m.mu.Unlock()
	m.cacheWG.Wait()
	err := m.lock.release()
	if m.settling {
		doneSettling(m.t)
	}
	m.t.close()
	return err
}
