package pop3_test

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"popd/internal/pop3"
	"popd/internal/pop3/pop3test"
)

// fuzzStarts are the states a fuzzed session starts from (see start).
var fuzzStarts = []string{"", "alice", "tls", "tls+alice", "strict", "strict+trusted"}

// fuzzSeeds use every command, in and out of place.
var fuzzSeeds = []string{
	"USER alice\r\nPASS correct horse\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 2\r\nTOP 2 1\r\nDELE 1\r\nLAST\r\nRSET\r\nNOOP\r\nDELE 3\r\nQUIT\r\n",
	"AUTH PLAIN " + plain("", "alice", "correct horse") + "\r\nLIST 1\r\nUIDL 2\r\nRETR 3\r\nDELE 2\r\nQUIT\r\n",
	"AUTH PLAIN\r\n" + plain("", "alice", "correct horse") + "\r\nRETR 1\r\nAUTH\r\nCAPA\r\n",
	"AUTH\r\nAUTH PLAIN\r\n*\r\nAUTH CRAM-MD5\r\nAUTH X-UNKNOWN\r\nAUTH PLAIN =\r\n",
	"APOP alice 0123456789abcdef0123456789abcdef\r\nAPOP\r\nRPOP alice\r\n",
	"STLS\r\nUSER alice\r\n",
	"CAPA\r\nFOO\r\n\r\n LIST\r\nNOOP\rQUIT\r\n\x00\xff\r\n",
	"USER a\r\nPASS x\r\nUSER a\r\nPASS x\r\nUSER a\r\nPASS x\r\nNOOP\r\n",
	"USER bob\r\nPASS pw\r\nSTAT\r\nLIST\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\nTOP 3 0\r\nDELE 2\r\nQUIT\r\n",
	"USER frank\r\nPASS pw\r\nDELE 1\r\nQUIT\r\nNOOP\r\n",
	"USER carol\r\nPASS pw\r\nUSER dave\r\nPASS pw\r\nUSER erin\r\nPASS pw\r\nPASS\r\n",
	"DELE 1\r\nRETR 1\r\nLIST 0\r\nLIST 18446744073709551617\r\nTOP 1 x\r\nUIDL 1 2\r\nRSET\r\nLAST\r\nQUIT\r\n",
	strings.Repeat("A", 300) + "\r\nNOOP\nquit\n",
	"AUTH PLAIN\r\n" + strings.Repeat("QUFB", 500) + "\r\nUSER",
	"AUTH PLAIN\r\n",
	"QUIT\r\nSTAT\r\n",
	"UTF8\r\nUTF8 x\r\nUSER jos\xc3\xa9\r\nUSER \xe9\r\nPASS \xe9\r\nUSER alice\r\nPASS correct horse\r\nRETR 1\r\nUTF8\r\nSTLS\r\n",
}

// FuzzSessionStates sends arbitrary bytes to a session that starts in each
// of fuzzStarts, then hangs up, and holds what the client reads to the
// rules a POP3 server keeps whatever it is sent:
//
//   - every response line ends in CRLF;
//   - each complete command line gets exactly one response: a status line,
//     then for the multi-line ones a byte-stuffed body ended by "." (RFC
//     1939 §3), each "+ " continuation of AUTH taking one more client line
//     (RFC 5034 §4);
//   - nothing follows the response to QUIT, or to the failed login that
//     ends the session, and only TLS records follow STLS's "+OK";
//   - the state moves only as RFC 1939 §4 allows: TRANSACTION only after a
//     successful login, wrong-state errors exactly where the state says so;
//   - UPDATE happens only on QUIT in TRANSACTION, with exactly the messages
//     marked as deleted, and every maildrop is released at the end.
func FuzzSessionStates(f *testing.F) {
	for i := range fuzzStarts {
		for _, seed := range fuzzSeeds {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, from uint8, input []byte) {
		env := fuzzStarts[int(from)%len(fuzzStarts)]
		b := newBackend()
		c := start(t, env, b)
		var wg sync.WaitGroup
		wg.Go(func() {
			c.Conn().Write(input)
			c.Conn().(interface{ CloseWrite() error }).CloseWrite()
		})
		m := &model{t: t, out: c.ReadAll(), state: A, deleted: map[int]bool{}, seen: map[int]bool{}}
		wg.Wait()
		c.Wait()
		logins := 0
		if strings.Contains(env, "alice") {
			m.state, logins = T, 1
		}
		m.run(input)
		if got, want := len(b.Logins()), logins+m.logins; got != want {
			t.Errorf("the Backend saw %d logins, the client %d", got, want)
		}
		if updates, want := released(t, b), m.update(); !reflect.DeepEqual(updates, want) {
			t.Errorf("updates %+v, want %+v", updates, want)
		}
		if st := c.Session.Info().State; st != pop3.StateClosed {
			t.Errorf("state %v after the session ended", st)
		}
	})
}

// model is what the client knows of a session from its own commands and
// the server's responses.
type model struct {
	t       *testing.T
	out     string // the server's output not yet accounted for
	state   pop3.State
	user    bool // USER accepted, PASS not yet sent
	logins  int
	deleted map[int]bool // message indexes
	seen    map[int]bool // retrieved with RETR
	quit    bool         // QUIT in TRANSACTION
}

// inAuth and inTrans are the verbs valid in each state (RFC 1939 §4-7,
// RFC 2449 §5, RFC 2595 §4, RFC 5034, RFC 6856 §2).
var (
	inAuth  = []string{"USER", "PASS", "APOP", "AUTH", "STLS", "RPOP", "QUIT", "CAPA", "UTF8"}
	inTrans = []string{"STAT", "LIST", "RETR", "TOP", "DELE", "NOOP", "RSET", "LAST", "UIDL", "QUIT", "CAPA"}
)

// line takes the next response line, without its CRLF; ok is false when
// the output is exhausted.
func (m *model) line() (string, bool) {
	m.t.Helper()
	i := strings.IndexByte(m.out, '\n')
	if i < 0 {
		if m.out != "" {
			m.t.Fatalf("output ends in an unterminated line %q", m.out)
		}
		return "", false
	}
	l := m.out[:i+1]
	m.out = m.out[i+1:]
	if !strings.HasSuffix(l, "\r\n") {
		m.t.Fatalf("response line without CRLF: %q", l)
	}
	return strings.TrimSuffix(l, "\r\n"), true
}

// run checks the output against the input's complete lines.
func (m *model) run(input []byte) {
	lines := bytes.Split(input, []byte("\n"))
	lines = lines[:len(lines)-1] // the last is empty or never ended
	for i := 0; i < len(lines); i++ {
		cmd := strings.TrimSuffix(string(lines[i]), "\r")
		resp, ok := m.line()
		if !ok {
			m.t.Fatalf("no response to %q", cmd)
		}
		if len(lines[i])+1 > pop3.MaxLine {
			m.expect(cmd, resp, strings.TrimSuffix(tooLong, "\r\n"))
			continue
		}
		verb, arg, _ := strings.Cut(cmd, " ")
		verb = strings.ToUpper(verb)
		// RFC 5034 §4: each continuation takes one more client line.
		for verb == "AUTH" && strings.HasPrefix(resp, "+ ") {
			if i++; i == len(lines) {
				m.end("the client hung up during AUTH") // and gets no answer
				return
			}
			if resp, ok = m.line(); !ok {
				m.t.Fatalf("no response to the AUTH line %q", lines[i])
			}
		}
		if m.command(cmd, verb, arg, resp) {
			return
		}
	}
	m.end("the client hung up")
}

// command checks one command's response and follows the state; it
// reports whether the session ended.
func (m *model) command(cmd, verb, arg, resp string) (ended bool) {
	valid := slices.Contains(inAuth, verb) && m.state == A || slices.Contains(inTrans, verb) && m.state == T
	switch {
	case !slices.Contains(inAuth, verb) && !slices.Contains(inTrans, verb):
		m.expect(cmd, resp, strings.TrimSuffix(unknown, "\r\n"))
		return false
	case !valid:
		m.expect(cmd, resp, strings.TrimSuffix(wrongState, "\r\n"))
		return false
	case resp+"\r\n" == wrongState:
		m.t.Fatalf("%q refused in %v, where it is valid", cmd, m.state)
	case !strings.HasPrefix(resp, "+OK") && !strings.HasPrefix(resp, "-ERR "):
		m.t.Fatalf("response to %q is %q", cmd, resp)
	}
	if verb == "PASS" && !m.user {
		m.expect(cmd, resp, "-ERR send USER first")
	}
	if verb == "PASS" {
		m.user = false
	} else if verb == "USER" && strings.HasPrefix(resp, "+OK") {
		m.user = true
	}
	if strings.HasPrefix(resp, "+OK maildrop locked and ready") {
		if verb != "PASS" && verb != "APOP" && verb != "AUTH" {
			m.t.Fatalf("%q logged in", cmd)
		}
		m.state = T
		m.logins++
	}
	if !strings.HasPrefix(resp, "+OK") {
		return m.ended(cmd, verb, resp)
	}
	switch {
	case verb == "RETR" || verb == "TOP":
		if m.body(cmd, true) {
			// The message could not be read to its end: the server hung
			// up without the final "." (and without UPDATE).
			return true
		}
	case verb == "CAPA" || arg == "" && (verb == "LIST" || verb == "UIDL" || verb == "AUTH"):
		m.body(cmd, false)
	case verb == "STLS": // the rest is TLS records (an alert), or nothing
		if m.out != "" && m.out[0] != 0x15 && m.out[0] != 0x16 {
			m.t.Fatalf("after STLS, the server sent %q", m.out)
		}
		m.out = ""
		return true
	}
	n, _ := strconv.Atoi(arg)
	switch verb {
	case "DELE":
		m.deleted[n-1] = true
	case "RSET":
		clear(m.deleted)
	case "RETR":
		m.seen[n-1] = true
	}
	return m.ended(cmd, verb, resp)
}

// ended reports whether resp ended the session, and then checks that
// nothing followed it.
func (m *model) ended(cmd, verb, resp string) bool {
	switch {
	case verb == "QUIT":
		m.quit = m.state == T
	case resp+"\r\n" != tooMany:
		return false
	}
	m.end("after " + cmd)
	return true
}

// body reads a multi-line response's body, byte-stuffed, up to ".". With
// mayCut, the output may end inside the body instead: cut reports that.
func (m *model) body(cmd string, mayCut bool) (cut bool) {
	for {
		if mayCut && !strings.Contains(m.out, "\n") {
			m.out = ""
			return true
		}
		l, ok := m.line()
		switch {
		case !ok:
			m.t.Fatalf("the response to %q has no end", cmd)
		case l == ".":
			return false
		case strings.HasPrefix(l, ".") && !strings.HasPrefix(l, ".."):
			m.t.Fatalf("the response to %q has a line %q not byte-stuffed", cmd, l)
		}
	}
}

func (m *model) expect(cmd, got, want string) {
	m.t.Helper()
	if got != want {
		m.t.Fatalf("response to %q is %q, want %q", cmd, got, want)
	}
}

// end checks that the server sent nothing more.
func (m *model) end(why string) {
	m.t.Helper()
	if m.out != "" {
		m.t.Fatalf("%s, the server sent %q", why, m.out)
	}
}

// update is the Update that the session must have made.
func (m *model) update() []pop3test.Update {
	if !m.quit {
		return nil
	}
	var u pop3test.Update
	for _, i := range slices.Sorted(maps.Keys(m.deleted)) {
		u.Deleted = append(u.Deleted, i)
	}
	for _, i := range slices.Sorted(maps.Keys(m.seen)) {
		if !m.deleted[i] {
			u.Retrieved = append(u.Retrieved, i)
		}
	}
	return []pop3test.Update{u}
}
