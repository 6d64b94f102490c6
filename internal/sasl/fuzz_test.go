package sasl

import (
	"errors"
	"testing"
)

// FuzzMechanisms feeds arbitrary responses to every mechanism: it must not
// panic, must keep its contract (done with no error only as a user who
// proved it; nothing after done), and must keep challenges bounded (the
// SCRAM server-first echoes the client nonce, so they grow with the
// response, up to MaxResponseLen).
func FuzzMechanisms(f *testing.F) {
	seeds := []struct {
		mech       uint8
		noInitial  bool
		r1, r2, r3 string
	}{
		{0, false, "\x00alice\x00secret pw", "", ""},
		{0, true, "alice\x00alice\x00secret pw", "", ""},
		{0, false, "bob\x00alice\x00x", "", ""},
		{1, true, "alice", "secret pw", ""},
		{1, false, "alice", "secret pw", ""},
		{2, true, "alice 0123456789abcdef0123456789abcdef", "", ""},
		{3, false, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", ""},
		{3, true, "y,a=user,n=user,r=x,e=f", "c=eSxhPXVzZXIs,r=x%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=", ""},
		{3, false, "p=tls-unique,,n=u=2C,r=x", "", ""},
		{3, false, "n,,n=nobody,r=x", "c=biws,r=x%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", ""},
	}
	for _, s := range seeds {
		f.Add(s.mech, s.noInitial, []byte(s.r1), []byte(s.r2), []byte(s.r3))
	}
	creds := testCreds()
	creds.scram = scramCreds().scram
	f.Fuzz(func(t *testing.T, mech uint8, noInitial bool, r1, r2, r3 []byte) {
		name := Names[int(mech)%len(Names)]
		m, err := New(name, creds, fixedNonce("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"), "fuzz.example")
		if err != nil {
			t.Fatal(err)
		}
		responses := [][]byte{r1, r2, r3, {}, nil}
		if noInitial {
			responses = append([][]byte{nil}, responses...)
		}
		for i, r := range responses {
			ch, done, err := m.Next(r)
			if len(ch) > MaxResponseLen+256 {
				t.Fatalf("%s: %d-byte challenge", name, len(ch))
			}
			if !done {
				if err != nil {
					t.Fatalf("%s: not done, but %v", name, err)
				}
				if m.User() != "" {
					t.Fatalf("%s: User() %q before the end", name, m.User())
				}
				continue
			}
			if ch != nil {
				t.Fatalf("%s: challenge %q with done", name, ch)
			}
			if err == nil {
				// Only a user who knows a password gets in, and only once.
				if _, known := creds.plain[m.User()]; !known {
					if _, known := creds.scram[m.User()]; !known {
						t.Fatalf("%s: authenticated as unknown %q", name, m.User())
					}
				}
			} else if !errors.Is(err, ErrAuthFailed) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrAuthz) {
				t.Fatalf("%s: undocumented error %v", name, err)
			}
			if _, done, err := m.Next(responses[min(i+1, len(responses)-1)]); !done || err == nil {
				t.Fatalf("%s: Next after the end: done %v, err %v", name, done, err)
			}
			return
		}
		t.Fatalf("%s: not done after %d responses", name, len(responses))
	})
}
