package pop3

// Message numbers: resolving arguments, and the messages found gone.

// message resolves a message-number argument to an index of a message that
// exists, is not deleted and is not gone.
func (s *Session) message(a string) (int, error) {
	i, err := s.messageOrGone(a)
	if err == nil && s.isGone(i) {
		return 0, errVanished
	}
	return i, err
}

// messageOrGone is message that accepts a message found gone: DELE of one
// is +OK, since what the client wants is done (and a client that gets -ERR
// for a DELE may give up its other deletions).
func (s *Session) messageOrGone(a string) (int, error) {
	n, ok := number(a)
	if !ok {
		return 0, errSyntax
	}
	if n < 1 || n > uint64(len(s.deleted)) {
		return 0, errNoSuchMessage
	}
	i := int(n - 1)
	if s.deleted[i] {
		return 0, errDeleted
	}
	return i, nil
}

// The messages that another program deleted (or made unreadable) during
// the session are found out when their size or content is wanted. From
// then on they are gone for the session: STAT, LIST and UIDL leave them out
// alike, and commands naming them get errVanished (RFC 1939 keeps message
// numbers, so the others keep theirs).

// isGone reports whether message i was found gone.
func (s *Session) isGone(i int) bool { return s.gone != nil && s.gone[i] }

// markGone records that message i is gone.
func (s *Session) markGone(i int) {
	if s.gone == nil {
		s.gone = make([]bool, len(s.deleted))
	}
	s.gone[i] = true
}

// size is the size of message i, or false when it is gone (now found so).
func (s *Session) size(i int) (int64, bool) {
	if s.isGone(i) {
		return 0, false
	}
	n, err := s.mbox.Size(i)
	if err != nil {
		s.log.Warn("message unavailable", "msg", i+1, "err", err)
		s.markGone(i)
		return 0, false
	}
	return n, true
}

// oneMessage parses the single message-number argument of RETR and DELE.
func (s *Session) oneMessage(arg string) (int, error) {
	a, err := args(arg, 1, 1)
	if err != nil {
		return 0, err
	}
	return s.message(a[0])
}

// optMessage parses the optional message-number argument of LIST and UIDL:
// single reports whether one was given.
func (s *Session) optMessage(arg string) (i int, single bool, err error) {
	a, err := args(arg, 0, 1)
	if err != nil || len(a) == 0 {
		return 0, false, err
	}
	i, err = s.message(a[0])
	return i, true, err
}

// accessed records that message index i was accessed, for LAST.
func (s *Session) accessed(i int) {
	if i+1 > s.last {
		s.last = i + 1
	}
}
