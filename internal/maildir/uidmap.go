package maildir

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// UIDLs of migrated maildrops. A maildrop that Dovecot or Courier served
// keeps the UIDLs their POP3 gave, so that clients which leave mail on the
// server download nothing again after the switch; and a UIDL popd has shown
// never changes afterwards, also when Dovecot, still serving IMAP or
// delivering on the same maildirs, later lists the message. A message's
// UIDL is, in this order:
//
//  1. the one popd showed before, from popd-uidls in the maildir root;
//  2. the one Dovecot's POP3 gives it, from dovecot-uidlist (in the
//     CONTROL= directory when the mail location has one): its P field, else
//     Options.UIDLFormat (pop3_uidl_format) expanded;
//  3. the one Courier's pop3d gives it, from courierpop3dsizelist;
//  4. its base name, as qmail-pop3d and popd always did (a digest when the
//     base name cannot be one).
//
// popd-uidls records every UIDL a session is about to show that it does not
// hold yet, durably (temporary file, fsync, rename, fsync of the directory)
// before Open returns, so before the client can see it. popd never writes
// Dovecot's or Courier's files. If popd-uidls is lost, messages keep the
// UIDL of steps 2-4, which for a message Dovecot (or Courier) had listed
// when popd first showed it is the same; a message popd showed first and
// Dovecot listed only later would then get Dovecot's UIDL (a client that
// keeps mail downloads it once more). If popd-uidls cannot be written (a
// full disk), the session goes on with the UIDLs of steps 2-4 and the write
// is tried again by the next session.
//
// The order (RFC 1939 message numbers) follows Dovecot's where there is a
// dovecot-uidlist: its messages first, in its POP3 order, then the others
// in delivery order.
const (
	memoryName   = "popd-uidls"
	memoryHeader = "popd-uidls 1\n"
	memoryTemp   = ".popd-uidls-" // + random + ".tmp"
	// maxForeignList bounds what is read of popd-uidls.
	maxMemory = 1 << 30
)

// uidlSource tells where a message's UIDL came from.
type uidlSource uint8

const (
	fromName    uidlSource = iota // the base name (or its digest)
	fromMemory                    // popd-uidls
	fromDovecot                   // dovecot-uidlist
	fromCourier                   // courierpop3dsizelist, or Courier's fallback
)

func (s uidlSource) String() string {
	return [...]string{"file name", "popd", "dovecot", "courier"}[s]
}

// sources are what a maildrop's UIDLs are taken from besides base names.
type sources struct {
	memory  map[string]string // base name -> UIDL shown
	dovecot *dovecotUIDList
	dovIdx  map[string]int // base name -> index in dovecot.entries
	format  uidlFormat
	courier *courierList
}

// readSources reads popd-uidls, dovecot-uidlist and courierpop3dsizelist.
// A file that cannot be read or parsed is logged and left out: it is
// never a reason to refuse a login.
func readSources(t *tree, opt Options) *sources {
	src := &sources{}
	var err error
	if src.memory, err = readMemory(t.root); err != nil {
		opt.Logger.Warn("maildir: ignoring "+memoryName, "dir", t.path, "err", err)
	}
	dir, done, err := controlDir(t, opt)
	if err != nil {
		opt.Logger.Warn("maildir: opening the control directory", "dir", opt.Control, "err", err)
	}
	defer done()
	if dir >= 0 {
		src.dovecot, err = readDovecotUIDList(dir, "dovecot-uidlist")
		if err != nil {
			opt.Logger.Warn("maildir: ignoring dovecot-uidlist", "dir", t.path, "err", err)
			src.dovecot = nil
		}
	}
	if src.dovecot != nil {
		format := opt.UIDLFormat
		if format == "" {
			format = defaultUIDLFormat
		}
		if src.format, err = parseUIDLFormat(format); err != nil {
			// Validated with the configuration; not reached.
			opt.Logger.Error("maildir: pop3-uidl-format", "err", err)
			src.dovecot = nil
		} else {
			src.dovIdx = make(map[string]int, len(src.dovecot.entries))
			for i := range src.dovecot.entries {
				if b := src.dovecot.entries[i].base; b != "" {
					if _, dup := src.dovIdx[b]; !dup {
						src.dovIdx[b] = i
					}
				}
			}
		}
	}
	if src.courier, err = readCourierList(t.root); err != nil {
		opt.Logger.Warn("maildir: ignoring "+courierListName, "dir", t.path, "err", err)
		src.courier = nil
	}
	return src
}

// controlDir opens the directory of dovecot-uidlist: the CONTROL= one when
// there is one, else the maildir root. dir is -1 when the control directory
// does not exist (err is nil then) or cannot be opened; done closes it.
func controlDir(t *tree, opt Options) (dir int, done func(), err error) {
	if opt.Control == "" {
		return t.root, func() {}, nil
	}
	fd, err := openDirPath(opt.Control, false)
	if err != nil {
		if os.IsNotExist(err) {
			err = nil
		}
		return -1, func() {}, err
	}
	return fd, func() { unix.Close(fd) }, nil
}

// uidl is the UIDL the sources give a message with base name base (steps
// 1-3 above); ok is false when none does.
func (src *sources) uidl(base string) (uidl string, from uidlSource, ok bool) {
	if u, ok := src.memory[base]; ok {
		return u, fromMemory, true
	}
	if i, ok := src.dovIdx[base]; ok {
		if u, ok := src.dovecot.entryUIDL(&src.dovecot.entries[i], src.format); ok && validUID(u) {
			return u, fromDovecot, true
		}
	}
	// Courier gives a message it has not listed a new UID at its next
	// login; no client saw one, so such a message is like any new one.
	// (Its list's entries with uid 0, from Courier before 5.0, carry the
	// escaped file name Courier showed.) A UIDL over 70 octets, which
	// Courier printed and RFC 1939 forbids, is not kept.
	if src.courier != nil {
		if e, ok := src.courier.entries[base]; ok && validUID(e.uidl) {
			return e.uidl, fromCourier, true
		}
	}
	return "", fromName, false
}

// assignUIDs gives the messages of the list (sorted, fixDuplicateUIDs
// done) the UIDLs of src, and puts them in Dovecot's order where there is
// a dovecot-uidlist. Of messages that share a base name only the first
// (the one in cur/) can have its base name's UIDL; the others keep theirs.
func assignUIDs(msgs []message, src *sources) {
	foreign := false
	for i := range msgs {
		m := &msgs[i]
		if i > 0 && msgs[i-1].base == m.base {
			continue
		}
		if u, from, ok := src.uidl(m.base); ok && u != m.uid {
			m.uid, m.from = u, from
			foreign = true
		} else if ok {
			m.from = from
		}
	}
	if foreign {
		// UIDLs from elsewhere may collide with each other or with base
		// names, not only hash-shaped ones: check them all.
		rehashDuplicates(msgs, func(string) bool { return true })
	}
	if src.dovecot == nil || len(src.dovIdx) == 0 {
		return
	}
	// Dovecot's POP3 order for the messages it lists, then the others.
	rank := make(map[string]int, len(src.dovIdx))
	for r, idx := range src.dovecot.pop3Order() {
		if b := src.dovecot.entries[idx].base; b != "" {
			if _, dup := rank[b]; !dup {
				rank[b] = r
			}
		}
	}
	key := func(m *message) int {
		if r, ok := rank[m.base]; ok {
			return r
		}
		return len(rank)
	}
	// Stable: messages Dovecot does not list, and those that share a base
	// name, keep their order (the latter stay next to each other).
	slices.SortStableFunc(msgs, func(a, b message) int { return key(&a) - key(&b) })
}

// readMemory reads popd-uidls in the maildir root; nil when there is none.
func readMemory(root int) (map[string]string, error) {
	f, st, err := openRegular(root, memoryName, unix.O_RDONLY)
	if err == unix.ENOENT {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size > maxMemory {
		return nil, fmt.Errorf("too large (%d bytes)", st.Size)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMemory))
	if err != nil {
		return nil, err
	}
	return parseMemory(string(data))
}

// parseMemory parses popd-uidls: the header, then "BASE\tUIDL" or "BASE"
// (the UIDL is the base name) lines, then "end N".
func parseMemory(s string) (map[string]string, error) {
	corrupt := fmt.Errorf("%s is corrupt", memoryName)
	rest, ok := strings.CutPrefix(s, memoryHeader)
	if !ok {
		return nil, corrupt
	}
	mem := make(map[string]string, strings.Count(rest, "\n"))
	for {
		line, more, ok := strings.Cut(rest, "\n")
		if !ok {
			return nil, corrupt // no "end" line: truncated
		}
		rest = more
		if n, ok := strings.CutPrefix(line, "end "); ok {
			if rest != "" || n != strconv.Itoa(len(mem)) {
				return nil, corrupt
			}
			return mem, nil
		}
		base, uidl, tab := strings.Cut(line, "\t")
		if !tab {
			uidl = base
		}
		if base == "" || !validUID(uidl) {
			return nil, corrupt
		}
		if _, dup := mem[base]; dup {
			return nil, corrupt
		}
		mem[base] = uidl
	}
}

// remember records in popd-uidls the UIDLs of the list that it does not
// hold yet, before the session shows them. Entries of messages no longer
// there are dropped when it is written. A failure is logged (once) and
// the session goes on; ok reports whether popd-uidls holds them all.
func (m *Mailbox) remember(src *sources) (ok bool) {
	news := 0
	for i := range m.msgs {
		msg := &m.msgs[i]
		if recordable(m.msgs, i) && src.memory[msg.base] != msg.uid {
			news++
		}
	}
	if news == 0 {
		return true
	}
	err := writeMemory(m.t.root, m.msgs)
	memoryErrors.report(m.log, m.dir, "maildir: recording UIDLs in "+memoryName, err)
	if err == nil {
		m.log.Debug("maildir: UIDLs recorded", "dir", m.dir, "new", news)
	}
	return err == nil
}

// memoryErrors: a full disk is logged once per maildir, not per session.
var memoryErrors onceLog

// recordable reports whether message i's UIDL goes into popd-uidls: not
// when its base name cannot be a line's key, nor for the second of two
// files with the same base name (its UIDL is its folder and name's digest,
// and it never moves).
func recordable(msgs []message, i int) bool {
	b := msgs[i].base
	return b != "" && !strings.ContainsAny(b, "\t\n") && (i == 0 || msgs[i-1].base != b) &&
		!msgs[i].deleted && !msgs[i].vanished
}

// writeMemory replaces popd-uidls with the UIDLs of msgs, durably.
func writeMemory(root int, msgs []message) error {
	return replaceFile(root, memoryTemp, memoryName, syncDir, func(w *bufio.Writer) {
		w.WriteString(memoryHeader)
		n := 0
		for i := range msgs {
			if !recordable(msgs, i) {
				continue
			}
			w.WriteString(msgs[i].base)
			if msgs[i].uid != msgs[i].base {
				w.WriteByte('\t')
				w.WriteString(msgs[i].uid)
			}
			w.WriteByte('\n')
			n++
		}
		w.WriteString("end " + strconv.Itoa(n) + "\n")
	})
}

// applyHints gives messages the sizes Dovecot recorded in dovecot-uidlist
// (S, W) where their names have none (see sizeFile); a message that
// shares its base name with another gets none.
func applyHints(msgs []message, src *sources) {
	if len(src.dovIdx) == 0 {
		return
	}
	for i := range msgs {
		m := &msgs[i]
		idx, ok := src.dovIdx[m.base]
		if !ok || shared(msgs, i) {
			continue
		}
		e := &src.dovecot.entries[idx]
		if m.rawName < 0 {
			m.rawName = e.size
		}
		if m.wName < 0 {
			m.wName = e.vsize
		}
	}
}

// solo is the UIDL message i would get were it alone with its base name:
// what its sources give, else its base name's.
func (m *Mailbox) solo(i int) string {
	msg := &m.msgs[i]
	if m.src == nil { // listed from the index
		m.src = readSources(m.t, m.opt)
	}
	if m.src != nil {
		if u, _, ok := m.src.uidl(msg.base); ok {
			return u
		}
	}
	return uidOf(msg.base)
}

// CheckUIDLFormat reports whether format is a pop3_uidl_format popd
// understands ("" is the default).
func CheckUIDLFormat(format string) error {
	if format == "" {
		return nil
	}
	_, err := parseUIDLFormat(format)
	return err
}
