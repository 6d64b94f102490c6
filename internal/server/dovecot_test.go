package server

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"popd/internal/testutil/dovecot"
)

// Issue 10: a site that Dovecot's POP3 served switches to popd, and no
// client that keeps mail on the server downloads anything again. The same
// users file and Maildirs are served by a real Dovecot 2.3 and by popd.

var migrationUsers = []account{
	{"dora", "dora secret", ""}, // bcrypt (BLF-CRYPT)
	{"sven", "sven secret", "SHA512-CRYPT"},
	{"pia", "pia secret", "PLAIN"},
}

// migMsg is a message put into a Maildir, known by its Message-ID.
type migMsg struct {
	id     string
	stored string // the file's content
	base   string // the file's base name (up to ":")
}

// noFinalNewline reports whether the stored message's last line lacks a
// line ending.
func (m *migMsg) noFinalNewline() bool { return !strings.HasSuffix(m.stored, "\n") }

// migMessage is message i of user: every kind of content a Maildir holds,
// and sizes from a few lines to a few KB. Its first line is its Message-ID.
func migMessage(user string, i int) *migMsg {
	id := fmt.Sprintf("<%s.%d@migration.test>", user, i)
	nl := "\n"
	if i%6 == 1 {
		nl = "\r\n"
	}
	var b strings.Builder
	b.WriteString("Message-ID: " + id + nl)
	fmt.Fprintf(&b, "From: sender%d@example.org%sTo: %s@example.net%sSubject: message %d kind %d%s", i%5, nl, user, nl, i, i%6, nl)
	if i%6 == 3 {
		b.WriteString("Content-Type: text/plain; charset=iso-8859-1" + nl + "Content-Transfer-Encoding: 8bit" + nl)
	}
	b.WriteString(nl)
	for j := range i * 7 {
		fmt.Fprintf(&b, "line %d of message %d for %s%s", j, i, user, nl)
	}
	switch i % 6 {
	case 2: // the last line has no line ending
		b.WriteString("the last line, without a line ending")
	case 3: // 8-bit, NUL-free
		b.WriteString("caf\xe9 na\xefve \xff\x80\xfe" + nl)
	case 4: // lines that need byte-stuffing, and a last line that is "."
		b.WriteString(".\n..\n.hidden\n...\nend\n.\n")
	case 5: // mixed line endings, a bare CR, an empty last line
		b.WriteString("crlf\r\nlf\nbare\rcr\r\n\n")
	default:
		b.WriteString("bye" + nl)
	}
	return &migMsg{id: id, stored: b.String()}
}

// virtualSize is the size Dovecot records as W= in the names of files it
// writes: every LF counted as CRLF, nothing added at the end.
func virtualSize(s string) int {
	return len(s) + strings.Count(s, "\n") - strings.Count(s, "\r\n")
}

// deliverMigration delivers n messages to each user, starting at message
// from. Some of them get names as Dovecot's own deliveries have them
// (",S=size,W=vsize", in new/ or already seen in cur/), sorted among the
// others. It adds them to msgs, by Message-ID.
func deliverMigration(t *testing.T, e *env, user string, from, n int, msgs map[string]*migMsg) {
	t.Helper()
	prev := ""
	for i := from; i < from+n; i++ {
		m := migMessage(user, i)
		if i%7 != 3 && i != 26 || prev == "" {
			m.base = e.deliver(user, m.stored)
		} else {
			// Same second as the previous delivery, a later microsecond.
			sec, _, _ := strings.Cut(prev, ".")
			m.base = fmt.Sprintf("%s.M%06dP4242.dovehost,S=%d,W=%d", sec, 999000+i, len(m.stored), virtualSize(m.stored))
			md := e.maildir(user)
			dst := filepath.Join(md, "new", m.base)
			if i%2 == 0 {
				dst = filepath.Join(md, "cur", m.base+":2,S")
			}
			tmp := filepath.Join(md, "tmp", m.base)
			if err := os.WriteFile(tmp, []byte(m.stored), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, dst); err != nil {
				t.Fatal(err)
			}
		}
		prev = m.base
		msgs[m.id] = m
	}
}

// seenMsg is a message as a POP3 server shows it.
type seenMsg struct {
	num  int
	uidl string
	size int64
	body string // as RETR sends it, unstuffed, CRLF line endings
	id   string // its Message-ID
}

// catalog logs in, lists and retrieves every message, and quits.
func catalog(t *testing.T, addr string, a account) []seenMsg {
	t.Helper()
	c := dovecot.Login(t, addr, a.name, a.pass)
	l := dovecot.List(c)
	var out []seenMsg
	for _, n := range dovecot.Numbers(l.Size) {
		body := dovecot.Retr(c, n)
		first, _, _ := strings.Cut(body, "\r\n")
		out = append(out, seenMsg{num: n, uidl: l.UIDL[n], size: l.Size[n], body: body, id: strings.TrimPrefix(first, "Message-ID: ")})
	}
	dovecot.Quit(c)
	if len(l.UIDL) != len(out) {
		t.Fatalf("%s: UIDL lists %d messages, LIST %d", a.name, len(l.UIDL), len(out))
	}
	return out
}

// byNum and byID index a catalog.
func byNum[V any](ms []seenMsg, f func(seenMsg) V) map[int]V {
	out := map[int]V{}
	for _, m := range ms {
		out[m.num] = f(m)
	}
	return out
}

func byID[V any](ms []seenMsg, f func(seenMsg) V) map[string]V {
	out := map[string]V{}
	for _, m := range ms {
		out[m.id] = f(m)
	}
	return out
}

func uidlOf(m seenMsg) string { return m.uidl }
func sizeOf(m seenMsg) int64  { return m.size }
func bodyOf(m seenMsg) string { return m.body }

// expectSame fails the test with the first 10 differences of got from
// want (what says what they map, and whose want is).
func expectSame[K int | string, V comparable](t *testing.T, what string, want, got map[K]V) {
	t.Helper()
	if d := dovecot.Diff(want, got, 10); d != "" {
		t.Errorf("%s differ:\n%s", what, d)
	}
}

// bodyDiff describes where two message bodies part, briefly.
func bodyDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-12)
	return fmt.Sprintf("%d vs %d octets, differ at %d: want …%q…, got …%q…",
		len(want), len(got), i, want[lo:min(len(want), i+12)], got[lo:min(len(got), i+12)])
}

// expectSameBodies compares what two servers sent, by Message-ID.
func expectSameBodies(t *testing.T, who string, want, got map[string]string) {
	t.Helper()
	var bad []string
	for _, id := range sortedKeys(want) {
		g, ok := got[id]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("  %s: missing", id))
		case g != want[id]:
			bad = append(bad, fmt.Sprintf("  %s: %s", id, bodyDiff(want[id], g)))
		}
	}
	if len(bad) > 0 {
		more := ""
		if len(bad) > 10 {
			more = fmt.Sprintf("\n  ... and %d more", len(bad)-10)
			bad = bad[:10]
		}
		t.Errorf("%s: RETR sends other octets than Dovecot's:\n%s%s", who, strings.Join(bad, "\n"), more)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := slices.Collect(maps.Keys(m))
	slices.Sort(ks)
	return ks
}

// uidList is a parsed dovecot-uidlist (version 3): the UIDVALIDITY, and
// for each base name its UID and the UIDL saved in its P field, if any.
type uidList struct {
	validity uint32
	uid      map[string]uint32
	saved    map[string]string
}

func readUIDList(t *testing.T, md string) (*uidList, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(md, "dovecot-uidlist"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	l := &uidList{uid: map[string]uint32{}, saved: map[string]string{}}
	for _, f := range strings.Fields(lines[0])[1:] {
		if v, ok := strings.CutPrefix(f, "V"); ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				t.Fatalf("dovecot-uidlist header %q", lines[0])
			}
			l.validity = uint32(n)
		}
	}
	for _, line := range lines[1:] {
		fields, name, ok := strings.Cut(line, " :")
		if !ok {
			t.Fatalf("dovecot-uidlist line %q", line)
		}
		fs := strings.Fields(fields)
		uid, err := strconv.ParseUint(fs[0], 10, 32)
		if err != nil {
			t.Fatalf("dovecot-uidlist line %q", line)
		}
		base, _, _ := strings.Cut(name, ":")
		l.uid[base] = uint32(uid)
		for _, ext := range fs[1:] {
			if p, ok := strings.CutPrefix(ext, "P"); ok {
				l.saved[base] = p
			}
		}
	}
	return l, raw
}

// fileState is a file's content and modification time.
type fileState struct {
	data  []byte
	mtime time.Time
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{data, fi.ModTime()}
}

// untouched fails the test if a file changed since before.
func untouched(t *testing.T, path string, before fileState) {
	t.Helper()
	now := stateOf(t, path)
	if !bytes.Equal(now.data, before.data) || !now.mtime.Equal(before.mtime) {
		t.Errorf("popd changed %s (mtime %v -> %v):\nbefore:\n%s\nafter:\n%s", path, before.mtime, now.mtime, before.data, now.data)
	}
}

// mpopFetch runs mpop against addr as a, keeping mail on the server, with
// the given UIDLs file, and returns how many messages it delivered.
func mpopFetch(t *testing.T, mpop, addr string, a account, uidls string) int {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(a.pass), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "maildir")
	for _, sub := range []string{"tmp", "new", "cur"} {
		os.MkdirAll(filepath.Join(out, sub), 0o700)
	}
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(mpop, "--host="+host, "--port="+port, "--tls=off", "--auth=user",
		"--user="+a.name, "--passwordeval=cat "+pw, "--keep=on", "--only-new=on",
		"--uidls-file="+uidls, "--delivery=maildir,"+out, "--received-header=off", "--timeout=30", "-Q")
	o, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, o)
	}
	got, err := os.ReadDir(filepath.Join(out, "new"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mpop from %s as %s: %d messages: %s", addr, a.name, len(got), bytes.TrimSpace(o))
	return len(got)
}

func TestDovecotMigration(t *testing.T) {
	for _, v := range []struct {
		name string
		save bool
	}{{"default", false}, {"pop3_save_uidl", true}} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			testDovecotMigration(t, dovecot.Options{SaveUIDL: v.save})
		})
	}
}

func testDovecotMigration(t *testing.T, opt dovecot.Options) {
	mpop := need(t, "mpop")
	e := newEnv(t, migrationUsers, nil)
	msgs := map[string]map[string]*migMsg{} // user -> Message-ID -> message
	for _, a := range migrationUsers {
		msgs[a.name] = map[string]*migMsg{}
		deliverMigration(t, e, a.name, 0, 30, msgs[a.name])
	}
	opt.Users, opt.Maildir = e.cfg.Users, e.cfg.Maildir
	dc := dovecot.Start(t, opt)

	// Dovecot serves the maildrops twice: a client reads a few messages
	// and deletes a few; then what a client sees is the truth popd must
	// show.
	truth := map[string][]seenMsg{}
	uidlists := map[string]*uidList{}
	t.Run("dovecot", func(t *testing.T) {
		for _, a := range migrationUsers {
			c := dovecot.Login(t, dc.Addr, a.name, a.pass)
			first := dovecot.List(c)
			if len(first.UIDL) != 30 || len(first.Size) != 30 {
				t.Fatalf("%s: Dovecot lists %d UIDLs and %d sizes, want 30", a.name, len(first.UIDL), len(first.Size))
			}
			for _, n := range []int{1, 5, 10} {
				dovecot.Retr(c, n)
			}
			for _, n := range []int{2, 7, 13} {
				c.OK("DELE " + strconv.Itoa(n))
			}
			dovecot.Quit(c)
			truth[a.name] = catalog(t, dc.Addr, a)
			if len(truth[a.name]) != 27 {
				t.Fatalf("%s: Dovecot lists %d messages after deleting 3 of 30", a.name, len(truth[a.name]))
			}
			ul, raw := readUIDList(t, e.maildir(a.name))
			uidlists[a.name] = ul
			t.Logf("%s's dovecot-uidlist:\n%s", a.name, raw)
			checkDovecotView(t, a.name, truth[a.name], msgs[a.name], ul, opt.SaveUIDL)
		}
	})
	if t.Failed() {
		t.FailNow() // nothing to compare popd with
	}
	// For the record: POPD_MIGRATION_SNAPSHOT=DIR keeps a copy of the users
	// file and the maildrops as Dovecot left them (for popadm migrate
	// check by hand).
	if snap := os.Getenv("POPD_MIGRATION_SNAPSHOT"); snap != "" && !opt.SaveUIDL {
		if out, err := exec.Command("cp", "-a", e.dir+"/.", snap).CombinedOutput(); err != nil {
			t.Fatalf("snapshot: %v %s", err, out)
		}
	}

	// popd serves the same maildrops: the same numbers, UIDLs, sizes and
	// octets, and it leaves dovecot-uidlist alone.
	t.Run("popd", func(t *testing.T) {
		for _, a := range migrationUsers {
			uidlist := filepath.Join(e.maildir(a.name), "dovecot-uidlist")
			before := stateOf(t, uidlist)
			want := truth[a.name]
			got := catalog(t, e.addr, a)
			expectSame(t, a.name+": UIDL (number -> Dovecot's UIDL)", byNum(want, uidlOf), byNum(got, uidlOf))
			expectSame(t, a.name+": order (number -> Dovecot's Message-ID)", byNum(want, func(m seenMsg) string { return m.id }), byNum(got, func(m seenMsg) string { return m.id }))
			expectSameBodies(t, a.name, byID(want, bodyOf), byID(got, bodyOf))
			// LIST: Dovecot's sizes, except where Dovecot's LIST and RETR
			// disagree (a last line without a line ending: see
			// checkDovecotView); there popd's LIST is what its RETR sends.
			wantSize := byID(want, sizeOf)
			for _, m := range got {
				if mm := msgs[a.name][m.id]; mm != nil && mm.noFinalNewline() {
					wantSize[m.id] = int64(len(m.body))
				}
			}
			expectSame(t, a.name+": LIST (Message-ID -> Dovecot's size)", wantSize, byID(got, sizeOf))
			// A second session shows the same.
			again := dovecot.UIDLs(t, e.addr, a.name, a.pass)
			expectSame(t, a.name+": UIDL in popd's second session", byNum(got, uidlOf), again.UIDL)
			untouched(t, uidlist, before)
		}
	})

	// A client that kept its mail on Dovecot (mpop, with its UIDLs file)
	// finds nothing new on popd.
	t.Run("mpop", func(t *testing.T) {
		for _, a := range migrationUsers {
			uidls := filepath.Join(t.TempDir(), "uidls")
			if n := mpopFetch(t, mpop, dc.Addr, a, uidls); n != len(truth[a.name]) {
				t.Errorf("%s: mpop fetched %d messages from Dovecot, want %d", a.name, n, len(truth[a.name]))
			}
			if n := mpopFetch(t, mpop, dc.Addr, a, uidls); n != 0 {
				t.Errorf("%s: mpop fetched %d messages from Dovecot again, want 0", a.name, n)
			}
			if n := mpopFetch(t, mpop, e.addr, a, uidls); n != 0 {
				t.Errorf("%s: after the switch, mpop downloaded %d messages again from popd, want 0", a.name, n)
			}
		}
	})

	// A mixed site (Dovecot still delivers or serves IMAP): mail popd
	// showed first and Dovecot listed later keeps popd's UIDL.
	t.Run("mixed", func(t *testing.T) {
		for _, a := range migrationUsers {
			fresh := map[string]*migMsg{}
			deliverMigration(t, e, a.name, 30, 5, fresh)
			first := byID(catalog(t, e.addr, a), uidlOf)
			dc.Own(t)
			dcView := dovecot.UIDLs(t, dc.Addr, a.name, a.pass)
			if len(dcView.UIDL) != 27+5 {
				t.Fatalf("%s: Dovecot lists %d messages, want 32", a.name, len(dcView.UIDL))
			}
			ul, raw := readUIDList(t, e.maildir(a.name))
			t.Logf("%s's dovecot-uidlist after Dovecot listed popd's new mail:\n%s", a.name, raw)
			for _, m := range fresh {
				if _, ok := ul.uid[m.base]; !ok {
					t.Fatalf("%s: Dovecot did not add %s to dovecot-uidlist", a.name, m.base)
				}
			}
			uidlist := filepath.Join(e.maildir(a.name), "dovecot-uidlist")
			before := stateOf(t, uidlist)
			second := catalog(t, e.addr, a)
			wantNew, wantOld := map[string]string{}, byID(truth[a.name], uidlOf)
			for id := range fresh {
				wantNew[id] = first[id]
			}
			gotNew, gotOld := map[string]string{}, map[string]string{}
			for _, m := range second {
				if fresh[m.id] != nil {
					gotNew[m.id] = m.uidl
				} else {
					gotOld[m.id] = m.uidl
				}
			}
			expectSame(t, a.name+": UIDLs of new mail after Dovecot listed it (Message-ID -> popd's first UIDL)", wantNew, gotNew)
			expectSame(t, a.name+": UIDLs of older mail (Message-ID -> Dovecot's UIDL)", wantOld, gotOld)
			third := dovecot.UIDLs(t, e.addr, a.name, a.pass)
			expectSame(t, a.name+": UIDLs in the next popd session", byNum(second, uidlOf), third.UIDL)
			untouched(t, uidlist, before)
		}
	})
}

// checkDovecotView checks that the Dovecot under test behaves as the
// migration code assumes: UIDLs are the default pop3_uidl_format
// %08Xu%08Xv, the UID and UIDVALIDITY in dovecot-uidlist in lowercase hex
// (with pop3_save_uidl also saved there as P), messages are numbered by
// UID, and RETR sends every line CRLF-terminated. For a message whose last
// line has no line ending, Dovecot's LIST leaves out the CRLF that its RETR
// adds (it counts the file as W= does).
func checkDovecotView(t *testing.T, user string, view []seenMsg, msgs map[string]*migMsg, ul *uidList, saved bool) {
	t.Helper()
	want := map[int]string{}
	var prev uint32
	for _, m := range view {
		mm := msgs[m.id]
		if mm == nil {
			t.Fatalf("%s: Dovecot's message %d has Message-ID %q, not one delivered", user, m.num, m.id)
		}
		uid, ok := ul.uid[mm.base]
		if !ok {
			t.Fatalf("%s: %s is not in dovecot-uidlist", user, mm.base)
		}
		if uid <= prev {
			t.Errorf("%s: message %d has UID %d, after UID %d", user, m.num, uid, prev)
		}
		prev = uid
		want[m.num] = fmt.Sprintf("%08x%08x", uid, ul.validity) // Dovecot's %X is lowercase
		if saved && ul.saved[mm.base] != want[m.num] {
			t.Errorf("%s: dovecot-uidlist saved UIDL %q for %s, want %q", user, ul.saved[mm.base], mm.base, want[m.num])
		}
		wire := toCRLF(mm.stored)
		if m.body != wire {
			t.Errorf("%s: Dovecot's RETR %d: %s", user, m.num, bodyDiff(wire, m.body))
		}
		wantSize := int64(len(m.body))
		if mm.noFinalNewline() {
			wantSize -= 2
		}
		if m.size != wantSize {
			t.Errorf("%s: Dovecot's LIST %d says %d, RETR sends %d octets (stored %d, W=%d)",
				user, m.num, m.size, len(m.body), len(mm.stored), virtualSize(mm.stored))
		}
	}
	expectSame(t, user+": Dovecot's UIDLs (number -> UIDL from dovecot-uidlist)", want, byNum(view, uidlOf))
}

// toCRLF is a message in network form: every line ends in CRLF (a lone LF
// becomes CRLF, a lone CR stays), and a last line without one gets it.
func toCRLF(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b.WriteByte('\r')
		}
		b.WriteByte(s[i])
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		b.WriteString("\r\n")
	}
	return b.String()
}
