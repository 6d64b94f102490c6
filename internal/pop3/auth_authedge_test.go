package pop3_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"popd/internal/pop3"
	"popd/internal/pop3/pop3test"
)

// abortingBackend counts the exchanges the session aborts.
type abortingBackend struct {
	*pop3test.Backend
	aborts atomic.Int32
}

func (b *abortingBackend) NewSASL(ctx context.Context, c pop3.ConnInfo, mech string) (pop3.SASL, error) {
	s, err := b.Backend.NewSASL(ctx, c, mech)
	if err != nil {
		return nil, err
	}
	return &abortingSASL{SASL: s, b: b}, nil
}

type abortingSASL struct {
	pop3.SASL
	b *abortingBackend
}

func (s *abortingSASL) Abort() { s.b.aborts.Add(1) }

var _ pop3.SASLAborter = (*abortingSASL)(nil)

// Issue 9: an exchange the client cancels with "*" (RFC 5034 §4) is a
// failed login: the backend is told (it applies its penalty), and it counts
// towards MaxAuthFailures.
func TestSASLCancelIsAFailedLogin(t *testing.T) {
	b := &abortingBackend{Backend: newBackend()}
	cfg := newConfig(t, b)
	cfg.MaxAuthFailures = 2
	c := pop3test.Start(t, cfg)
	c.Do("AUTH PLAIN", "+ \r\n")
	c.Do("*", "-ERR authentication cancelled\r\n")
	if n := b.aborts.Load(); n != 1 {
		t.Fatalf("backend told of %d aborts, want 1", n)
	}
	c.Do("AUTH PLAIN", "+ \r\n")
	c.Do("*", tooMany)
	c.ExpectClosed()
	if n := b.aborts.Load(); n != 2 {
		t.Fatalf("backend told of %d aborts, want 2", n)
	}
}

// A response the session cannot take (not base64, too long) ends the
// exchange as a cancel does.
func TestSASLGarbledResponseIsAFailedLogin(t *testing.T) {
	b := &abortingBackend{Backend: newBackend()}
	cfg := newConfig(t, b)
	cfg.MaxAuthFailures = 2
	c := pop3test.Start(t, cfg)
	c.Do("AUTH PLAIN", "+ \r\n")
	c.Do("%%%", "-ERR invalid base64 in authentication exchange\r\n")
	c.Do("AUTH PLAIN", "+ \r\n")
	c.Do(strings.Repeat("A", 20000), tooMany)
	c.ExpectClosed()
	if n := b.aborts.Load(); n != 2 {
		t.Fatalf("backend told of %d aborts, want 2", n)
	}
	// An initial response that is not base64 starts no exchange.
	c = pop3test.Start(t, cfg)
	c.Do("AUTH PLAIN %%%", "-ERR invalid base64 in authentication exchange\r\n")
	c.Do("AUTH PLAIN %%%", "-ERR invalid base64 in authentication exchange\r\n")
	c.Do("NOOP", wrongState)
	if n := b.aborts.Load(); n != 2 {
		t.Fatalf("backend told of %d aborts, want 2", n)
	}
}

// Issue 9: a response of up to pop3.MaxSASLResponse octets (8 KiB, as
// package sasl takes) is read whole; a longer one is refused with the real
// limit in the error.
func TestSASLResponseLimit(t *testing.T) {
	if pop3.MaxSASLResponse != 8<<10 {
		t.Fatalf("MaxSASLResponse = %d", pop3.MaxSASLResponse)
	}
	b := newBackend()
	msg := func(n int) string { // a PLAIN message of n octets
		pw := strings.Repeat("p", n-len("\x00long\x00"))
		b.Users["long"] = &pop3test.User{Password: pw, Mailbox: pop3test.NewMailbox()}
		return base64.StdEncoding.EncodeToString([]byte("\x00long\x00" + pw))
	}
	c := start(t, "", b)
	c.Do("AUTH PLAIN", "+ \r\n")
	c.Do(msg(pop3.MaxSASLResponse), "+OK maildrop locked and ready, 0 messages\r\n")

	b = newBackend()
	c = start(t, "", b)
	long := msg(pop3.MaxSASLResponse + 1)
	want := fmt.Sprintf("-ERR line too long (limit is %d octets including CRLF, %d octets decoded)\r\n",
		base64.StdEncoding.EncodedLen(pop3.MaxSASLResponse)+2, pop3.MaxSASLResponse)
	c.Do("AUTH PLAIN", "+ \r\n")
	c.Do(long, want)
	c.Do("AUTH PLAIN", "+ \r\n")
	c.Do(strings.Repeat("QUFB", 1<<18), want) // 1 MiB: refused, memory bounded
	c.Do("NOOP", wrongState)                  // the session goes on, in sync
}
