package pop3test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"
	"testing/iotest"

	"popd/internal/pop3"
)

var _ pop3.Mailbox = (*Mailbox)(nil)

// Message is one message of a Mailbox, with the faults a maildrop on disk
// can show.
type Message struct {
	UID string
	// Data is the message in network form, every line ending in CRLF: what
	// RETR sends before byte-stuffing. Size is len(Data).
	Data []byte
	// Seen is set by an UPDATE that was told the message was retrieved.
	Seen bool

	// Vanished makes Size and Open fail, as when another program removed
	// the file during the session.
	Vanished bool
	// OpenErr, when set, makes Open fail though Size works.
	OpenErr error
	// ReadErr, when set, is what reading the message returns after Data.
	ReadErr error
}

// Update is one call of Mailbox.Update: message indexes, 0-based.
type Update struct {
	Deleted, Retrieved []int
}

// Mailbox is an in-memory pop3.Mailbox. Update does what a maildrop does:
// it removes the deleted messages and marks the retrieved ones Seen.
type Mailbox struct {
	// UpdateErr, when set, makes Update fail and change nothing.
	UpdateErr error
	// CloseErr, when set, is what Close returns (it still unlocks).
	CloseErr error

	mu       sync.Mutex
	messages []Message
	locked   bool
	updates  []Update
}

// NewMailbox returns an unlocked mailbox holding msgs, each in network
// form, with the UIDs "uid-1", "uid-2", ...
func NewMailbox(msgs ...string) *Mailbox {
	m := &Mailbox{}
	for i, data := range msgs {
		m.messages = append(m.messages, Message{UID: fmt.Sprintf("uid-%d", i+1), Data: []byte(data)})
	}
	return m
}

// Message returns a pointer to message i, to set up its faults before a
// session opens the mailbox.
func (m *Mailbox) Message(i int) *Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &m.messages[i]
}

// Messages returns a copy of the messages now in the mailbox.
func (m *Mailbox) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.messages)
}

// Lock takes the mailbox's exclusive lock, as the Backend does at login,
// or returns pop3.ErrInUse (RFC 1939 §8). A test takes it to play another
// session holding the maildrop.
func (m *Mailbox) Lock() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locked {
		return pop3.ErrInUse
	}
	m.locked = true
	return nil
}

// Locked reports whether the lock is held.
func (m *Mailbox) Locked() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.locked
}

// Updates returns the calls of Update so far.
func (m *Mailbox) Updates() []Update {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.updates)
}

// message returns a copy of message i.
func (m *Mailbox) message(i int) Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.messages[i]
}

// Count implements pop3.Mailbox.
func (m *Mailbox) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.messages)
}

// Size implements pop3.Mailbox.
func (m *Mailbox) Size(i int) (int64, error) {
	msg := m.message(i)
	if msg.Vanished {
		return 0, fs.ErrNotExist
	}
	return int64(len(msg.Data)), nil
}

// UID implements pop3.Mailbox.
func (m *Mailbox) UID(i int) string { return m.message(i).UID }

// Open implements pop3.Mailbox.
func (m *Mailbox) Open(i int) (io.ReadCloser, error) {
	msg := m.message(i)
	switch {
	case msg.Vanished:
		return nil, fs.ErrNotExist
	case msg.OpenErr != nil:
		return nil, msg.OpenErr
	}
	var r io.Reader = bytes.NewReader(msg.Data)
	if msg.ReadErr != nil {
		r = io.MultiReader(r, iotest.ErrReader(msg.ReadErr))
	}
	return io.NopCloser(r), nil
}

// Update implements pop3.Mailbox.
func (m *Mailbox) Update(deleted, retrieved []int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.locked {
		return errors.New("pop3test: Update without the lock")
	}
	m.updates = append(m.updates, Update{Deleted: slices.Clone(deleted), Retrieved: slices.Clone(retrieved)})
	if m.UpdateErr != nil {
		return m.UpdateErr
	}
	for _, i := range retrieved {
		m.messages[i].Seen = true
	}
	kept := m.messages[:0:0]
	for i, msg := range m.messages {
		if !slices.Contains(deleted, i) {
			kept = append(kept, msg)
		}
	}
	m.messages = kept
	return nil
}

// Close implements pop3.Mailbox: it releases the lock.
func (m *Mailbox) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.locked = false
	return m.CloseErr
}
