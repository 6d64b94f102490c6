package server

import (
	"errors"
	"fmt"
	"io"

	"popd/internal/maildir"
	"popd/internal/pop3"
)

// mailbox is a maildir.Mailbox as a POP3 session uses it: the maildir
// errors a client should understand become the answers it reads.
type mailbox struct{ *maildir.Mailbox }

var _ pop3.Mailbox = mailbox{}

var (
	// errChanged: the message file is not what its size was taken from
	// (see maildir.ErrChanged); a new session counts it again.
	errChanged = &pop3.Error{Code: "SYS/TEMP", Text: "the message changed on disk; try again in a new session"}
	// errLockLost: another session took the maildrop over (an
	// administrator unlocked it, or this session was stalled past the
	// stale time); UPDATE stopped (see maildir.ErrLockLost).
	errLockLost = &pop3.Error{Code: "SYS/TEMP", Text: "the maildrop lock was lost; deleted messages not removed, try again"}
)

func (m mailbox) Open(i int) (io.ReadCloser, error) {
	rc, err := m.Mailbox.Open(i)
	if errors.Is(err, maildir.ErrChanged) {
		return nil, fmt.Errorf("%w: %w", errChanged, err)
	}
	return rc, err
}

func (m mailbox) Update(deleted, retrieved []int) error {
	err := m.Mailbox.Update(deleted, retrieved)
	if errors.Is(err, maildir.ErrLockLost) {
		return fmt.Errorf("%w: %w", errLockLost, err)
	}
	return err
}
