package userdb

import (
	"errors"
	"testing"
)

// Spellings of one password that SASLprep's successor (RFC 8265
// OpaqueString: non-ASCII spaces to U+0020, then NFC) makes the same.
const (
	pwNFC   = "p\u00e4ssw\u00f6rd caf\u00e9" // as most keyboards type it
	pwNFD   = "pa\u0308sswo\u0308rd cafe\u0301"
	pwNBSP  = "p\u00e4ssw\u00f6rd\u00a0caf\u00e9" // a no-break space
	pwIdeo  = "p\u00e4ssw\u00f6rd\u3000cafe\u0301"
	pwOther = "p\u00e4ssw\u00f6rd cafe"
)

var utf8Schemes = []string{SchemeBcrypt, SchemeSHA512, SchemeSHA256, SchemeArgon2, SchemeSCRAM, SchemePlain}

func TestPreparePassword(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"correct horse", "correct horse", true},
		{"~!@#$%^&*()_+`{}|[]\\:\";'<>?,./ 0", "~!@#$%^&*()_+`{}|[]\\:\";'<>?,./ 0", true},
		{pwNFC, pwNFC, true},
		{pwNFD, pwNFC, true},
		{pwNBSP, pwNFC, true},
		{pwIdeo, pwNFC, true},
		{"\u212b", "\u00c5", true}, // ANGSTROM SIGN is canonically Å
		{"", "", false},
		{"a\tb", "", false},         // a control character
		{"a\u0085b", "", false},     // NEL, a C1 control
		{"pw\ue000", "", false},     // private use
		{"pw\U000e0001", "", false}, // a tag character
		{"p\xe4ss", "", false},      // not UTF-8
		{"p\xed\xa0\x80", "", false},
	} {
		got, ok := preparePassword(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("preparePassword(%+q) = %+q, %v; want %+q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// A password hashed as typed (Hash, doveadm pw) verifies from the same
// bytes, and from every spelling whose prepared form is those bytes.
func TestVerifyPreparedForms(t *testing.T) {
	for _, scheme := range utf8Schemes {
		h, err := Hash(scheme, pwNFC)
		if err != nil {
			t.Fatal(err)
		}
		s := parseSecret(h)
		for _, pw := range []string{pwNFC, pwNFD, pwNBSP, pwIdeo} {
			if !s.verify(pw) {
				t.Errorf("%s of the NFC password: %+q does not verify", scheme, pw)
			}
		}
		for _, pw := range []string{pwOther, pwNFC + " ", "P\u00e4ssw\u00f6rd caf\u00e9", ""} {
			if s.verify(pw) {
				t.Errorf("%s of the NFC password: %+q verifies", scheme, pw)
			}
		}
	}
}

// Every hash already stored keeps verifying from the bytes it was made of,
// also when SASLprep would change those bytes or refuse them.
func TestVerifyRawForms(t *testing.T) {
	for _, scheme := range utf8Schemes {
		for _, pw := range []string{pwNFD, pwNBSP, "tab\there", "pw\ue000", "p\xe4ss", "\u212b"} {
			h, err := Hash(scheme, pw)
			if err != nil {
				t.Fatal(err)
			}
			if s := parseSecret(h); !s.verify(pw) {
				t.Errorf("%s of %+q: the same bytes do not verify", scheme, pw)
			}
		}
		// The prepared form of the client's password is compared, never
		// that of the stored one: a hash of NFD is matched by NFD only.
		h, _ := Hash(scheme, pwNFD)
		if s := parseSecret(h); s.verify(pwNFC) {
			t.Errorf("%s of the NFD password: the NFC one verifies", scheme)
		}
	}
}

// Through File.Verify, as the server calls it, with a UTF-8 name.
func TestFileVerifyUTF8(t *testing.T) {
	h, err := Hash("", pwNFC)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := open(t, "jos\u00e9:"+h+"\n")
	for _, pw := range []string{pwNFC, pwNFD, pwNBSP} {
		if u, err := f.Verify("jos\u00e9", pw); err != nil || u.Name != "jos\u00e9" {
			t.Errorf("Verify(%+q) = %v, %v", pw, u, err)
		}
	}
	if _, err := f.Verify("jos\u00e9", pwOther); !errors.Is(err, ErrBadPassword) {
		t.Errorf("Verify(wrong) = %v", err)
	}
	if _, err := f.Verify("nobody", pwNFD); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("Verify(nobody) = %v", err)
	}
}
