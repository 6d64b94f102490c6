package maildir

import (
	"bufio"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The files popd keeps in a maildir root (the sizes cache, popd-uidls):
// replacing them, removing what killed writers left, and logging failures
// once.

// durability is how much replaceFile syncs.
type durability int

const (
	syncNone durability = iota // a cache that is checked when read
	syncFile                   // the file is synced before it is renamed
	syncDir                    // and the directory after: durable on return
)

// replaceFile replaces name in the directory root atomically with what
// write writes: a temporary file (prefix + random + ".tmp"), renamed over
// name, synced as sync says.
func replaceFile(root int, prefix, name string, sync durability, write func(w *bufio.Writer)) (err error) {
	tmp := prefix + randomHex(8) + ".tmp"
	fd, err := unix.Openat(root, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|fileFlags, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), tmp)
	defer func() {
		if err != nil {
			f.Close()
			unix.Unlinkat(root, tmp, 0)
		}
	}()
	w := bufio.NewWriterSize(f, 64<<10)
	write(w)
	if err := w.Flush(); err != nil {
		return err
	}
	if sync >= syncFile {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := unix.Renameat(root, tmp, root, name); err != nil {
		return err
	}
	if sync >= syncDir {
		return unix.Fsync(root)
	}
	return nil
}

// removeTemps removes the temporary files of cache writers and lock
// breakers that were killed before they renamed or removed them. Only the
// lock holder writes the cache, so a temporary file it did not make is
// left over.
func removeTemps(root int) {
	for _, name := range listNames(root) {
		temp := (strings.HasPrefix(name, cacheTemp) || strings.HasPrefix(name, memoryTemp) ||
			strings.HasPrefix(name, indexTemp)) && strings.HasSuffix(name, ".tmp")
		if !temp && !(strings.HasPrefix(name, ".popd.lock.") && name != spareName) {
			continue
		}
		// Not one that a live process made a moment ago (another node
		// breaking a lock renames it for an instant).
		var st unix.Stat_t
		if unix.Fstatat(root, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil &&
			time.Since(time.Unix(st.Mtim.Unix())) > tempAge {
			unix.Unlinkat(root, name, 0)
		}
	}
}

// tempAge is the age of a temporary file in a maildir root past which it
// was left by a process that was killed.
const tempAge = time.Minute

// onceLog logs a failure per key at warning level once, and again only
// after a success or a different failure; repeats go to debug level.
type onceLog struct{ last sync.Map } // key -> error text

func (o *onceLog) report(log *slog.Logger, key, msg string, err error) {
	if err == nil {
		o.last.Delete(key)
		return
	}
	// Compared by the innermost error: "no space left on device", without
	// the name of a temporary file that differs each time.
	root := err
	for u := errors.Unwrap(root); u != nil; u = errors.Unwrap(root) {
		root = u
	}
	if prev, ok := o.last.Swap(key, root.Error()); ok && prev == root.Error() {
		log.Debug(msg, "dir", key, "err", err, "repeated", true)
		return
	}
	log.Warn(msg+" (logged once until it changes)", "dir", key, "err", err)
}

// parseCounted parses rest, line by line with parse, up to a last line
// "end <n>" where n is the number of lines before it, so that a truncated
// file is seen. parse gets the lines parsed so far; ok is false when a
// line does not parse or the end is missing or wrong.
func parseCounted[T any](rest string, parse func(line string, before []T) (T, bool)) ([]T, bool) {
	out := make([]T, 0, strings.Count(rest, "\n"))
	for {
		nl := strings.IndexByte(rest, '\n')
		if nl < 0 {
			return nil, false // no "end" line
		}
		line := rest[:nl]
		rest = rest[nl+1:]
		if n, ok := strings.CutPrefix(line, "end "); ok {
			return out, rest == "" && strconv.Itoa(len(out)) == n
		}
		v, ok := parse(line, out)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
}
