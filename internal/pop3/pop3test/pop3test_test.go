package pop3test_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"reflect"
	"testing"

	"popd/internal/pop3"
	"popd/internal/pop3/pop3test"
)

func TestAPOPDigest(t *testing.T) {
	// RFC 1939 §7's example.
	if got := pop3test.APOPDigest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"); got != "c4c9334bac560ecc979e58001b3e22fb" {
		t.Fatalf("digest %s", got)
	}
}

func TestMailbox(t *testing.T) {
	m := pop3test.NewMailbox("a\r\n", "bb\r\n", "ccc\r\n")
	m.Message(1).OpenErr = errors.New("gone")
	m.Message(2).ReadErr = io.ErrUnexpectedEOF
	if err := m.Update(nil, nil); err == nil {
		t.Error("Update without the lock")
	}
	if err := m.Lock(); err != nil {
		t.Fatal(err)
	}
	if err := m.Lock(); err != pop3.ErrInUse {
		t.Fatalf("second Lock: %v", err)
	}
	if n, err := m.Size(1); m.Count() != 3 || n != 4 || err != nil || m.UID(2) != "uid-3" {
		t.Fatalf("Count %d, Size %d %v, UID %q", m.Count(), n, err, m.UID(2))
	}
	if _, err := m.Open(1); err == nil {
		t.Error("Open ignored OpenErr")
	}
	rc, _ := m.Open(2)
	if b, err := io.ReadAll(rc); string(b) != "ccc\r\n" || err != io.ErrUnexpectedEOF {
		t.Errorf("read %q, %v", b, err)
	}
	m.Message(0).Vanished = true
	if _, err := m.Size(0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Size of a vanished message: %v", err)
	}
	if _, err := m.Open(0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a vanished message: %v", err)
	}
	if err := m.Update([]int{0}, []int{2}); err != nil {
		t.Fatal(err)
	}
	msgs := m.Messages()
	if len(msgs) != 2 || msgs[0].UID != "uid-2" || msgs[0].Seen || !msgs[1].Seen {
		t.Errorf("after Update: %+v", msgs)
	}
	if err := m.Close(); err != nil || m.Locked() {
		t.Errorf("Close: %v, locked %v", err, m.Locked())
	}
	if got, want := m.Updates(), []pop3test.Update{{Deleted: []int{0}, Retrieved: []int{2}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("updates %+v", got)
	}
}

func TestBackend(t *testing.T) {
	ctx := context.Background()
	b := &pop3test.Backend{
		APOP:  true,
		Mechs: []string{"PLAIN"},
		Users: map[string]*pop3test.User{"u": {Password: "p", Secret: "s", Mailbox: pop3test.NewMailbox()}},
	}
	c := pop3.ConnInfo{SessionID: "1"}
	if _, err := b.Login(ctx, c, "u", "x"); err != pop3.ErrAuth {
		t.Errorf("bad password: %v", err)
	}
	mb, err := b.Login(ctx, c, "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LoginAPOP(ctx, c, "u", "<1@x>", pop3test.APOPDigest("<1@x>", "s")); err != pop3.ErrInUse {
		t.Errorf("APOP while locked: %v", err)
	}
	mb.Close()
	if _, err := b.OpenAuthenticated(ctx, c, "nobody"); err != pop3.ErrAuth {
		t.Errorf("OpenAuthenticated(nobody): %v", err)
	}
	if _, err := b.NewSASL(ctx, c, "LOGIN"); err == nil {
		t.Error("NewSASL(LOGIN) works")
	}
	if l := b.Logins(); len(l) != 1 || l[0].Method != "USER" || !b.APOPEnabled() || len(b.Mechanisms(c)) != 1 {
		t.Errorf("logins %+v", l)
	}
}

func TestPLAIN(t *testing.T) {
	b := &pop3test.Backend{Users: map[string]*pop3test.User{"u": {Password: "p"}}}
	for _, tc := range []struct {
		msg, user, attempted string
		ok                   bool
	}{
		{"\x00u\x00p", "u", "u", true},
		{"u\x00u\x00p", "u", "u", true},
		{"v\x00u\x00p", "", "u", false},
		{"\x00u\x00q", "", "u", false},
		{"\x00\x00p", "", "", false},
		{"u\x00p", "", "", false},
	} {
		s, _ := b.NewSASL(context.Background(), pop3.ConnInfo{}, "PLAIN")
		if ch, done, err := s.Next(nil); len(ch) != 0 || done || err != nil {
			t.Fatalf("first Next: %q %v %v", ch, done, err)
		}
		_, done, err := s.Next([]byte(tc.msg))
		if done != tc.ok || (err == nil) != tc.ok || s.User() != tc.user || s.Attempted() != tc.attempted {
			t.Errorf("%q: done %v, err %v, user %q, attempted %q", tc.msg, done, err, s.User(), s.Attempted())
		}
	}
}

// A session started with Start can be driven to its end and joined.
func TestStart(t *testing.T) {
	b := &pop3test.Backend{Users: map[string]*pop3test.User{"u": {Password: "p", Mailbox: pop3test.NewMailbox("x\r\n")}}}
	c := pop3test.Start(t, &pop3.Config{Backend: b, Logger: pop3test.Logger(t)})
	c.Login("u", "p", 1)
	c.Do("RETR 1", "+OK 3 octets\r\nx\r\n.\r\n")
	c.Do("QUIT", "+OK bye, 1 messages left\r\n")
	c.ExpectClosed()
	c.Wait()
	if c.Session.Info().State != pop3.StateClosed {
		t.Error("session not closed")
	}
}
