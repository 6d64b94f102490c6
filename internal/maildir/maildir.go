package maildir

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// LockWaited, if set, is told how long Open waited for the lock held
	// by a session of this process finishing its QUIT (see settle.go),
	// whether it got it then or not. Open waits for nothing else.
	LockWaited func(time.Duration)
	// StaleLockBroken, if set, is called each time Open breaks a stale
	// lock (the log says why).
	StaleLockBroken func()
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
	if errors.Is(err, ErrLocked) {
		if start := time.Now(); waitSettling(t) {
			if opt.LockWaited != nil {
				opt.LockWaited(time.Since(start))
			}
			lk, err = acquireLock(t, opt) // this process's QUIT has finished
		}
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
	if !m.remember(src) || len(msgs) < indexMin {
		return nil
	}
	// Stamps taken now, if older by more than a clock tick than the lock
	// (taken just before the listing, on the file system's clock), are
	// those of what was listed: a change since would have a later time.
	if st, ok := takeStamps(t, opt); ok && st.settled(m.lock.taken) {
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
