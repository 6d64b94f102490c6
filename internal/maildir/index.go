package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The listing index. Opening a maildrop of 100,000 messages lists new/ and
// cur/ (getdents), sorts the names, reads the sizes cache and the UIDL
// sources, and that is most of a session that only asks UIDL. popd-index in
// the maildir root keeps what the last Open made of it all: every message in
// list order with its folder, file name, sizes and UIDL. An Open that finds
// the folders and the UIDL sources as the index says they were takes the list
// from it and reads nothing else.
//
// Validity. A change of a directory's entries (a delivery, a deletion, a
// rename) sets its mtime and ctime to the file system's current time, and
// ctime cannot be set back by anyone but the clock. So the index records,
// for new/ and cur/ and for each of dovecot-uidlist and courierpop3dsizelist,
// device, inode, size, mtime and ctime (nanoseconds), and is used only when
// all are the same now. Timestamps are coarse (a few milliseconds): a change
// made in the same tick as the one before the listing would leave them as
// they were, so an index is written only when every recorded time is more
// than a second older than the listing (the lock file's creation, just
// before, tells the file system's time). popd-uidls is written only by the
// holder of the lock, so its stamp is taken after this session wrote it.
// The options that decide UIDLs (the control directory, pop3-uidl-format)
// are recorded as well.
//
// The file is in the user's maildir: it is read only when it is a regular
// file of at most maxCache bytes, and an entry must be what a directory
// could list (no "/", no NUL, no leading "."), with a valid UIDL and sizes
// that can be true. A user who writes a false index can only hide or
// misname their own messages; the octets sent are checked against the
// announced size as always, and a hard link to another owner's file is
// refused at open as always.
// indexMin is the number of messages from which a maildrop gets an index:
// a smaller one is listed in well under a millisecond, and a session that
// changes it would write an index for nothing.
var indexMin = 1000

const (
	indexName   = "popd-index"
	indexHeader = "popd-index 1\n"
	indexTemp   = ".popd-index-" // + random + ".tmp"
)

// stamp is what an index knows of a directory or file: all zero when the
// file does not exist.
type stamp struct {
	dev, ino, size uint64
	mtime, ctime   int64 // nanoseconds
}

func stampOf(st *unix.Stat_t) stamp {
	return stamp{uint64(st.Dev), uint64(st.Ino), uint64(st.Size),
		st.Mtim.Nano(), st.Ctim.Nano()}
}

// settled reports whether s was last changed more than a second before now
// (nanoseconds, the file system's clock): a later change cannot leave it as
// it is.
func (s stamp) settled(now int64) bool {
	return s == stamp{} || s.mtime < now-1e9 && s.ctime < now-1e9
}

func (s stamp) String() string {
	return fmt.Sprintf("%d %d %d %d %d", s.dev, s.ino, s.size, s.mtime, s.ctime)
}

// stamps are what an index is valid for.
type stamps struct {
	options string
	folder  [2]stamp // by folder: cur, new
	dovecot stamp    // dovecot-uidlist
	courier stamp    // courierpop3dsizelist
	memory  stamp    // popd-uidls
}

// lines is the header of an index file.
func (s *stamps) lines() string {
	return indexHeader + "options " + strconv.Quote(s.options) + "\n" +
		"cur " + s.folder[folderCur].String() + "\n" +
		"new " + s.folder[folderNew].String() + "\n" +
		"dovecot " + s.dovecot.String() + "\n" +
		"courier " + s.courier.String() + "\n" +
		"memory " + s.memory.String() + "\n"
}

// takeStamps stats the folders and the UIDL sources of t. ok is false when
// one could not be stat'ed (other than not existing).
func takeStamps(t *tree, opt Options) (s stamps, ok bool) {
	s.options = opt.Control + "\x00" + opt.UIDLFormat
	for f, fd := range t.folder {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil {
			return s, false
		}
		s.folder[f] = stampOf(&st)
	}
	file := func(dirfd int, name string) (stamp, bool) {
		var st unix.Stat_t
		switch err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err {
		case nil:
			return stampOf(&st), true
		case unix.ENOENT:
			return stamp{}, true
		}
		return stamp{}, false
	}
	dir, done, err := controlDir(t, opt)
	if err != nil {
		return s, false
	}
	defer done()
	var ok1, ok2, ok3 bool
	if dir >= 0 {
		s.dovecot, ok1 = file(dir, "dovecot-uidlist")
	} else {
		ok1 = true
	}
	s.courier, ok2 = file(t.root, courierListName)
	s.memory, ok3 = file(t.root, memoryName)
	return s, ok1 && ok2 && ok3
}

// settled reports whether what others write (the folders, Dovecot's and
// Courier's lists) was last changed more than a second before now.
func (s *stamps) settled(now int64) bool {
	return s.folder[folderCur].settled(now) && s.folder[folderNew].settled(now) &&
		s.dovecot.settled(now) && s.courier.settled(now)
}

// indexable reports whether message i can be an index line.
func indexable(msg *message) bool {
	n := msg.name
	return n != "" && n[0] != '.' && !strings.ContainsAny(n, "/\x00\n") && validUID(msg.uid) &&
		!msg.deleted && !msg.vanished
}

// writeIndex replaces the index with msgs, valid for s. Messages whose size
// changed while open have no sizes in it.
func writeIndex(root int, s *stamps, msgs []message) error {
	return replaceFile(root, indexTemp, indexName, syncNone, func(w *bufio.Writer) {
		w.WriteString(s.lines())
		var b []byte
		for i := range msgs {
			msg := &msgs[i]
			raw, size := msg.raw, msg.size
			if msg.changed || raw < 0 || size < 0 {
				raw, size = -1, -1
			}
			b = append(b[:0], "nc"[msg.folder^1], byte('0'+msg.from), ' ')
			for _, n := range [...]int64{raw, size, msg.rawName, msg.wName} {
				b = strconv.AppendInt(b, n, 10)
				b = append(b, ' ')
			}
			if msg.uid == msg.base {
				b = append(b, '=')
			} else {
				b = append(b, msg.uid...)
			}
			b = append(b, ' ')
			b = append(b, msg.name...)
			b = append(b, '\n')
			w.Write(b)
		}
		w.WriteString("end " + strconv.Itoa(len(msgs)) + "\n")
	})
}

var errIndexCorrupt = errors.New("maildir: popd-index is corrupt")

// readIndex returns the messages of the index in t's root, and the stamps
// it is valid for, when they are those of now; nil when there is no index
// or it is stale.
func readIndex(t *tree, opt Options) ([]message, *stamps, error) {
	f, st, err := openRegular(t.root, indexName, unix.O_RDONLY)
	if err == unix.ENOENT {
		return nil, nil, nil // most maildrops: too small for one
	}
	if err != nil {
		return nil, nil, fmt.Errorf("maildir: reading %s: %w", indexName, err)
	}
	defer f.Close()
	if st.Size > maxCache {
		return nil, nil, fmt.Errorf("maildir: %s is too large (%d bytes)", indexName, st.Size)
	}
	now, ok := takeStamps(t, opt)
	if !ok {
		return nil, nil, nil
	}
	head := now.lines()
	buf := make([]byte, len(head))
	if _, err := io.ReadFull(f, buf); err != nil || string(buf) != head {
		return nil, nil, nil // for other folders or sources: stale
	}
	var b strings.Builder
	b.Grow(int(st.Size) - len(head) + 1)
	if _, err := io.Copy(&b, io.LimitReader(f, maxCache)); err != nil {
		return nil, nil, fmt.Errorf("maildir: reading %s: %w", indexName, err)
	}
	msgs, err := parseIndex(b.String())
	if err != nil {
		return nil, nil, err
	}
	return msgs, &now, nil
}

// parseIndex parses the lines of an index after its header.
func parseIndex(rest string) ([]message, error) {
	msgs, ok := parseCounted(rest, func(line string, _ []message) (message, bool) {
		return parseIndexLine(line)
	})
	if !ok {
		return nil, errIndexCorrupt
	}
	return msgs, nil
}

// parseIndexLine parses "<n|c><from> <raw> <size> <S> <W> <uid|=> <name>".
func parseIndexLine(line string) (message, bool) {
	var msg message
	if len(line) < 3 || line[2] != ' ' || line[1] < '0' || line[1] > '0'+byte(fromCourier) {
		return msg, false
	}
	switch line[0] {
	case 'n':
		msg.folder = folderNew
	case 'c':
		msg.folder = folderCur
	default:
		return msg, false
	}
	msg.from = uidlSource(line[1] - '0')
	rest := line[3:]
	var nums [4]int64
	for k := range nums {
		field, r, ok := strings.Cut(rest, " ")
		n, err := strconv.ParseInt(field, 10, 64)
		if !ok || err != nil || n < -1 {
			return msg, false
		}
		nums[k], rest = n, r
	}
	msg.raw, msg.size, msg.rawName, msg.wName = nums[0], nums[1], nums[2], nums[3]
	if !(msg.raw == -1 && msg.size == -1 ||
		msg.raw >= 0 && msg.raw <= maxRaw && msg.size >= msg.raw && msg.size <= 2*msg.raw+2) {
		return msg, false
	}
	uid, name, ok := strings.Cut(rest, " ")
	if !ok {
		return msg, false
	}
	msg.name, msg.base = name, baseName(name)
	if uid == "=" {
		uid = msg.base
	}
	msg.uid = uid
	return msg, indexable(&msg)
}
