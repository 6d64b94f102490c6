package maildir

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The lock files in the maildir root (RFC 1939 §4: "the POP3 server then
// acquires an exclusive-access lock on the maildrop"). See the package
// documentation for how they are used.
const (
	lockName  = "popd.lock"        // the lock, while held
	spareName = ".popd.lock.spare" // the same file, while nobody holds it
	// lockSize is the fixed size of a lock file: its content is padded to
	// it, so that taking the lock rewrites the file in place and never
	// needs a free block (a full disk must not keep a user from deleting).
	lockSize = 1024
	// maxLockFile bounds what is read of a lock file.
	maxLockFile = 4096
)

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
	// isLock: the file is empty (being created) or starts with the
	// header; anything else in its place is not a lock.
	isLock bool
}

var (
	thisHost = sync.OnceValue(func() string {
		h, _ := os.Hostname()
		return h
	})
	thisPID = sync.OnceValue(os.Getpid)
	// thisPidNS tells apart processes on hosts (containers) that share a
	// host name but not process ids.
	thisPidNS = sync.OnceValue(func() string {
		ns, _ := os.Readlink("/proc/self/ns/pid")
		return ns
	})
)

// formatLock is the content of a lock file (written padded, see pad).
func formatLock(d lockData) []byte {
	var b bytes.Buffer
	b.WriteString(lockHeader)
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

// spareContent is what a spare lock file holds: no holder, so that a lock
// just taken and not yet written is live by its fresh mtime alone.
var spareContent = pad([]byte(lockHeader))

const lockHeader = "popd-lock 1\n"

// pad pads b with newlines to lockSize (in a new slice).
func pad(b []byte) []byte {
	if len(b) > lockSize {
		b = b[:lockSize]
	}
	return append(b, bytes.Repeat([]byte{'\n'}, lockSize-len(b))...)
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

// readLockAt reads and parses the lock file name in the directory dirfd:
// only a regular file, never through a link, never blocking (a FIFO or a
// device placed there is reported as not a regular file), never more than
// maxLockFile bytes.
func readLockAt(dirfd int, name string) (lockData, error) {
	f, st, err := openRegular(dirfd, name, unix.O_RDONLY)
	if err != nil {
		return lockData{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLockFile))
	if err != nil {
		return lockData{}, err
	}
	d := parseLock(data)
	d.Refreshed = time.Unix(st.Mtim.Unix())
	d.isLock = st.Size <= maxLockFile && (len(data) == 0 || bytes.HasPrefix(data, []byte(lockHeader)))
	return d, nil
}

// ReadLock tells who holds the lock of the maildrop in dir. ok is false when
// there is no lock file. A lock file is reported even when it is stale; its
// Refreshed time tells how long ago its holder was last seen. Something
// other than a regular file in its place (a FIFO, a link) is reported with
// an Owner saying what it is: the next session removes it.
func ReadLock(dir string) (info LockInfo, ok bool, err error) {
	root, err := openDirPath(dir, false)
	if errors.Is(err, unix.ENOENT) {
		return LockInfo{}, false, nil
	}
	if err != nil {
		return LockInfo{}, false, fmt.Errorf("maildir: reading lock: %w", err)
	}
	defer unix.Close(root)
	d, err := readLockAt(root, lockName)
	var nr errNotRegular
	switch {
	case errors.Is(err, unix.ENOENT):
		return LockInfo{}, false, nil
	case errors.As(err, &nr):
		return LockInfo{Owner: "(" + lockName + " is " + nr.Error() + ")"}, true, nil
	case err != nil:
		return LockInfo{}, false, fmt.Errorf("maildir: reading lock: %w", err)
	}
	return d.LockInfo, true, nil
}

// BreakLock removes the lock of the maildrop in dir, whoever holds it, for
// an administrator who knows better than the staleness rules. A session that
// still holds it, here or on another host, finds it gone before it changes
// anything (see the lease in the package documentation) and deletes
// nothing. It is not an error when there is no lock.
func BreakLock(dir string) error {
	root, err := openDirPath(dir, false)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("maildir: breaking lock: %w", err)
	}
	defer unix.Close(root)
	tmp := ".popd.lock.broken." + randomHex(8)
	if err := unix.Renameat(root, lockName, root, tmp); err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return fmt.Errorf("maildir: breaking lock: %w", err)
	}
	recycle(root, tmp)
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
		unix.Kill(d.PID, 0) == unix.ESRCH {
		return "holder process " + strconv.Itoa(d.PID) + " is gone"
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// errNoSpare: there is no usable spare lock file.
var errNoSpare = errors.New("no spare lock file")

// acquireLock takes the lock of the maildrop t, breaking a stale one.
func acquireLock(t *tree, opt Options) (*lockFile, error) {
	log := opt.Logger
	content := formatLock(lockData{
		LockInfo: LockInfo{Owner: opt.Owner, Host: thisHost(), PID: thisPID(), Since: time.Now()},
		pidNS:    thisPidNS(),
		token:    randomHex(16),
	})
	broke := false
	for attempt := 0; attempt < 8; attempt++ {
		start := time.Now()
		f, err := takeSpare(t.root, start)
		if errors.Is(err, errNoSpare) {
			f, err = createLock(t.root)
		}
		if err == nil {
			l, err := newLockFile(t, f, content, start, opt)
			if err != nil {
				return nil, fmt.Errorf("maildir: taking lock: %w", err)
			}
			return l, nil
		}
		if err == unix.ENOENT {
			continue // someone took the spare first; look again
		}
		if err != unix.EEXIST {
			return nil, fmt.Errorf("maildir: creating lock: %w", err)
		}
		// Held: by whom, and is it stale?
		d, err := readLockAt(t.root, lockName)
		var why string
		var nr errNotRegular
		switch {
		case errors.Is(err, unix.ENOENT):
			continue // released meanwhile
		case errors.As(err, &nr):
			why = lockName + " is " + nr.Error()
		case err != nil:
			return nil, fmt.Errorf("maildir: reading lock: %w", err)
		case !d.isLock:
			why = lockName + " is not a popd lock file"
		default:
			why = staleness(d, opt.StaleLock, time.Now())
		}
		if why == "" || broke {
			return nil, fmt.Errorf("%w (host %q pid %d since %s)", ErrLocked,
				d.Host, d.PID, d.Since.Format(time.RFC3339))
		}
		log.Info("maildir: breaking stale lock", "dir", t.path, "reason", why,
			"host", d.Host, "pid", d.PID, "owner", d.Owner)
		if !breakStale(t.root, opt.StaleLock, log) {
			return nil, fmt.Errorf("%w (it was refreshed while being broken)", ErrLocked)
		}
		if opt.StaleLockBroken != nil {
			opt.StaleLockBroken()
		}
		broke = true
	}
	return nil, fmt.Errorf("%w (too many sessions taking it at once)", ErrLocked)
}

// takeSpare takes the lock by renaming the spare lock file to the lock's
// name, after setting its mtime to now (nobody may find an old mtime on a
// fresh lock). It fails with errNoSpare when there is no usable spare,
// EEXIST when the lock is held, ENOENT when another session took the spare
// first.
func takeSpare(root int, now time.Time) (*regFile, error) {
	f, st, err := openRegular(root, spareName, unix.O_RDWR)
	if err == unix.ENOENT {
		return nil, errNoSpare
	}
	if err != nil || st.Size != lockSize {
		// Not a file popd made (or a version's of another size): drop it.
		if f != nil {
			f.Close()
		}
		unix.Unlinkat(root, spareName, 0)
		return nil, errNoSpare
	}
	if err := futimens(int(f.Fd()), now); err != nil {
		f.Close()
		return nil, err
	}
	if err := renameNoReplace(root, spareName, root, lockName); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// createLock creates the lock file, failing with EEXIST when it exists
// (O_CREAT|O_EXCL is atomic on local file systems and on NFSv3 and later).
// This is the one step that needs a free inode and block; the file is
// reused from then on (see takeSpare).
func createLock(root int) (*regFile, error) {
	fd, err := unix.Openat(root, lockName, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|fileFlags, 0o600)
	if err != nil {
		return nil, err
	}
	f := &regFile{fd: fd}
	// Written here, not only by newLockFile, so that the blocks are
	// allocated now; ENOSPC shows here.
	if _, err := f.WriteAt(spareContent, 0); err != nil {
		f.Close()
		unix.Unlinkat(root, lockName, 0)
		return nil, err
	}
	return f, nil
}

// breakStale removes a lock found stale. Between the check and the removal
// its holder may have refreshed it, or someone else broken it and taken a
// new one, so it is first renamed to a name of its own and checked again
// there; a lock that turns out live is put back. It reports whether the
// lock is gone.
func breakStale(root int, staleAfter time.Duration, log *slog.Logger) bool {
	tmp := ".popd.lock.stale." + randomHex(8)
	if err := unix.Renameat(root, lockName, root, tmp); err != nil {
		return err == unix.ENOENT
	}
	d, err := readLockAt(root, tmp)
	if err == nil && d.isLock && staleness(d, staleAfter, time.Now()) == "" {
		// Put it back, unless a new lock was taken in the meantime.
		if err := renameNoReplace(root, tmp, root, lockName); err != nil {
			log.Warn("maildir: could not restore a live lock", "err", err)
			unix.Unlinkat(root, tmp, 0)
		}
		return false
	}
	recycle(root, tmp)
	return true
}

// recycle makes the lock file renamed to name the spare, or removes it
// when it cannot be one (not a regular file of the right size, or there is
// a spare already).
func recycle(root int, name string) {
	if f, st, err := openRegular(root, name, unix.O_WRONLY); err == nil {
		ok := st.Size == lockSize
		if ok {
			recycleFile(root, name, f)
		}
		f.Close()
		if ok {
			return
		}
	}
	removeLockName(root, name)
}

// recycleFile is recycle of a lock file known to be f, a lock popd made
// (of lockSize) and opened for writing: it becomes the spare, or is
// removed.
func recycleFile(root int, name string, f *regFile) {
	if _, err := f.WriteAt(spareContent, 0); err == nil && renameNoReplace(root, name, root, spareName) == nil {
		return
	}
	removeLockName(root, name)
}

// removeLockName removes what is at name in the maildir root.
func removeLockName(root int, name string) {
	if err := unix.Unlinkat(root, name, 0); err == unix.EISDIR {
		unix.Unlinkat(root, name, unix.AT_REMOVEDIR) // an empty one; else it stays, harmless
	}
}
