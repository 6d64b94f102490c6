package maildir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// Dovecot's dovecot-uidlist, read so that a maildrop Dovecot's POP3 served
// keeps its UIDLs and message order (issue 10). What is here mirrors
// dovecot/core (release-2.3 and 2.4.x parse the file identically):
// src/lib-storage/index/maildir/maildir-uidlist.c, maildir-mail.c,
// src/pop3/pop3-client.c and pop3-commands.c; it was checked against a
// running Dovecot 2.3.19.1 (see testdata/dovecot/README).
//
// Where the file is (maildir_uidlist_init: the mailbox's
// MAILBOX_LIST_PATH_TYPE_CONTROL path + "/dovecot-uidlist";
// maildir_list_get_path in list/mailbox-list-maildir.c): in the maildir
// root, unless the mail location has CONTROL=<dir> (2.4: mail_control_path).
// Then it is under <dir>, never in <dir> itself: <dir>/.INBOX/ for the INBOX
// of the default Maildir++ layout (the CONTROL case comes before the one for
// inbox_path), <dir>/INBOX/ with LAYOUT=fs, <dir>/.<folder>/ for a folder;
// Dovecot 2.3.19.1 with CONTROL=/c wrote /c/.INBOX/dovecot-uidlist. INDEX=
// (mail_index_path) moves dovecot.index* only, never the uidlist.
//
// The header line (maildir_uidlist_read_header) is a version digit and a
// space, then:
//
//	version 1 (also Courier's courierimapuiddb):  1 <uidvalidity> <nextuid>
//	version 3 (Dovecot 1.1 and later):            3 V<uidvalidity> N<nextuid> G<mailbox guid> [<key><value> ...]
//
// Version 2 and others are "Unsupported version". In version 3 each field is
// a key character and a value up to the next space; V and N must be decimal
// 32-bit numbers and G 32 hex digits (guid_128_from_string), other keys are
// kept and ignored (the header P, a POP3 UIDL format, is defined in
// maildir-uidlist.h but used nowhere). V or N missing or 0 is "Broken header".
//
// The records (maildir_uidlist_next) are
//
//	version 1:  <uid> <file name>
//	version 3:  <uid> [<key><value> ...] :<file name>
//
// The uid is decimal, then a space (more spaces are skipped). Extension
// fields are separated by spaces and end at a field that starts with ":";
// a field whose key is not A-Z is dropped with a complaint, an unknown A-Z
// key is kept; the file name is the rest of the line after the ":". Known
// record keys (maildir-uidlist.h): P POP3 UIDL, O POP3 order, W virtual
// (CRLF) size, S physical size, G message GUID. Dovecot writes the base name
// (maildir_uidlist_write_fd cuts at ':'); version 1 files may hold ":2,..".
//
// A line is read only with its "\n" (i_stream_read_next_line; a "\r" before
// it is dropped), so a last line without one, being appended, is not read.
//
// Dovecot calls the file broken, unlinks it and gives all messages after the
// bad line new UIDs (so new UIDLs) when: the header is bad, a line (also an
// empty one) does not start with a uid from 1 to 2^32-2 and a space, a uid
// is not greater than the one before (duplicates and disorder alike), a
// version 1 uid is not below nextuid, a version 3 record has no ":" or an
// empty file name, or a file name holds "/". parseDovecotUIDList returns an
// error for all of these, and for a NUL byte (where Dovecot's C strings
// end), rather than the part before the bad line, which the Dovecot session
// that finds it keeps: UIDLs past that line are lost with Dovecot too. The
// same base name on two lines is not broken: the later line wins and the
// earlier uid is dropped ("Duplicate file entry"); so here.
//
// Field values Dovecot tolerates are tolerated the same way: of repeated
// keys the first counts (maildir_uidlist_lookup_ext), S and W that are not
// numbers are unknown sizes, an empty G is "Corrupted dovecot-uidlist: UID
// had empty GUID" and the base name is used (maildir-mail.c), an O that is
// not a number sorts like no O (index_sort_get_pop3_order).

// maxUIDList bounds what is read of a dovecot-uidlist: some 2.5 million
// messages.
const maxUIDList = 256 << 20

type dovecotUIDList struct {
	version     int // 1 or 3
	uidValidity uint32
	nextUID     uint32
	entries     []dovecotEntry // in file order
}

type dovecotEntry struct {
	uid         uint32
	base        string // the file's base name: its name in the list up to the first ':'
	pop3UIDL    string // the P extension field
	hasPOP3UIDL bool   // P was present; an empty P means the base name (maildir_mail_get_special, MAIL_FETCH_UIDL_BACKEND)
	pop3Order   uint32 // the O extension field; 0 when absent (or 0, or not a 32-bit number: see orderKey)
	vsize, size int64  // W and S extension fields; -1 when absent or not a number
	guid        string // G extension field; "" when absent or empty

	// orderKey is what Dovecot sorts by (index_sort_get_pop3_order): the O
	// value as a 64-bit number, 2^32-1 when there is none or it is not a
	// number. So O0 comes first and O values above 2^32-1 after messages
	// without O; Dovecot itself writes only O1 and up (maildir-save.c).
	orderKey uint64
}

// errUIDList is a broken dovecot-uidlist, with the line (1 is the header).
type errUIDList struct {
	line int
	msg  string
}

func (e *errUIDList) Error() string {
	return fmt.Sprintf("maildir: dovecot-uidlist line %d: %s", e.line, e.msg)
}

// parseDovecotUIDList parses a dovecot-uidlist, version 1 or 3.
func parseDovecotUIDList(data []byte) (*dovecotUIDList, error) {
	l := &dovecotUIDList{}
	lineNo := 0
	next := func() ([]byte, bool) {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil, false // none, or not complete yet
		}
		line := data[:i]
		data = data[i+1:]
		lineNo++
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		return line, true
	}
	bad := func(format string, a ...any) error {
		return &errUIDList{line: lineNo, msg: fmt.Sprintf(format, a...)}
	}
	hdr, ok := next()
	if !ok {
		return nil, &errUIDList{line: 1, msg: "no header line"}
	}
	if err := l.parseHeader(hdr); err != nil {
		return nil, bad("%v", err)
	}
	byBase := make(map[string]int)
	dropped := 0
	var prev uint32
	for {
		line, ok := next()
		if !ok {
			break
		}
		e, err := l.parseRecord(line)
		if err != nil {
			return nil, bad("%v", err)
		}
		if e.uid <= prev {
			return nil, bad("UIDs not ordered (%d after %d)", e.uid, prev)
		}
		prev = e.uid
		if l.version == 1 && e.uid >= l.nextUID {
			return nil, bad("UID %d not below the header's next UID %d", e.uid, l.nextUID)
		}
		if i, dup := byBase[e.base]; dup {
			l.entries[i].uid = 0 // dropped: the later line wins
			dropped++
		}
		byBase[e.base] = len(l.entries)
		l.entries = append(l.entries, e)
	}
	if dropped > 0 {
		l.entries = slices.DeleteFunc(l.entries, func(e dovecotEntry) bool { return e.uid == 0 })
	}
	if l.nextUID <= prev {
		l.nextUID = prev + 1 // as maildir_uidlist_update_read
	}
	return l, nil
}

func (l *dovecotUIDList) parseHeader(line []byte) error {
	if len(line) < 2 || line[0] < '0' || line[0] > '9' || line[1] != ' ' {
		return errors.New("corrupted header (invalid version number)")
	}
	if bytes.IndexByte(line, 0) >= 0 {
		return errors.New("NUL in header")
	}
	l.version = int(line[0] - '0')
	line = line[2:]
	switch l.version {
	case 1:
		f := bytes.Fields(line)
		if len(f) != 2 {
			return errors.New("corrupted header (version 1)")
		}
		var err1, err2 error
		l.uidValidity, err1 = parseUint32(f[0])
		l.nextUID, err2 = parseUint32(f[1])
		if err1 != nil || err2 != nil {
			return errors.New("corrupted header (version 1)")
		}
	case 3:
		for len(line) > 0 {
			key := line[0]
			end := bytes.IndexByte(line[1:], ' ') + 1
			if end == 0 {
				end = len(line)
			}
			value := line[1:end]
			line = bytes.TrimLeft(line[end:], " ")
			var err error
			switch key {
			case 'V':
				l.uidValidity, err = parseUint32(value)
			case 'N':
				l.nextUID, err = parseUint32(value)
			case 'G':
				if len(value) != 32 || !isHex(value) {
					err = errors.New("not 32 hex digits")
				}
			}
			if err != nil {
				return fmt.Errorf("invalid %c in header: %q", key, value)
			}
		}
	default:
		return fmt.Errorf("unsupported version %d", l.version)
	}
	if l.uidValidity == 0 || l.nextUID == 0 {
		return fmt.Errorf("broken header (uidvalidity %d, next uid %d)", l.uidValidity, l.nextUID)
	}
	return nil
}

func (l *dovecotUIDList) parseRecord(line []byte) (dovecotEntry, error) {
	e := dovecotEntry{vsize: -1, size: -1, orderKey: math.MaxUint32}
	i := 0
	var uid uint64
	for ; i < len(line) && line[i] >= '0' && line[i] <= '9'; i++ {
		if uid = uid*10 + uint64(line[i]-'0'); uid >= math.MaxUint32 {
			return e, fmt.Errorf("UID too high (%.20s)", line)
		}
	}
	if uid == 0 || i == len(line) || line[i] != ' ' {
		return e, fmt.Errorf("invalid data: %q", trunc(line))
	}
	if bytes.IndexByte(line, 0) >= 0 {
		return e, errors.New("NUL in record")
	}
	e.uid = uint32(uid)
	rest := bytes.TrimLeft(line[i:], " ")
	if l.version == 3 {
		var seen [26]bool
		for len(rest) > 0 && rest[0] != ':' {
			end := bytes.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			if f := rest[:end]; f[0] >= 'A' && f[0] <= 'Z' && !seen[f[0]-'A'] {
				seen[f[0]-'A'] = true
				e.setExt(f[0], string(f[1:]))
			}
			rest = bytes.TrimLeft(rest[end:], " ")
		}
		if len(rest) <= 1 {
			return e, fmt.Errorf("invalid extended fields: %q", trunc(line))
		}
		rest = rest[1:]
	}
	if bytes.IndexByte(rest, '/') >= 0 {
		return e, fmt.Errorf("broken file name: %q", trunc(rest))
	}
	if i := bytes.IndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	e.base = string(rest)
	return e, nil
}

func (e *dovecotEntry) setExt(key byte, value string) {
	switch key {
	case 'P':
		e.pop3UIDL, e.hasPOP3UIDL = value, true
	case 'O':
		if n, err := strconv.ParseUint(value, 10, 64); err == nil && isDigits(value) {
			e.orderKey = n
			if n <= math.MaxUint32 {
				e.pop3Order = uint32(n)
			}
		}
	case 'W':
		e.vsize = parseSize(value)
	case 'S':
		e.size = parseSize(value)
	case 'G':
		e.guid = value
	}
}

// readDovecotUIDList reads the dovecot-uidlist name in the directory dirfd;
// it is nil when there is none.
func readDovecotUIDList(dirfd int, name string) (*dovecotUIDList, error) {
	f, st, err := openRegular(dirfd, name, unix.O_RDONLY)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("maildir: reading %s: %w", name, err)
	}
	defer f.Close()
	if st.Size > maxUIDList {
		return nil, fmt.Errorf("maildir: %s is too large (%d bytes)", name, st.Size)
	}
	var b bytes.Buffer
	b.Grow(int(st.Size) + 1)
	if _, err := b.ReadFrom(io.LimitReader(f, maxUIDList+1)); err != nil {
		return nil, fmt.Errorf("maildir: reading %s: %w", name, err)
	}
	if b.Len() > maxUIDList {
		return nil, fmt.Errorf("maildir: %s is too large", name)
	}
	return parseDovecotUIDList(b.Bytes())
}

// pop3Order returns the indexes of the entries in the order Dovecot's POP3
// numbers their messages when all of them are present: read_mailbox in
// pop3-client.c searches with pop3_sort_program, MAIL_SORT_POP3_ORDER
// (index-sort.c: ascending by orderKey) and then by sequence, that is by
// UID. Files without an entry get new UIDs, above all of these, and so
// come after them unless they are given an O.
func (l *dovecotUIDList) pop3Order() []int {
	idx := make([]int, len(l.entries))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ea, eb := &l.entries[a], &l.entries[b]
		if c := cmpUint(ea.orderKey, eb.orderKey); c != 0 {
			return c
		}
		return cmpUint(uint64(ea.uid), uint64(eb.uid))
	})
	return idx
}

// entryUIDL is the UIDL Dovecot's POP3 gives the message of entry e
// (pop3_get_uid in pop3-commands.c): a non-empty P as it is, an empty P the
// base name, else f expanded with the entry's UID, the list's UIDVALIDITY
// (which Dovecot's index takes from this file), the base name as %f
// (MAIL_FETCH_STORAGE_ID) and the G field or else the base name as %g
// (MAIL_FETCH_GUID). ok is false when f needs what is not there (%m).
// pop3_reuse_xuidl (an X-UIDL header; off by default) is not looked at,
// and neither is pop3_uidl_duplicates=rename (default allow).
func (l *dovecotUIDList) entryUIDL(e *dovecotEntry, f uidlFormat) (string, bool) {
	if e.hasPOP3UIDL {
		u := e.pop3UIDL
		if u == "" {
			u = e.base
		}
		if u != "" { // else Dovecot too falls back to the format
			return u, true
		}
	}
	guid := e.guid
	if guid == "" {
		guid = e.base
	}
	return f.expand(uidlVars{uid: e.uid, uidValidity: l.uidValidity, filename: e.base, guid: guid})
}

// parseUint32 parses a decimal number as Dovecot's str_to_uint: digits
// only, at least one, no overflow.
func parseUint32(b []byte) (uint32, error) {
	if !isDigits(string(b)) {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.ParseUint(string(b), 10, 32)
	return uint32(n), err
}

// parseSize is an S or W value, -1 when it is not a number.
func parseSize(s string) int64 {
	if !isDigits(s) {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// trunc shortens what is quoted in an error.
func trunc(b []byte) []byte {
	if len(b) > 60 {
		return b[:60]
	}
	return b
}
