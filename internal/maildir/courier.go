package maildir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// UIDLs of Courier's pop3d and of qmail-pop3d, for maildrops they served
// (see uidmap.go for how they are used). What is here mirrors courier-libs'
// imap/pop3dserver.C (github.com/svarshavchik/courier-libs, 2013-2026; the
// file was pop3dserver.c before 2022) and qmail-pop3d.c of qmail 1.03 /
// netqmail / notqmail, byte for byte where their files exist.
//
// Courier's pop3d, on login, moves new/X to cur/X:2, (maildir_getnew in
// maildir/maildirgetnew.c), lists cur/ (scancur) and matches the files with
// courierpop3dsizelist in its maildir root (readpop3dlist, sortmsgs). A file
// on the list keeps the size and the uid recorded there; any other file
// gets the list's next uid and the current time as uidvalidity, and the list
// is rewritten (savepop3dlist). print_uidl then shows
//
//	UID<n>-<uidv>   when the entry's uid n is not 0 and its uidv is not 0,
//	UID<n>          when n is not 0 and uidv is 0,
//	the file name   when n is 0 ("VERSION 0 UIDL", courierFallbackUIDL).
//
// Uid 0 is in lists written by Courier before 5.0 (2018; pop3dserver.c as
// of the initial checkin, 9c45d9a): a maildir that had no list at all when it was
// first opened got uid 0 for the messages already there (convert_v0), so
// that their file-name UIDLs of even older versions stayed; such entries
// live on in lists rewritten since, and today's Courier still shows them as
// file names. Courier puts no bound on that form: escaping triples a byte,
// and a long file name makes a UIDL longer than RFC 1939's 70 octets, which
// Courier prints all the same. courierFallbackUIDL returns it as Courier
// prints it; whether it can be used is the caller's business (validUID).
// The "ENOMEM-..." UIDLs of print_uidl are shown only for a session that
// could not rewrite the list (a full disk) and never recorded; they are not
// mirrored.

// courierListName is Courier's list of sizes and uids in the maildir root
// (POP3DLIST in pop3dserver.C).
const courierListName = "courierpop3dsizelist"

const (
	// maxCourierList bounds what is read of courierpop3dsizelist: some
	// 3 million entries.
	maxCourierList = 256 << 20
	// courierHeaderMax is what readpop3dlist's
	// fgets(linebuf, sizeof(linebuf)-1, fp), linebuf[2048], reads at most
	// of the first line; the rest of a longer line is read as an entry.
	courierHeaderMax = 2048 - 2
	// courierLineMax is what readpop3dlist keeps of an entry line
	// (n < sizeof(linebuf)-20); the rest of a longer line is dropped.
	courierLineMax = 2048 - 20
)

// courierList is a courierpop3dsizelist as Courier's pop3d reads it.
//
// The format (savepop3dlist, LISTVERSION 3 since courier-imap 5.0.0, 2018):
//
//	/3 <next uid> <uidvalidity>
//	<file name> <size> <uid>:<uidvalidity>:<utf8>
//	...
//
// with the file name as it was in cur/, info suffix and all, and utf8 1
// when the message has 8-bit headers. Version 2, written before 5.0, has
// the same header and "<file name> <size> <uid>:<uidvalidity>" lines.
// readpop3dlist reads both since 5.0.3 (the version 2 lines as if ":0"
// followed, so that a line that lacks the uidvalidity is dropped) and
// refuses any other version (and the headerless version 0 and version 1
// lists that Courier read before 5.0). The uidvalidity is per entry: the one in the
// header is what Courier would give to messages not on the list.
type courierList struct {
	version int
	// uidValidity is the header's, the one Courier gives to messages not
	// on the list; 0 when the header has none (Courier then uses the
	// current time).
	uidValidity uint64
	// entries are the usable lines by base name (the file name up to the
	// first ':'). Courier matches a file with an entry when both have the
	// same base name and both or neither have a ':' (msglist::operator<);
	// here the base name is enough, so that a message renamed from cur/X to
	// cur/X:2,S (by an IMAP server) since Courier listed it keeps the UIDL
	// its clients know, where Courier would have given it a new one. Of
	// two lines with the same base name the first is kept (Courier's
	// std::sort leaves it unspecified which one it uses).
	entries map[string]courierEntry
}

// courierEntry is what courierpop3dsizelist says of one message.
type courierEntry struct {
	uidl string // exactly what Courier's UIDL command prints for it
	// size is Courier's LIST size for the message (calcsize): its octets
	// with each LF counted as CRLF, plus 2 when the last line has no LF.
	// That is popd's network size for a message without CR octets, and
	// more than it (a CR CR LF counted for each CR LF) otherwise; -1 when
	// it does not fit in an int64 (a list that can only be hostile).
	size int64
}

var errCourierHeader = errors.New("maildir: " + courierListName + " has no valid header")

// parseCourierList parses the content of a courierpop3dsizelist as
// readpop3dlist does (unsigned long is 64 bits, as on every LP64 system).
// A header that Courier would refuse is an error: Courier then ignores the
// whole list and gives every message a new UIDL. Lines that Courier skips
// (no two spaces, an empty name, numbers that do not scan, the unterminated
// last line of a truncated file) are skipped.
func parseCourierList(data []byte) (*courierList, error) {
	// fgets: up to and including the first LF, at most courierHeaderMax.
	n := len(data)
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		n = i + 1
	}
	n = min(n, courierHeaderMax)
	if n == 0 || data[0] != '/' {
		return nil, errCourierHeader
	}
	// sscanf(linebuf+1, "%d %lu %lu", &vernum, uid, &uidv) < 2
	sc := cScanner{s: cString(data[1:n])}
	version, ok1 := sc.int()
	sc.space()
	_, ok2 := sc.ulong()
	if !ok1 || !ok2 {
		return nil, errCourierHeader
	}
	sc.space()
	uidv, _ := sc.ulong() // optional; 0 when missing
	if version != 3 && version != 2 {
		return nil, fmt.Errorf("maildir: %s has version %d, not 2 or 3", courierListName, version)
	}
	l := &courierList{version: int(version), uidValidity: uidv, entries: make(map[string]courierEntry)}
	for rest := data[n:]; ; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break // getc reached EOF: a last line without LF is not used
		}
		line := rest[:min(i, courierLineMax)]
		rest = rest[i+1:]
		name, e, ok := parseCourierLine(cString(line))
		if !ok {
			continue
		}
		if _, dup := l.entries[baseName(name)]; !dup {
			l.entries[baseName(name)] = e
		}
	}
	return l, nil
}

// parseCourierLine parses an entry line (cut at its first NUL, as C sees
// it) as readpop3dlist does: the name is what precedes the last two
// spaces, and sscanf(p, "%lu %lu:%lu:%d", ...) must convert 4 fields of
// the rest with ":0" appended. The name returned is the part after the
// last '/', which is what msglist::operator< compares with the files
// (savepop3dlist writes none, a hostile list may); an entry whose name is
// empty there matches no file, and is dropped.
func parseCourierLine(line string) (name string, e courierEntry, ok bool) {
	p := strings.LastIndexByte(line, ' ')
	if p < 0 {
		return "", e, false
	}
	q := strings.LastIndexByte(line[:p], ' ')
	if q < 0 {
		return "", e, false
	}
	name = line[strings.LastIndexByte(line[:q], '/')+1 : q]
	if name == "" {
		return "", e, false
	}
	sc := cScanner{s: line[q+1:] + ":0"}
	size, ok1 := sc.ulong()
	sc.space()
	uid, ok2 := sc.ulong()
	ok3 := ok2 && sc.lit(':')
	uidv, ok4 := sc.ulong()
	ok5 := ok4 && sc.lit(':')
	_, ok6 := sc.int()
	if !ok1 || !ok3 || !ok5 || !ok6 {
		return "", e, false
	}
	e.size = -1
	if size <= math.MaxInt64 {
		e.size = int64(size)
	}
	switch {
	case uid == 0:
		e.uidl = courierFallbackUIDL(name)
	case uidv == 0:
		e.uidl = "UID" + strconv.FormatUint(uid, 10)
	default:
		e.uidl = "UID" + strconv.FormatUint(uid, 10) + "-" + strconv.FormatUint(uidv, 10)
	}
	return name, e, true
}

// readCourierList reads courierpop3dsizelist in the maildir root dirfd; it
// is nil when there is none. Like everything in a maildir it is read only
// when it is a regular file, and only up to maxCourierList.
func readCourierList(dirfd int) (*courierList, error) {
	f, st, err := openRegular(dirfd, courierListName, unix.O_RDONLY)
	for try := 1; err == unix.ESTALE && try < 3; try++ {
		f, st, err = openRegular(dirfd, courierListName, unix.O_RDONLY) // NFS; as openpop3dlist
	}
	if err == unix.ENOENT {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("maildir: reading %s: %w", courierListName, err)
	}
	defer f.Close()
	if st.Size > maxCourierList {
		return nil, fmt.Errorf("maildir: %s is too large (%d bytes)", courierListName, st.Size)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCourierList+1))
	if err != nil {
		return nil, fmt.Errorf("maildir: reading %s: %w", courierListName, err)
	}
	if len(data) > maxCourierList {
		return nil, fmt.Errorf("maildir: %s is too large", courierListName)
	}
	return parseCourierList(data)
}

// courierFallbackUIDL is what Courier's pop3d prints for a message whose
// list entry has uid 0 (print_uidl, "VERSION 0 UIDL"); before 5.0 also for
// every message of a maildir that had no list yet. (A message that is not
// on the list gets a new uid instead, see above.) filename may have a
// folder ("cur/") and an info suffix: the name after the last '/' and up
// to the first ':' (MDIRSEP, but "!" in Cygwin builds) is printed with
// every octet outside 0x21-0x7E and every apostrophe, double quote and
// plus sign as "+XX", two upper-case hex digits. The result is not
// bounded in length.
func courierFallbackUIDL(filename string) string {
	name := baseName(filename[strings.LastIndexByte(filename, '/')+1:])
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		// *p < 0x21 || *p > 0x7E on a signed or unsigned char alike.
		if c := name[i]; c < 0x21 || c > 0x7e || c == '\'' || c == '"' || c == '+' {
			const hex = "0123456789ABCDEF"
			b.WriteByte('+')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// qmailUIDL is what qmail-pop3d prints for a message file name (printfn in
// qmail-pop3d.c: the name after "new/" or "cur/", up to the first ':' or
// its end, as it is). filename may have a folder: the part after the last
// '/' is used. Nothing is escaped or bounded, so the result can be empty,
// longer than 70 octets or hold octets that RFC 1939 does not allow.
func qmailUIDL(filename string) string {
	return baseName(filename[strings.LastIndexByte(filename, '/')+1:])
}

// cString is b as C string functions see it: up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// cScanner does the few conversions of glibc's sscanf that readpop3dlist
// uses, on a C string.
type cScanner struct{ s string }

// space skips what isspace() is true for in the C locale: a ' ' in a
// scanf format, and what %d and %lu skip first.
func (c *cScanner) space() {
	for c.s != "" && (c.s[0] == ' ' || '\t' <= c.s[0] && c.s[0] <= '\r') {
		c.s = c.s[1:]
	}
}

// lit matches a literal octet of the format.
func (c *cScanner) lit(b byte) bool {
	if c.s == "" || c.s[0] != b {
		return false
	}
	c.s = c.s[1:]
	return true
}

// number scans [space][+-]digits; over is true when the digits exceed
// 2^64-1.
func (c *cScanner) number() (neg bool, mag uint64, over, ok bool) {
	c.space()
	if c.s != "" && (c.s[0] == '+' || c.s[0] == '-') {
		neg = c.s[0] == '-'
		c.s = c.s[1:]
	}
	for c.s != "" && '0' <= c.s[0] && c.s[0] <= '9' {
		d := uint64(c.s[0] - '0')
		if over || mag > (math.MaxUint64-d)/10 {
			over = true
		} else {
			mag = mag*10 + d
		}
		ok = true
		c.s = c.s[1:]
	}
	return neg, mag, over, ok
}

// ulong is %lu: strtoul's value, negated modulo 2^64 after a '-',
// ULONG_MAX on overflow.
func (c *cScanner) ulong() (uint64, bool) {
	neg, mag, over, ok := c.number()
	switch {
	case over:
		mag = math.MaxUint64
	case neg:
		mag = -mag
	}
	return mag, ok
}

// int is %d: strtol's value (saturated at the 64-bit long's bounds)
// truncated to an int, as glibc stores it.
func (c *cScanner) int() (int32, bool) {
	neg, mag, over, ok := c.number()
	var v int64
	switch {
	case !neg && (over || mag > math.MaxInt64):
		v = math.MaxInt64
	case neg && (over || mag > 1<<63):
		v = math.MinInt64
	case neg:
		v = -int64(mag) // 1<<63 wraps to MinInt64, as it should
	default:
		v = int64(mag)
	}
	return int32(v), ok
}
