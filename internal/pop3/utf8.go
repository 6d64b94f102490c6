package pop3

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// RFC 6856, POP3 Support for UTF-8, for a server that makes no surrogate
// messages (RFC 6857 downgrading is optional and not done). CAPA announces
// "UTF8 USER" in both states (§2). The command table wraps the handlers the
// extension affects, so that they stay as RFC 1939 has them:
//
//	USER  utf8Name: the name must be UTF-8 and is prepared (§2.2)
//	APOP  utf8APOPName: likewise for its name
//	PASS  utf8Password: the password must be UTF-8 (§2.2)
//	STLS  notAfterUTF8: refused in UTF-8 mode (§2.1)
//
// and send asks utf8Gate before any message goes out (§2.1, §5).

var (
	errNameNotUTF8   = &Error{Text: "user name is not valid UTF-8"}
	errNameChars     = &Error{Text: "user name contains a character not allowed in user names"}
	errPassNotUTF8   = &Error{Text: "password is not valid UTF-8"}
	errSTLSAfterUTF8 = &Error{Text: "STLS is not allowed after UTF8"}
	// RFC 6856 §5: the client may ask again in UTF-8 mode, which UTF8
	// enters only in AUTHORIZATION: on its next connection.
	errNeedsUTF8 = &Error{Code: "UTF8", Text: "message needs UTF-8 mode (send UTF8 before logging in)"}
)

// handler is a command's run function (see command).
type handler = func(s *Session, ctx context.Context, arg string) error

// RFC 6856 §2.1 UTF8: enter UTF-8 mode. It takes no arguments, and the
// command table allows it in AUTHORIZATION only (§2). Saying it again is
// harmless. UTF-8 mode changes what messages may be sent (utf8Gate) and
// what response text may hold (respText); user names and passwords may be
// UTF-8 either way (§2.2: "the client MAY do so before issuing UTF8").
func (s *Session) cmdUTF8(_ context.Context, arg string) error {
	if _, err := args(arg, 0, 0); err != nil {
		return err
	}
	s.utf8 = true
	s.reply("+OK UTF-8 mode enabled")
	return nil
}

// utf8Name prepares the USER argument (RFC 6856 §2.2) before run sees it.
func utf8Name(run handler) handler {
	return func(s *Session, ctx context.Context, arg string) error {
		name, err := prepareName(arg)
		if err != nil {
			return err
		}
		return run(s, ctx, name)
	}
}

// utf8APOPName prepares the name argument of APOP (RFC 6856 §2.2) before
// run sees it. Arguments of the wrong shape go to run as they are, to be
// refused there.
func utf8APOPName(run handler) handler {
	return func(s *Session, ctx context.Context, arg string) error {
		if name, digest, ok := strings.Cut(arg, " "); ok && name != "" {
			p, err := prepareName(name)
			if err != nil {
				return err
			}
			arg = p + " " + digest
		}
		return run(s, ctx, arg)
	}
}

// utf8Password refuses a PASS argument that is not UTF-8: "The server MUST
// reject UTF-8 usernames or passwords that fail to comply with the formal
// syntax in UTF-8" (RFC 6856 §2.2). The USER before it is spent, as by any
// PASS. The password is otherwise passed on as it is: the Backend compares
// it, and only there can a stored hash of the very bytes be honoured (see
// userdb's Verify).
func utf8Password(run handler) handler {
	return func(s *Session, ctx context.Context, arg string) error {
		if s.userArg != "" && !utf8.ValidString(arg) {
			s.log.Info("login refused: password is not UTF-8", "user", LogName(s.userArg), "remote", addr(s.info.RemoteAddr))
			s.userArg = ""
			return errPassNotUTF8
		}
		return run(s, ctx, arg)
	}
}

// notAfterUTF8 refuses STLS in UTF-8 mode: "Clients MUST NOT issue the
// STLS command after issuing UTF8; servers MAY ... enforce this" (RFC 6856
// §2.1), with no response code, as it says.
func notAfterUTF8(run handler) handler {
	return func(s *Session, ctx context.Context, arg string) error {
		if s.utf8 {
			return errSTLSAfterUTF8
		}
		return run(s, ctx, arg)
	}
}

// prepareName checks that a user name is UTF-8 and prepares it with the
// UsernameCasePreserved profile of RFC 8265, the Standards Track successor
// of SASLprep that RFC 6856 §2.2 allows: fullwidth and halfwidth forms are
// folded, the name is put in NFC, and control, private-use, unassigned and
// other disallowed characters (among them all that SASLprep prohibits) are
// refused. The case is kept: popd compares names exactly. Each
// space-separated part is prepared alone (RFC 8265 §3.5), so names with
// spaces reach the Backend as before. Printable ASCII is left as it is.
func prepareName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", errNameNotUTF8
	}
	if printableASCII(name) {
		return name, nil
	}
	parts := strings.Split(name, " ")
	for i, p := range parts {
		if p == "" {
			continue
		}
		q, err := precis.UsernameCasePreserved.String(p)
		if err != nil {
			return "", errNameChars
		}
		parts[i] = q
	}
	return strings.Join(parts, " "), nil
}

// printableASCII reports whether s holds only octets 0x20-0x7E.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// respText makes t, text that is not the client's (a configured name, say),
// fit a response line: "When UTF-8 mode has not been enabled, character
// strings outside the ASCII repertoire MUST NOT be sent to the client as
// is" (RFC 6856 §2.1). Outside UTF-8 mode it keeps printable ASCII, in it
// printable UTF-8; anything else, control characters and invalid octets
// included, becomes "?".
func (s *Session) respText(t string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x20 && r <= 0x7e:
		case s.utf8 && r >= 0x80 && r != utf8.RuneError && unicode.IsPrint(r):
		default:
			return '?'
		}
		return r
	}, t)
}

// utf8Gate decides, before send says +OK, whether message i may go to this
// client, from r, the message as Open returned it, and returns what to send
// instead of r: the octets it read, then the rest of r. In UTF-8 mode every
// message goes as it is (RFC 6856 §2.1: the maildrop is UTF-8 or ASCII).
// Outside it, a message whose header holds an octet outside ASCII (RFC 6532
// header fields, or raw 8-bit ones) is refused with -ERR [UTF8] (§2.1, §4,
// §5): popd makes no surrogates. The header decides, as RFC 6855 §7 has it
// for IMAP: an 8-bit body under an ASCII header is 8BITMIME mail that POP3
// clients have always been sent. LIST, UIDL and STAT still show the
// message, and DELE removes it: they send none of its content, and a client
// must be able to see and delete what it cannot retrieve. The header is read
// once, from the reader that then sends the message (no second open); buf
// is where it goes, grown when the header is longer.
func (s *Session) utf8Gate(i int, r io.Reader, buf []byte) (io.Reader, error) {
	if s.utf8 {
		return r, nil
	}
	head, ascii, err := readHeader(r, buf)
	switch {
	case err != nil:
		s.log.Warn("message unreadable", "msg", i+1, "err", err)
		return nil, errUnreadable
	case !ascii:
		s.log.Info("message needs UTF-8 mode", "msg", i+1)
		return nil, errNeedsUTF8
	}
	return io.MultiReader(bytes.NewReader(head), r), nil
}

// maxHeaderScan bounds how much of a message utf8Gate reads looking for
// the end of its header: a header longer than that (1 MiB) is sent as it
// is.
const maxHeaderScan = 1 << 20

// readHeader reads from r, appending to buf, until it has seen the header
// of the message that r yields in network form (the octets up to the first
// empty line, or all of them when there is none, as topReader sees the
// header), or maxHeaderScan octets. head is everything it read (perhaps a
// part of the body too); ascii reports whether the header is all ASCII.
func readHeader(r io.Reader, buf []byte) (head []byte, ascii bool, err error) {
	head = buf[:0]
	lineLen, prevCR := 0, false // as in topReader
	for len(head) < maxHeaderScan {
		if len(head) == cap(head) {
			head = slices.Grow(head, max(4096, cap(head)))
		}
		k, rerr := r.Read(head[len(head):cap(head)])
		chunk := head[len(head) : len(head)+k]
		head = head[:len(head)+k]
		for _, c := range chunk {
			switch {
			case c >= 0x80:
				return head, false, nil
			case c != '\n':
				lineLen++
				prevCR = c == '\r'
			case lineLen == 0 || lineLen == 1 && prevCR:
				return head, true, nil // the empty line that ends the header
			default:
				lineLen = 0
			}
		}
		if rerr == io.EOF {
			return head, true, nil
		}
		if rerr != nil {
			return head, false, rerr
		}
	}
	return head, true, nil
}
