package pop3

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// states is the set of states in which a command is valid.
type states uint8

const (
	inAuth states = 1 << iota
	inTrans
	inBoth = inAuth | inTrans
)

func (ss states) has(st State) bool {
	switch st {
	case StateAuthorization:
		return ss&inAuth != 0
	case StateTransaction:
		return ss&inTrans != 0
	}
	return false
}

type command struct {
	states states
	// run answers the command. It writes its own positive response and
	// returns an error for a negative one, which dispatch writes.
	run handler
}

// commands is the one command table: every verb, the states it is valid in,
// and its handler. Verbs are matched case-insensitively (RFC 1939 §3).
// RFC 6856 (UTF8) wraps the handlers it affects; see utf8.go.
var commands = map[string]command{
	"USER": {inAuth, utf8Name((*Session).cmdUser)},
	"PASS": {inAuth, utf8Password((*Session).cmdPass)},
	"APOP": {inAuth, utf8APOPName((*Session).cmdAPOP)},
	"AUTH": {inAuth, (*Session).cmdAuth},
	"STLS": {inAuth, notAfterUTF8((*Session).cmdSTLS)},
	"RPOP": {inAuth, (*Session).cmdRPOP},
	"UTF8": {inAuth, (*Session).cmdUTF8},
	"QUIT": {inBoth, (*Session).cmdQuit},
	"CAPA": {inBoth, (*Session).cmdCapa},
	"NOOP": {inTrans, (*Session).cmdNoop},
	"STAT": {inTrans, (*Session).cmdStat},
	"LIST": {inTrans, (*Session).cmdList},
	"RETR": {inTrans, (*Session).cmdRetr},
	"DELE": {inTrans, (*Session).cmdDele},
	"RSET": {inTrans, (*Session).cmdRset},
	"LAST": {inTrans, (*Session).cmdLast},
	"TOP":  {inTrans, (*Session).cmdTop},
	"UIDL": {inTrans, (*Session).cmdUidl},
}

// dispatch runs one command line.
func (s *Session) dispatch(ctx context.Context, line []byte) {
	verb, rest, _ := bytes.Cut(line, []byte(" "))
	name := strings.ToUpper(string(verb))
	cmd, ok := commands[name]
	if !ok {
		name = "?"
	}
	s.mu.Lock()
	s.snap.LastCommand = name
	s.snap.LastActive = time.Now()
	s.mu.Unlock()
	s.touch()
	switch {
	case !ok:
		s.replyErr(errUnknownCommand)
	case !cmd.states.has(s.state):
		s.replyErr(errWrongState)
	default:
		if err := cmd.run(s, ctx, string(rest)); err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				s.log.Error("command failed", "cmd", name, "err", err)
			}
			s.replyErr(wireError(err))
		}
	}
}

// args splits a command's arguments, separated by single spaces (RFC 1939
// §3), and checks their count.
func args(arg string, min, max int) ([]string, error) {
	var f []string
	if arg != "" {
		f = strings.Split(arg, " ")
	}
	if len(f) < min || len(f) > max {
		return nil, errSyntax
	}
	for _, a := range f {
		if a == "" {
			return nil, errSyntax
		}
	}
	return f, nil
}

// number parses a decimal argument strictly: ASCII digits only, no sign.
// A value too large for 64 bits saturates rather than wrapping around, so
// it names no message and means "all lines" to TOP.
func number(a string) (uint64, bool) {
	if a == "" {
		return 0, false
	}
	for i := 0; i < len(a); i++ {
		if a[i] < '0' || a[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return math.MaxUint64, true
	}
	return n, true
}

// RFC 1939 §4 and §6 QUIT. In TRANSACTION it enters UPDATE: only here are
// messages marked as deleted removed.
func (s *Session) cmdQuit(context.Context, string) error {
	if s.state == StateTransaction {
		s.setState(StateUpdate)
		var dele, retr []int
		for i, d := range s.deleted {
			if d {
				dele = append(dele, i)
			} else if s.seen[i] {
				retr = append(retr, i)
			}
		}
		err := s.mbox.Update(dele, retr)
		left := len(s.deleted) - len(dele)
		release := func() {
			if cerr := s.mbox.Close(); cerr != nil {
				s.log.Error("releasing maildrop", "err", cerr)
			}
		}
		if p, ok := s.mbox.(Pender); ok && err == nil && p.Pending() {
			// Work that need not keep the client: the answer goes
			// first, then Close does it (holding the lock).
			defer func() { s.w.Flush(); release() }()
		} else {
			release() // before the answer: a client may log in again at once
		}
		s.setState(StateClosed)
		if err != nil {
			s.log.Error("update", "err", err)
			var pe *Error
			if errors.As(err, &pe) {
				return pe // e.g. the lock was lost: nothing (more) deleted
			}
			return errNotRemoved
		}
		s.removed = len(dele)
		s.reply("+OK bye, %d messages left", left)
		return nil
	}
	s.setState(StateClosed)
	s.reply("+OK bye")
	return nil
}

// RFC 1939 §5 STAT.
func (s *Session) cmdStat(_ context.Context, arg string) error {
	if _, err := args(arg, 0, 0); err != nil {
		return err
	}
	var n int
	var total int64
	for i, d := range s.deleted {
		if d {
			continue
		}
		if size, ok := s.size(i); ok {
			n++
			total += size
		}
	}
	s.reply("+OK %d %d", n, total)
	return nil
}

// RFC 1939 §5 LIST [msg].
func (s *Session) cmdList(_ context.Context, arg string) error {
	i, single, err := s.optMessage(arg)
	if err != nil {
		return err
	}
	if single {
		size, ok := s.size(i)
		if !ok {
			return errVanished
		}
		s.reply("+OK %d %d", i+1, size)
		return nil
	}
	s.reply("+OK scan listing follows")
	for i, d := range s.deleted {
		if d {
			continue
		}
		if size, ok := s.size(i); ok {
			s.listing(i+1, "", size)
		}
	}
	s.reply(".")
	return nil
}

// RFC 1939 §5 RETR msg.
func (s *Session) cmdRetr(_ context.Context, arg string) error {
	i, err := s.oneMessage(arg)
	if err != nil {
		return err
	}
	return s.send(i, "", nil)
}

// RFC 1939 §7 TOP msg n: the header, the blank line, and n body lines.
func (s *Session) cmdTop(_ context.Context, arg string) error {
	a, err := args(arg, 2, 2)
	if err != nil {
		return err
	}
	i, err := s.message(a[0])
	if err != nil {
		return err
	}
	n, ok := number(a[1])
	if !ok {
		return errSyntax
	}
	return s.send(i, "top of message follows", &n)
}

// send streams message i (all of it, or its top with n body lines).
func (s *Session) send(i int, okText string, n *uint64) error {
	size, ok := s.size(i)
	if !ok {
		return errVanished
	}
	rc, err := s.mbox.Open(i)
	if err != nil {
		s.log.Warn("message unavailable", "msg", i+1, "err", err)
		var pe *Error
		if errors.As(err, &pe) {
			return pe // the Mailbox knows what to tell (e.g. it changed)
		}
		s.markGone(i)
		return errVanished
	}
	defer rc.Close()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	body, err := s.utf8Gate(i, rc, (*bp)[:0])
	if err != nil {
		return err
	}
	s.sentAt.Store(time.Now().UnixNano()) // Sending, until flushed
	s.touch()
	if okText == "" {
		s.reply("+OK %d octets", size)
	} else {
		s.reply("+OK %s", okText)
	}
	var sent int64
	if n == nil {
		sent, err = writeStuffed(s.w, body)
		s.seen[i] = err == nil
	} else {
		sent, err = writeStuffed(s.w, newTopReader(body, *n))
	}
	s.accessed(i)
	s.mu.Lock()
	s.snap.Retrieved++
	s.snap.Octets += sent
	s.mu.Unlock()
	s.touch()
	var re *readError
	switch {
	case errors.As(err, &re):
		// The +OK went out, and POP3 has no way to take it back: ending
		// the response with "." would have the client keep a truncated
		// (or grown) message as complete, and perhaps DELE it. Hang up
		// without the ".", and without UPDATE.
		s.log.Warn("message unreadable while being sent; closing the connection", "msg", i+1, "err", re.err)
		s.hangup = "message changed while being sent"
	case err != nil:
		s.log.Warn("sending message", "msg", i+1, "err", err)
	}
	return nil
}

// RFC 1939 §5 DELE msg.
func (s *Session) cmdDele(_ context.Context, arg string) error {
	a, err := args(arg, 1, 1)
	if err != nil {
		return err
	}
	i, err := s.messageOrGone(a[0])
	if err != nil {
		return err
	}
	s.deleted[i] = true
	s.accessed(i)
	s.reply("+OK message %d deleted", i+1)
	return nil
}

// RFC 1939 §5 NOOP.
func (s *Session) cmdNoop(_ context.Context, arg string) error {
	if _, err := args(arg, 0, 0); err != nil {
		return err
	}
	s.reply("+OK")
	return nil
}

// RFC 1939 §5 RSET: unmark deleted messages; RFC 1081 also resets LAST.
func (s *Session) cmdRset(_ context.Context, arg string) error {
	if _, err := args(arg, 0, 0); err != nil {
		return err
	}
	clear(s.deleted)
	s.last = 0
	s.reply("+OK %d messages", len(s.deleted))
	return nil
}

// RFC 1081 LAST: the highest message number accessed in this session.
func (s *Session) cmdLast(_ context.Context, arg string) error {
	if _, err := args(arg, 0, 0); err != nil {
		return err
	}
	s.reply("+OK %d", s.last)
	return nil
}

// RFC 1939 §7 UIDL [msg].
func (s *Session) cmdUidl(_ context.Context, arg string) error {
	i, single, err := s.optMessage(arg)
	if err != nil {
		return err
	}
	if single {
		s.reply("+OK %d %s", i+1, s.mbox.UID(i))
		return nil
	}
	s.reply("+OK unique-id listing follows")
	for i, d := range s.deleted {
		if !d && !s.isGone(i) {
			s.listing(i+1, s.mbox.UID(i), 0)
		}
	}
	s.reply(".")
	return nil
}

// RFC 1081 RPOP trusted the client's source port; we never will.
func (s *Session) cmdRPOP(context.Context, string) error { return errRPOP }

// RFC 2449 §5 CAPA, valid in both states.
func (s *Session) cmdCapa(_ context.Context, arg string) error {
	if _, err := args(arg, 0, 0); err != nil {
		return err
	}
	s.reply("+OK capability list follows")
	// RFC 6856 §2: UTF8, in both states; USER: UTF-8 names and passwords.
	for _, c := range []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "UTF8 USER"} {
		s.reply("%s", c)
	}
	if s.plaintextOK() {
		s.reply("USER")
	}
	if s.cfg.TLS != nil && !s.info.TLS && !s.utf8 {
		s.reply("STLS") // RFC 2595 §4: only before TLS is on; RFC 6856 §2.1: not after UTF8
	}
	if m := s.mechanisms(); len(m) > 0 {
		s.reply("SASL %s", strings.Join(m, " "))
	}
	if d := s.cfg.LoginDelay; d > 0 {
		s.reply("LOGIN-DELAY %d", int(d.Seconds()))
	}
	if s.cfg.Expire != "" {
		s.reply("EXPIRE %s", s.cfg.Expire)
	}
	impl := s.cfg.Implementation
	if impl == "" {
		impl = "popd"
	}
	s.reply("IMPLEMENTATION %s", s.respText(impl))
	s.reply(".")
	return nil
}
