package sasl

import (
	"encoding/base64"
	"errors"
	"testing"
)

// standInCreds gives every name stand-in credentials, never the user's own:
// as the server's Credentials do for an unknown user (userdb.File.SCRAM).
type standInCreds struct {
	mapCreds
	standIn SCRAMCredentials
}

func (c *standInCreds) SCRAM(string) (SCRAMCredentials, bool) { return c.standIn, false }

// Issue 9: the mechanism uses the stand-in credentials Credentials gives
// for an unknown user, so that its salt and i= are those the user database
// makes up (the same as a PLAIN user's) and no second derivation is spent;
// and stand-ins never authenticate, even with a proof that opens them.
func TestSCRAMUsesStandIn(t *testing.T) {
	salt := []byte("0123456789abcdef")
	creds := &standInCreds{standIn: DeriveSCRAM("known to the test", salt, 5000)}
	m, _ := New("SCRAM-SHA-256", creds, fixedNonce("N"), "")
	sf := step(t, m, []byte("n,,n=ghost,r=c"), "*", false)
	if want := "r=cN,s=" + base64.StdEncoding.EncodeToString(salt) + ",i=5000"; string(sf) != want {
		t.Fatalf("server-first %q, want %q", sf, want)
	}
	m, err := runSCRAM(t, creds, &scramClient{user: "ghost", pass: "known to the test", cnonce: "c"})
	if !errors.Is(err, ErrAuthFailed) || m.User() != "" {
		t.Fatalf("stand-in credentials authenticated: %v, User() = %q", err, m.User())
	}
	// Unusable stand-ins (none given): the mechanism's own fakes.
	creds.standIn = SCRAMCredentials{}
	m, _ = New("SCRAM-SHA-256", creds, fixedNonce("N"), "")
	if sf := step(t, m, []byte("n,,n=ghost,r=c"), "*", false); len(sf) < len("r=cN,s=,i=4096") || string(sf[len(sf)-7:]) != ",i=4096" {
		t.Fatalf("server-first without stand-ins %q", sf)
	}
}
