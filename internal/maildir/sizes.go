package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// cacheName is the sizes cache in the maildir root. Each line after the
// header is "<raw size> <network size> <base name>"; the last line is
// "end <number of entries>", so that a truncated file is seen as corrupt.
// Maildir files never change, so the base name is the key; the raw size
// lets a changed file be detected (from a Dovecot ",S=" in the name at Open,
// from fstat when the message is opened).
//
// The file is in the user's maildir and may be anything: it is read only
// when it is a regular file (no FIFO, no link), at most maxCache bytes, and
// an entry is believed only when its sizes can be true (see parseCache).
// Base names that are empty or held by two files of the list are never in
// it. Even so, an entry can be wrong and well-formed: the reader from Open
// checks the octets it yields against the size announced.
const (
	cacheName   = "popd-sizes"
	cacheHeader = "popd-sizes 1\n"
	cacheTemp   = ".popd-sizes-" // + random + ".tmp"
	// maxCache bounds what is read of the cache: about 10 million entries.
	maxCache = 1 << 30
	// maxRaw bounds a message's size in the cache (1 TiB), so that no sum
	// of sizes overflows.
	maxRaw = 1 << 40
)

type cacheLine struct {
	base      string
	raw, size int64
	key       baseKey // of base; not written
}

// parseCache parses the content of a sizes cache file. The lines are in
// delivery order (compareBases), without duplicates: they are written in the
// order of the list.
func parseCache(s string) ([]cacheLine, error) {
	corrupt := errors.New("maildir: sizes cache is corrupt")
	rest, ok := strings.CutPrefix(s, cacheHeader)
	if !ok {
		return nil, corrupt
	}
	lines, ok := parseCounted(rest, func(line string, before []cacheLine) (cacheLine, bool) {
		rawS, line, ok1 := strings.Cut(line, " ")
		sizeS, base, ok2 := strings.Cut(line, " ")
		raw, err1 := strconv.ParseInt(rawS, 10, 64)
		size, err2 := strconv.ParseInt(sizeS, 10, 64)
		// RFC 1939 network form adds at most a CR per LF and a final
		// CRLF: size is in [raw, 2*raw+2].
		if !ok1 || !ok2 || err1 != nil || err2 != nil || raw < 0 || raw > maxRaw ||
			size < raw || size > 2*raw+2 || base == "" {
			return cacheLine{}, false
		}
		l := cacheLine{base: base, raw: raw, size: size, key: keyOf(base)}
		if n := len(before); n > 0 {
			c := before[n-1].key.compare(l.key)
			if c == 0 {
				c = compareBases(before[n-1].base, base)
			}
			if c >= 0 {
				return l, false // out of order
			}
		}
		return l, true
	})
	if !ok {
		return nil, corrupt
	}
	return lines, nil
}

// readCache reads the sizes cache in the maildir root; it is nil when
// there is none.
func readCache(root int) ([]cacheLine, error) {
	f, st, err := openRegular(root, cacheName, unix.O_RDONLY)
	if err == unix.ENOENT {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("maildir: reading sizes cache: %w", err)
	}
	defer f.Close()
	if st.Size > maxCache {
		return nil, fmt.Errorf("maildir: sizes cache is too large (%d bytes)", st.Size)
	}
	// Into a strings.Builder: the lines' base names are substrings of it,
	// without copying 100,000 of them.
	var b strings.Builder
	b.Grow(int(st.Size) + 1)
	if _, err := io.Copy(&b, io.LimitReader(f, maxCache)); err != nil {
		return nil, fmt.Errorf("maildir: reading sizes cache: %w", err)
	}
	return parseCache(b.String())
}

// applyCache gives the messages of the sorted list the sizes that the cache
// lines have for them, walking both in order. It reports whether the cache
// has lines to drop: for messages that are gone, or that are not what the
// line says.
func applyCache(msgs []message, keys []sortKey, lines []cacheLine) (dirty bool) {
	p, used := 0, -1
	for j := range msgs {
		msg := &msgs[j]
		if !cacheable(msgs, j) {
			continue
		}
		c := 1
		for ; p < len(lines); p++ {
			c = lines[p].key.compare(keys[j].baseKey)
			if c == 0 && lines[p].base != msg.base {
				c = compareBases(lines[p].base, msg.base)
			}
			if c >= 0 {
				break
			}
			if p != used {
				dirty = true // a line for a message that is gone
			}
		}
		if c != 0 {
			// Not in the cache. Not a reason to write it: only a size
			// computed later can be added, and computeSizes says so.
			// (It was, and a session that asks for no size, login and
			// QUIT, rewrote the cache each time, fsync and all.)
			continue
		}
		l := &lines[p]
		if msg.rawName >= 0 && msg.rawName != l.raw {
			dirty = true // the name says the file is not what was cached
			continue
		}
		msg.raw, msg.size = l.raw, l.size
		used = p
	}
	if len(lines) > 0 && used != len(lines)-1 {
		dirty = true
	}
	return dirty
}

// computeSizes computes the sizes of the messages that have none yet, in
// parallel, and has the cache written. It returns the errors other than a
// vanished message, by message index. m.mu is held.
func (m *Mailbox) computeSizes() map[int]error {
	var todo []int
	for i := range m.msgs {
		if msg := &m.msgs[i]; msg.size < 0 && !msg.vanished && !msg.deleted {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	size := func(i int, buf []byte) error {
		msg := &m.msgs[i]
		m.fileReads.Add(1)
		raw, size, err := sizeFile(m.t, msg.folder, msg.name, buf, msg.rawName, msg.wName)
		if err != nil {
			return &fs.PathError{Op: "read", Path: m.path(i), Err: err}
		}
		msg.raw, msg.size = raw, size
		return nil
	}

	errs := make([]error, len(todo))
	workers := min(len(todo), max(4, 2*runtime.GOMAXPROCS(0)), 16)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			for {
				k := int(next.Add(1) - 1)
				if k >= len(todo) {
					return
				}
				// Each worker writes only the messages it took.
				errs[k] = size(todo[k], buf)
			}
		})
	}
	wg.Wait()

	// Files that are not where they were: another program may have moved
	// them (new/X to cur/X:2,S), or deleted them.
	var locs locations
	var failed map[int]error
	buf := make([]byte, 64<<10)
	for k, err := range errs {
		i := todo[k]
		if errors.Is(err, fs.ErrNotExist) {
			if locs == nil {
				var lerr error
				locs, lerr = readLocations(m.t)
				if lerr != nil {
					m.log.Warn("maildir: looking for moved messages", "err", lerr)
				}
			}
			if m.relocate(i, locs) {
				err = size(i, buf)
			}
			if errors.Is(err, fs.ErrNotExist) {
				m.msgs[i].vanished = true
				continue
			}
		}
		if err != nil {
			if failed == nil {
				failed = make(map[int]error)
			}
			failed[i] = fmt.Errorf("maildir: %w", err)
		}
	}
	for _, i := range todo {
		if m.msgs[i].size >= 0 && cacheable(m.msgs, i) {
			m.cacheDirty = true
			break
		}
	}
	m.saveCache()
	return failed
}

// cacheable reports whether message i can have a cache entry: not when its
// base name is empty or has a newline (no line could hold it), nor when
// another file of the list has the same base name (one entry cannot be the
// size of both). Those are counted in every session, and never make the
// cache be rewritten.
func cacheable(msgs []message, i int) bool {
	b := msgs[i].base
	return b != "" && strings.IndexByte(b, '\n') < 0 && !shared(msgs, i)
}

// sizeFile reads the file name in the directory dirfd and returns its raw
// size and its size in network form. It uses the system calls directly: an
// os.File costs more than the four calls it takes for a small message.
//
// With Dovecot's sizes for the file (S: raw, W: with CRLF line endings),
// when the file's size is S it reads only its last octet: W does not count
// the CRLF added to a last line without one. File names are as untrusted
// as the cache, so W is used only when it can be true (S <= W <= 2S).
func sizeFile(t *tree, f folder, name string, buf []byte, hintRaw, hintW int64) (raw, size int64, err error) {
	fd, st, err := openFd(t.folder[f], name, unix.O_RDONLY)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(fd)
	if err := t.checkLinks(&st); err != nil {
		return 0, 0, err
	}
	if hintRaw >= 0 && st.Size == hintRaw && hintW >= hintRaw && hintW <= 2*hintRaw {
		if st.Size == 0 {
			return 0, 0, nil
		}
		n, err := unix.Pread(fd, buf[:1], st.Size-1)
		if err == nil && n == 1 {
			if buf[0] != '\n' {
				hintW += 2
			}
			return st.Size, hintW, nil
		}
	}
	var c sizeCounter
	if _, err := io.CopyBuffer(&c, fdReader(fd), buf); err != nil {
		return 0, 0, err
	}
	return c.raw, c.Size(), nil
}

// saveCache has the sizes cache written in the background, if it needs to
// be, and the index (index.go) when it is stale or has sizes to learn.
// m.mu is held.
func (m *Mailbox) saveCache() {
	if m.closed || !m.cacheDirty && !m.indexStale {
		return
	}
	var lines []cacheLine
	if m.cacheDirty {
		lines = m.cacheLines()
	}
	var index *indexJob
	if m.stamps != nil {
		index = &indexJob{m.stamps, slices.Clone(m.msgs)}
	}
	m.cacheDirty, m.indexStale = false, false
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	if lines != nil {
		m.cachePending = lines
	}
	if index != nil {
		m.indexPending = index
	}
	if m.cacheWriting {
		return // the running writer will take them
	}
	m.cacheWriting = true
	m.cacheWG.Go(m.cacheWriter)
}

// indexJob is an index to write: the list as it is, for the stamps of
// when it was made.
type indexJob struct {
	stamps *stamps
	msgs   []message
}

// cacheLines are the lines of the sizes cache for the list. m.mu is held.
func (m *Mailbox) cacheLines() []cacheLine {
	lines := make([]cacheLine, 0, len(m.msgs))
	for i := range m.msgs {
		msg := &m.msgs[i]
		if msg.size < 0 || msg.raw < 0 || msg.deleted || msg.vanished || msg.changed || !cacheable(m.msgs, i) {
			continue
		}
		lines = append(lines, cacheLine{base: msg.base, raw: msg.raw, size: msg.size})
	}
	// The file is in delivery order; the list may be in Dovecot's (or,
	// from the index, in an order not known here).
	if m.src == nil || m.src.dovecot != nil {
		for i := range lines {
			lines[i].key = keyOf(lines[i].base)
		}
		slices.SortFunc(lines, func(a, b cacheLine) int {
			if c := a.key.compare(b.key); c != 0 {
				return c
			}
			return compareBases(a.base, b.base)
		})
	}
	return lines
}

// cacheWriter writes the pending cache contents and index until there
// are none.
func (m *Mailbox) cacheWriter() {
	for {
		m.cacheMu.Lock()
		lines, index := m.cachePending, m.indexPending
		m.cachePending, m.indexPending = nil, nil
		if lines == nil && index == nil {
			m.cacheWriting = false
			m.cacheMu.Unlock()
			return
		}
		m.cacheMu.Unlock()
		if lines != nil {
			err := writeCache(m.t.root, lines)
			cacheErrors.report(m.log, m.dir, "maildir: writing sizes cache", err)
		}
		if index != nil {
			err := writeIndex(m.t.root, index.stamps, index.msgs)
			indexErrors.report(m.log, m.dir, "maildir: writing "+indexName, err)
		}
	}
}

// writeCache replaces the cache file atomically: a temporary file in the
// maildir root, synced, renamed over the old one. Temporary files left by a
// writer that was killed are removed first.
func writeCache(root int, lines []cacheLine) error {
	removeTemps(root)
	return replaceFile(root, cacheTemp, cacheName, syncFile, func(w *bufio.Writer) {
		w.WriteString(cacheHeader)
		var num []byte
		for _, l := range lines {
			num = strconv.AppendInt(num[:0], l.raw, 10)
			num = append(num, ' ')
			num = strconv.AppendInt(num, l.size, 10)
			num = append(num, ' ')
			w.Write(num)
			w.WriteString(l.base)
			w.WriteByte('\n')
		}
		w.WriteString("end " + strconv.Itoa(len(lines)) + "\n")
	})
}

// cacheErrors remembers the last cache-write failure of each maildir, so
// that a full disk or a quota is logged once, not at every session.
var cacheErrors, indexErrors onceLog
