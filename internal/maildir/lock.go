package maildir

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// lockName is the lock file in the maildir root (RFC 1939 §4: "the POP3
// server then acquires an exclusive-access lock on the maildrop").
const lockName = "popd.lock"

// maxLockFile bounds what is read of a lock file.
const maxLockFile = 4096

// LockInfo describes the holder of a maildrop's lock, as written in the lock
// file. Fields the file does not hold (it was written by a crashed process
// before it wrote them, say) are zero.
type LockInfo struct {
	Owner     string    // Options.Owner of the holder
	Host      string    // host name of the holder
	PID       int       // process id of the holder on Host
	Since     time.Time // when the lock was taken
	Refreshed time.Time // when the lock was last refreshed (the file's mtime)
}

// lockData is the parsed content of a lock file.
type lockData struct {
	LockInfo
	pidNS string // the holder's pid namespace, on Linux
	token string
}

var (
	thisHost = sync.OnceValue(func() string {
		h, _ := os.Hostname()
		return h
	})
	// thisPidNS tells apart processes on hosts (containers) that share a
	// host name but not process ids.
	thisPidNS = sync.OnceValue(func() string {
		ns, _ := os.Readlink("/proc/self/ns/pid")
		return ns
	})
)

// formatLock is the content of a lock file.
func formatLock(d lockData) []byte {
	var b bytes.Buffer
	b.WriteString("popd-lock 1\n")
	fmt.Fprintf(&b, "host: %s\n", oneLine(d.Host))
	fmt.Fprintf(&b, "pid: %d\n", d.PID)
	if d.pidNS != "" {
		fmt.Fprintf(&b, "pidns: %s\n", oneLine(d.pidNS))
	}
	fmt.Fprintf(&b, "since: %s\n", d.Since.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "token: %s\n", d.token)
	fmt.Fprintf(&b, "owner: %s\n", oneLine(d.Owner))
	return b.Bytes()
}

// oneLine makes free text fit on one line of a lock file.
func oneLine(s string) string {
	const max = 256
	if len(s) > max {
		s = s[:max]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// parseLock reads what it can of a lock file; it never fails, so that a
// truncated or foreign file is still a lock (stale only by its mtime).
func parseLock(data []byte) lockData {
	var d lockData
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSuffix(line, "\n"), ": ")
		if !ok {
			continue
		}
		switch k {
		case "host":
			d.Host = v
		case "pid":
			d.PID, _ = strconv.Atoi(v)
		case "pidns":
			d.pidNS = v
		case "since":
			d.Since, _ = time.Parse(time.RFC3339Nano, v)
		case "token":
			d.token = v
		case "owner":
			d.Owner = v
		}
	}
	return d
}

// readLockFile reads and parses the lock file at path; data is its content.
func readLockFile(path string) (d lockData, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return d, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return d, nil, err
	}
	data, err = io.ReadAll(io.LimitReader(f, maxLockFile))
	if err != nil {
		return d, nil, err
	}
	d = parseLock(data)
	d.Refreshed = st.ModTime()
	return d, data, nil
}

// ReadLock tells who holds the lock of the maildrop in dir. ok is false when
// there is no lock file. A lock file is reported even when it is stale; its
// Refreshed time tells how long ago its holder was last seen.
func ReadLock(dir string) (info LockInfo, ok bool, err error) {
	d, _, err := readLockFile(filepath.Join(dir, lockName))
	if errors.Is(err, fs.ErrNotExist) {
		return LockInfo{}, false, nil
	}
	if err != nil {
		return LockInfo{}, false, fmt.Errorf("maildir: reading lock: %w", err)
	}
	return d.LockInfo, true, nil
}

// BreakLock removes the lock of the maildrop in dir, whoever holds it, for
// an administrator who knows better than the staleness rules. A session that
// still runs keeps working, notices the loss when it next refreshes the lock,
// and leaves alone a lock taken since by someone else. It is not an error
// when there is no lock.
func BreakLock(dir string) error {
	err := os.Remove(filepath.Join(dir, lockName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("maildir: breaking lock: %w", err)
	}
	return nil
}

// staleness tells why a lock is stale, or "" when it is live: its holder
// stopped refreshing it, or it ran on this host and is no longer a process.
func staleness(d lockData, staleAfter time.Duration, now time.Time) string {
	if age := now.Sub(d.Refreshed); age > staleAfter {
		return "not refreshed for " + age.Truncate(time.Second).String()
	}
	if d.Host != "" && d.Host == thisHost() && d.PID > 0 && d.PID <= 1<<30 &&
		(d.pidNS == "" || thisPidNS() == "" || d.pidNS == thisPidNS()) &&
		syscall.Kill(d.PID, 0) == syscall.ESRCH {
		return "holder process " + strconv.Itoa(d.PID) + " is gone"
	}
	return ""
}

// lockFile is a lock held by this Mailbox.
type lockFile struct {
	path    string
	content []byte
	log     *slog.Logger
	lost    atomic.Bool   // the lock file was removed or replaced by someone else
	stop    chan struct{} // closed to stop the refresher
	done    chan struct{} // closed when the refresher returned
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// acquireLock takes the lock of the maildrop in dir, breaking a stale one.
func acquireLock(dir string, opt Options, log *slog.Logger) (*lockFile, error) {
	path := filepath.Join(dir, lockName)
	content := formatLock(lockData{
		LockInfo: LockInfo{Owner: opt.Owner, Host: thisHost(), PID: os.Getpid(), Since: time.Now()},
		pidNS:    thisPidNS(),
		token:    randomHex(16),
	})
	broke := false
	for attempt := 0; ; attempt++ {
		err := createExclusive(path, content)
		if err == nil {
			return &lockFile{path: path, content: content, log: log}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("maildir: creating lock: %w", err)
		}
		d, _, err := readLockFile(path)
		if errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			continue // released between our create and our read
		}
		if err != nil {
			return nil, fmt.Errorf("maildir: reading lock: %w", err)
		}
		why := staleness(d, opt.StaleLock, time.Now())
		if why == "" || broke {
			return nil, fmt.Errorf("%w (host %q pid %d since %s)", ErrLocked,
				d.Host, d.PID, d.Since.Format(time.RFC3339))
		}
		log.Info("maildir: breaking stale lock", "dir", dir, "reason", why,
			"host", d.Host, "pid", d.PID, "owner", d.Owner)
		ok, err := breakStale(dir, path, opt.StaleLock, log)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w (it was refreshed while being broken)", ErrLocked)
		}
		broke = true
	}
}

// createExclusive creates path with content, failing if it exists
// (O_CREAT|O_EXCL is atomic on local file systems and on NFSv3 and later).
func createExclusive(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	// No fsync: a lock need not outlive a crash of its holder's host, and
	// close flushes it to an NFS server.
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// breakStale removes a lock found stale. Between the check and the removal
// its holder may have refreshed it, or someone else broken it and taken a
// new one, so it is first renamed to a name of its own and checked again
// there; a lock that turns out live is put back. ok reports whether the lock
// is gone.
func breakStale(dir, path string, staleAfter time.Duration, log *slog.Logger) (ok bool, err error) {
	tmp := filepath.Join(dir, ".popd.lock.stale."+randomHex(8))
	if err := os.Rename(path, tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		return false, fmt.Errorf("maildir: breaking stale lock: %w", err)
	}
	d, _, err := readLockFile(tmp)
	if err == nil && staleness(d, staleAfter, time.Now()) == "" {
		// Put it back, unless a new lock was taken in the meantime.
		if err := os.Link(tmp, path); err != nil {
			log.Warn("maildir: could not restore a live lock", "dir", dir, "err", err)
		}
		os.Remove(tmp)
		return false, nil
	}
	if err := os.Remove(tmp); err != nil {
		log.Warn("maildir: removing broken lock", "path", tmp, "err", err)
	}
	return true, nil
}

// errLockLost means our lock file was removed or replaced.
var errLockLost = errors.New("maildir: lock file removed or replaced by someone else")

// ours reports whether the lock file is still the one we wrote.
func (l *lockFile) ours() error {
	f, err := os.Open(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return errLockLost
	}
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLockFile))
	if err != nil {
		return err
	}
	if !bytes.Equal(data, l.content) {
		return errLockLost
	}
	return nil
}

// refresh updates the lock's mtime, which tells others its holder is live.
func (l *lockFile) refresh() error {
	if err := l.ours(); err != nil {
		return err
	}
	now := time.Now()
	return os.Chtimes(l.path, now, now)
}

// startRefresh refreshes the lock every interval until release.
func (l *lockFile) startRefresh(every time.Duration) {
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
			}
			err := l.refresh()
			if errors.Is(err, errLockLost) {
				l.lost.Store(true)
				l.log.Warn("maildir: lock lost; another session may use the maildrop", "path", l.path)
				return
			}
			if err != nil {
				l.log.Warn("maildir: refreshing lock", "path", l.path, "err", err)
			}
		}
	}()
}

// release stops the refresher and removes the lock file if it is still ours.
func (l *lockFile) release() error {
	if l.stop != nil {
		close(l.stop)
		<-l.done
	}
	err := l.ours()
	if errors.Is(err, errLockLost) {
		l.log.Warn("maildir: lock was lost before release; leaving the lock file alone", "path", l.path)
		return nil
	}
	if err == nil {
		err = os.Remove(l.path)
	}
	if err != nil {
		return fmt.Errorf("maildir: releasing lock: %w", err)
	}
	return nil
}
