package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Update is the UPDATE state (RFC 1939 §6): "the POP3 server removes all
// messages marked as deleted from the maildrop". It unlinks the messages in
// deleted; every other message of the list that is in new/ moves to cur/
// with the info suffix ":2," (":2,S" when it is in retrieved), and a message
// in cur/ that was retrieved gets the S (seen) flag. Messages delivered after
// Open are not touched. Indices out of range are ignored.
//
// A message already gone is not an error. When some deleted messages could
// not be removed, the others are still removed and the rest done, and the
// error tells how many failed (RFC 1939 §6: "-ERR some deleted messages not
// removed"). A message that cannot be moved or flagged is only logged:
// nothing is lost, it stays where it was. Renames never overwrite a file.
// The new/ and cur/ directories are synced before Update returns. Update
// does not release the lock; Close does.
func (m *Mailbox) Update(deleted, retrieved []int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.lock.lost.Load() {
		m.log.Warn("maildir: updating the maildrop after losing its lock", "dir", m.dir)
	}
	n := len(m.msgs)
	del := make([]bool, n)
	seen := make([]bool, n)
	for _, i := range deleted {
		if i >= 0 && i < n {
			del[i] = true
		}
	}
	for _, i := range retrieved {
		if i >= 0 && i < n {
			seen[i] = true
		}
	}

	u := updater{m: m}
	failed := 0
	var firstErr error
	for i := range m.msgs {
		if !del[i] || m.msgs[i].deleted {
			continue
		}
		if err := u.remove(i); err != nil {
			m.log.Warn("maildir: deleting message", "err", err)
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	for i := range m.msgs {
		if del[i] || m.msgs[i].deleted || m.msgs[i].vanished {
			continue
		}
		u.settle(i, seen[i])
	}
	u.syncDirs()
	m.saveCache()
	if failed > 0 {
		return fmt.Errorf("maildir: %d of the deleted messages not removed: %w", failed, firstErr)
	}
	return nil
}

// updater carries the state of one Update.
type updater struct {
	m       *Mailbox
	locs    locations // read once, when a message is not where it was
	changed [2]bool   // by folder: the directory needs a sync
}

// find looks for message i elsewhere after it was not found where it was.
func (u *updater) find(i int) bool {
	if u.locs == nil {
		var err error
		u.locs, err = readLocations(u.m.dir)
		if err != nil {
			u.m.log.Warn("maildir: looking for moved messages", "err", err)
		}
	}
	return u.m.relocate(i, u.locs)
}

// remove unlinks message i.
func (u *updater) remove(i int) error {
	msg := &u.m.msgs[i]
	for try := 0; ; try++ {
		// Not os.Remove: it would remove an empty directory as well.
		err := syscall.Unlink(u.m.path(i))
		if err == nil {
			msg.deleted = true
			u.changed[msg.folder] = true
			u.m.cacheDirty = true
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return &fs.PathError{Op: "unlink", Path: u.m.path(i), Err: err}
		}
		// Gone from where it was: deleted, or moved by another program.
		if try > 0 || !u.find(i) {
			msg.deleted = true
			u.m.cacheDirty = true
			return nil
		}
	}
}

// settle moves message i from new/ to cur/, with S among its flags when it
// was retrieved, and adds S to the flags of a retrieved message in cur/.
func (u *updater) settle(i int, seen bool) {
	m := u.m
	msg := &m.msgs[i]
	if u.shared(i) {
		// The UIDs of messages with the same base name depend on their
		// folders and names (see assignUIDs): leave them be.
		m.log.Warn("maildir: not moving or flagging a message whose base name is not unique",
			"file", msg.folder.String()+"/"+msg.name)
		return
	}
	for try := 0; ; try++ {
		flags, std := infoFlags(msg.name)
		var to location
		switch {
		case msg.folder == folderNew && std:
			var f byte
			if seen {
				f = 'S'
			}
			to = location{folderCur, msg.base + ":2," + withFlag(flags, f)}
		case msg.folder == folderNew:
			// An info suffix we do not know: keep it.
			to = location{folderCur, msg.name}
		case seen && std && strings.IndexByte(flags, 'S') < 0:
			to = location{folderCur, msg.base + ":2," + withFlag(flags, 'S')}
		default:
			return
		}
		from := m.path(i)
		err := renameNoReplace(from, filepath.Join(m.dir, to.folder.String(), to.name))
		switch {
		case err == nil:
			u.changed[msg.folder] = true
			u.changed[to.folder] = true
			msg.folder, msg.name = to.folder, to.name
			return
		case errors.Is(err, fs.ErrExist):
			m.log.Warn("maildir: not moving a message over an existing file", "err", err)
			return
		case errors.Is(err, fs.ErrNotExist) && try == 0 && u.find(i):
			continue // moved by someone else; settle it where it is now
		case errors.Is(err, fs.ErrNotExist):
			msg.vanished = true
			return
		default:
			m.log.Warn("maildir: moving message", "err", err)
			return
		}
	}
}

// shared reports whether another message of the list that is still there
// has the base name of message i. Those are next to each other in the list.
func (u *updater) shared(i int) bool {
	msgs := u.m.msgs
	for _, step := range []int{-1, 1} {
		for j := i + step; j >= 0 && j < len(msgs) && msgs[j].base == msgs[i].base; j += step {
			if !msgs[j].deleted && !msgs[j].vanished {
				return true
			}
		}
	}
	return false
}

// syncDirs makes the changes to new/ and cur/ durable.
func (u *updater) syncDirs() {
	for f, changed := range u.changed {
		if !changed {
			continue
		}
		if err := syncDir(filepath.Join(u.m.dir, folder(f).String())); err != nil {
			u.m.log.Warn("maildir: syncing directory", "err", err)
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// linkUnlink moves oldpath to newpath without ever overwriting newpath, for
// file systems without RENAME_NOREPLACE: a crash in between leaves both
// names, never none.
func linkUnlink(oldpath, newpath string) error {
	if err := os.Link(oldpath, newpath); err != nil {
		return err
	}
	err := syscall.Unlink(oldpath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &os.LinkError{Op: "unlink after link", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}
