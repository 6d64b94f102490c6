package maildir

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
)

// folder is where a message file is: new/ or cur/.
type folder uint8

const (
	folderCur folder = iota
	folderNew
)

func (f folder) String() string {
	if f == folderNew {
		return "new"
	}
	return "cur"
}

// message is one entry of a Mailbox's list.
type message struct {
	name string // file name, info suffix included
	base string // name up to the first ':'
	uid  string

	size    int64 // network size; -1 when not known yet
	raw     int64 // raw size the size was computed from; -1 when not known
	rawName int64 // raw size from a ",S=<n>" in the name; -1 when none

	folder   folder
	vanished bool // the file is gone (also after being searched for)
	changed  bool // the file changed after its size was taken: not cached
	from     uidlSource
	wName    int64 // Dovecot's W: network size from ",W=<n>" in the name or dovecot-uidlist; -1 when none
	deleted  bool  // unlinked by Update
}

// baseName is the name of a Maildir file up to the first ":", the part that
// stays the same when the message changes folder or flags.
func baseName(name string) string {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[:i]
	}
	return name
}

// newMessage makes the list entry of a file found in f.
func newMessage(f folder, name string) message {
	m := message{name: name, base: baseName(name), folder: f, size: -1, raw: -1, rawName: -1, wName: -1}
	// Dovecot records the file size in the name, ",S=<size>", and the
	// size with CRLF line endings, ",W=<vsize>".
	m.rawName = nameField(m.base, ",S=")
	m.wName = nameField(m.base, ",W=")
	return m
}

// nameField is the number after key (",S=") in a base name, or -1.
func nameField(base, key string) int64 {
	j := strings.Index(base, key)
	if j < 0 {
		return -1
	}
	d := base[j+len(key):]
	if k := strings.IndexByte(d, ','); k >= 0 {
		d = d[:k]
	}
	if n, err := strconv.ParseInt(d, 10, 64); err == nil && n >= 0 {
		return n
	}
	return -1
}

// deliveryTime is what a base name tells of the delivery time.
type deliveryTime struct {
	secs   string // leading decimal digits, without leading zeros
	usec   string // digits of an "M<usec>" in the unique part, without leading zeros
	hasNum bool   // the name starts with a digit
	hasM   bool   // usec was found
}

func parseDeliveryTime(base string) deliveryTime {
	var t deliveryTime
	// "<seconds>.<unique>.<host>" (maildir(5)).
	i := 0
	for i < len(base) && '0' <= base[i] && base[i] <= '9' {
		i++
	}
	if i == 0 {
		return t
	}
	t.hasNum = true
	t.secs = strings.TrimLeft(base[:i], "0")
	// Microseconds: an "M<digits>" in the unique part (djb's "M<usec>P<pid>",
	// Dovecot's "V<dev>I<ino>M<usec>P<pid>"). The other parts before M are
	// hex or decimal, so a capital M starts the microseconds.
	if i < len(base) && base[i] == '.' {
		uniq := base[i+1:]
		if j := strings.IndexByte(uniq, '.'); j >= 0 {
			uniq = uniq[:j]
		}
		if j := strings.IndexByte(uniq, 'M'); j >= 0 {
			d := uniq[j+1:]
			k := 0
			for k < len(d) && '0' <= d[k] && d[k] <= '9' {
				k++
			}
			if k > 0 {
				t.hasM = true
				t.usec = strings.TrimLeft(d[:k], "0")
			}
		}
	}
	return t
}

// cmpDigits compares two decimal numbers without leading zeros.
func cmpDigits(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// compareBases is the delivery order of base names: leading seconds, then
// M<usec> (none first), then the names themselves; names without leading
// digits after all others.
func compareBases(ab, bb string) int {
	at, bt := parseDeliveryTime(ab), parseDeliveryTime(bb)
	if at.hasNum != bt.hasNum {
		if at.hasNum {
			return -1
		}
		return 1
	}
	if at.hasNum {
		if c := cmpDigits(at.secs, bt.secs); c != 0 {
			return c
		}
		if at.hasM != bt.hasM {
			if at.hasM {
				return 1
			}
			return -1
		}
		if c := cmpDigits(at.usec, bt.usec); c != 0 {
			return c
		}
	}
	return strings.Compare(ab, bb)
}

// compareMessages is the order of the list: by base name (compareBases),
// then cur/ first, then by name, a total order.
func compareMessages(a, b *message) int {
	if c := compareBases(a.base, b.base); c != 0 {
		return c
	}
	if c := cmp.Compare(a.folder, b.folder); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

// baseKey orders base names quickly: when the keys of two names differ they
// decide as compareBases would; when they are equal compareBases decides.
type baseKey struct{ k1, k2 uint64 }

const (
	keyBigSecs = 1 << 63        // 19 digits or more: compareBases decides
	keyNoNum   = math.MaxUint64 // no leading digits: after all others
)

func (a baseKey) compare(b baseKey) int {
	if c := cmp.Compare(a.k1, b.k1); c != 0 {
		return c
	}
	return cmp.Compare(a.k2, b.k2)
}

// smallNumber is the value of up to 18 decimal digits (< 2^63).
func smallNumber(digits string) (uint64, bool) {
	if len(digits) > 18 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(digits); i++ {
		n = n*10 + uint64(digits[i]-'0')
	}
	return n, true
}

func keyOf(base string) baseKey {
	var k baseKey
	t := parseDeliveryTime(base)
	secs, ok := smallNumber(t.secs)
	switch {
	case !t.hasNum:
		k.k1 = keyNoNum
	case !ok:
		k.k1 = keyBigSecs
	default:
		k.k1 = secs
		if usec, ok := smallNumber(t.usec); t.hasM && ok {
			k.k2 = 1 + usec
		} else if t.hasM {
			k.k2 = math.MaxUint64
		}
	}
	return k
}

// sortKey is the baseKey of a message of the unsorted list.
type sortKey struct {
	baseKey
	batch, idx int32 // where the message is in the unsorted list
}

// validUID reports whether s can be a unique-id listing as it is:
// RFC 1939 §7: "The unique-id of a message is an arbitrary server-determined
// string, consisting of one to 70 characters in the range 0x21 to 0x7E".
func validUID(s string) bool {
	if len(s) < 1 || len(s) > 70 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// hashUID is the unique id made of s when s cannot be used as it is: the
// first 32 hex digits of its SHA-256.
func hashUID(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// isHashShaped reports whether s looks like a hashUID result, the only kind
// of id that can collide with an id of a different base name.
func isHashShaped(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// uidOf is the unique id of a base name, unless it is a duplicate.
func uidOf(base string) string {
	if validUID(base) {
		return base
	}
	return hashUID(base)
}

// fixDuplicateUIDs makes the ids of the sorted list unique. An id is a
// function of the base name, folder and name of the message and of the other
// names in the list, nothing else. maybeSame(j) is false when messages j-1
// and j are known to have different base names.
func fixDuplicateUIDs(msgs []message, maybeSame func(j int) bool) {
	// The same base name twice (new/X and cur/X:2,S after a crash between
	// link and unlink, or a program copying instead of moving). Such entries
	// are next to each other in the sorted list, cur/ first: the first keeps
	// the id of the base name, the others get one from folder and name.
	for j := 1; j < len(msgs); j++ {
		if maybeSame(j) && msgs[j].base == msgs[j-1].base {
			msgs[j].uid = hashUID(msgs[j].folder.String() + "/" + msgs[j].name)
		}
	}
	// Different base names can give the same id only if the id is
	// hash-shaped (a digest, or a base name that looks like one). Those are
	// few; check only them.
	rehashDuplicates(msgs, isHashShaped)
}

// rehashDuplicates gives a message whose id another message before it in
// the list has (of the ids that may collide) a digest of that id instead.
func rehashDuplicates(msgs []message, mayCollide func(uid string) bool) {
	var seen map[string]bool
	for i := range msgs {
		if !mayCollide(msgs[i].uid) {
			continue
		}
		if seen == nil {
			seen = make(map[string]bool)
		}
		for seen[msgs[i].uid] {
			msgs[i].uid = hashUID("dup/" + msgs[i].uid)
			msgs[i].from = fromName
		}
		seen[msgs[i].uid] = true
	}
}

// infoFlags splits the info suffix of a file name. ok is false when the
// name has an info suffix other than the standard ":2,FLAGS".
func infoFlags(name string) (flags string, ok bool) {
	i := strings.IndexByte(name, ':')
	if i < 0 {
		return "", true
	}
	info := name[i+1:]
	if !strings.HasPrefix(info, "2,") {
		return "", false
	}
	return info[2:], true
}

// withFlag returns the flags with f added, sorted in ASCII order and without
// duplicates (maildir(5): "Flags must be stored in ASCII order").
func withFlag(flags string, f byte) string {
	var set [256]bool
	if f != 0 {
		set[f] = true
	}
	for i := 0; i < len(flags); i++ {
		set[flags[i]] = true
	}
	var b []byte
	for c := range set {
		if set[c] {
			b = append(b, byte(c))
		}
	}
	return string(b)
}
