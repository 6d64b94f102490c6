package maildir

import (
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"
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
	// The folders change now: no index for the list as it was.
	m.stamps, m.indexStale = nil, false
	u := updater{m: m}
	// Verified on disk first, whatever the refresher said a moment ago.
	if err := u.hold(true); err != nil {
		return err
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

	defer u.syncDirs()
	defer m.saveCache()
	// Before anything is deleted: a message whose id is not that of its
	// base name (it shares the base name with another, see
	// fixDuplicateUIDs) would get that id once the message that has it now
	// is deleted, and a client that keeps mail on the server would take it
	// for the deleted one and never fetch it. So it first gets its id as
	// its base name, which keeps its id, also if we crash in between.
	gone := make(map[string]bool)
	for i := range m.msgs {
		if del[i] {
			gone[m.msgs[i].uid] = true
		}
	}
	for i := range m.msgs {
		if msg := &m.msgs[i]; !del[i] && !msg.vanished && len(gone) > 0 && msg.uid != m.solo(i) && gone[m.solo(i)] {
			if err := u.hold(false); err != nil {
				return err
			}
			u.move(i, func(msg *message) (location, bool) {
				return location{msg.folder, msg.uid + msg.name[len(msg.base):]}, true
			})
		}
	}
	if len(u.renamed) > 0 {
		u.syncDirs()
	}
	failed := 0
	var firstErr error
	for i := range m.msgs {
		if !del[i] || m.msgs[i].deleted {
			continue
		}
		if err := u.hold(false); err != nil {
			return fmt.Errorf("%w (%d of the deleted messages not removed)", err, len(deleted)-i)
		}
		if err := u.remove(i); err != nil {
			m.log.Warn("maildir: deleting message", "dir", m.dir, "err", err)
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	// The moves new/ -> cur/ and the S flags lose nothing if left undone.
	// When there are many (a first session on a large maildrop), they are
	// left to Close: the client has its +OK without waiting for them (the
	// deletions are done and synced when Update returns), and the lock is
	// held until they are done.
	if m.toSettle(seen) > settleLater {
		m.pendingSeen, m.pendingDel = seen, del
		startSettling(m.t)
		m.settling = true
	} else if err := u.settleAll(seen, del); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("maildir: %d of the deleted messages not removed: %w", failed, firstErr)
	}
	return nil
}

// Pending reports whether Update left moves to Close.
func (m *Mailbox) Pending() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pendingSeen != nil
}

// settleLater is how many moves Update does itself; more are left to
// Close.
const settleLater = 256

// toSettle counts the messages that settle would move or flag. m.mu is
// held.
func (m *Mailbox) toSettle(seen []bool) int {
	n := 0
	for i := range m.msgs {
		msg := &m.msgs[i]
		if msg.deleted || msg.vanished {
			continue
		}
		if flags, _ := infoFlags(msg.name); msg.folder == folderNew || seen[i] && strings.IndexByte(flags, 'S') < 0 {
			n++
		}
	}
	return n
}

// settleAll settles every message still there that the client did not
// delete (see settle).
func (u *updater) settleAll(seen, del []bool) error {
	for i := range u.m.msgs {
		if msg := &u.m.msgs[i]; del[i] || msg.deleted || msg.vanished {
			continue
		}
		if err := u.hold(false); err != nil {
			return err
		}
		u.settle(i, seen[i])
	}
	return nil
}

// settlePending does the moves an Update left to Close. m.mu is held.
func (m *Mailbox) settlePending() {
	seen, del := m.pendingSeen, m.pendingDel
	m.pendingSeen, m.pendingDel = nil, nil
	if seen == nil {
		return
	}
	u := updater{m: m}
	if err := u.settleAll(seen, del); err != nil {
		m.log.Warn("maildir: moves after QUIT stopped", "dir", m.dir, "err", err)
	}
	u.syncDirs()
	m.saveCache()
}

// updater carries the state of one Update.
type updater struct {
	m       *Mailbox
	locs    locations // read once, when a message is not where it was
	changed [2]bool   // by folder: the directory needs a sync
	renamed []int     // messages renamed to their ids
	lost    bool
}

// hold fails when the session no longer holds the maildrop's lock (see
// lockFile.hold); force verifies it on disk now.
func (u *updater) hold(force bool) error {
	l := u.m.lock
	if force {
		l.mu.Lock()
		err := l.refresh()
		l.mu.Unlock()
		if err != nil {
			u.m.log.Warn("maildir: not updating: the lock is not ours any more", "dir", u.m.dir, "err", err)
			return fmt.Errorf("%w (%v)", ErrLockLost, err)
		}
	}
	err := l.hold()
	if err != nil && !u.lost {
		u.lost = true
		u.m.log.Warn("maildir: update stopped: the lock is not ours any more", "dir", u.m.dir, "err", err)
	}
	return err
}

// find looks for message i elsewhere after it was not found where it was.
func (u *updater) find(i int) bool {
	if u.locs == nil {
		var err error
		u.locs, err = readLocations(u.m.t)
		if err != nil {
			u.m.log.Warn("maildir: looking for moved messages", "dir", u.m.dir, "err", err)
		}
	}
	return u.m.relocate(i, u.locs)
}

// remove unlinks message i.
func (u *updater) remove(i int) error {
	msg := &u.m.msgs[i]
	for try := 0; ; try++ {
		// Not AT_REMOVEDIR: a directory there is not a message.
		err := unix.Unlinkat(u.m.t.folder[msg.folder], msg.name, 0)
		if err == nil {
			msg.deleted = true
			u.changed[msg.folder] = true
			u.m.cacheDirty = true
			return nil
		}
		if err != unix.ENOENT {
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
	if shared(m.msgs, i) {
		// The UIDs of messages with the same base name depend on their
		// folders and names (see fixDuplicateUIDs): leave them be.
		m.log.Warn("maildir: not moving or flagging a message whose base name is not unique",
			"dir", m.dir, "file", m.path(i))
		return
	}
	u.move(i, func(msg *message) (location, bool) {
		flags, std := infoFlags(msg.name)
		switch {
		case msg.folder == folderNew && std:
			var f byte
			if seen {
				f = 'S'
			}
			return location{folderCur, msg.base + ":2," + withFlag(flags, f)}, true
		case msg.folder == folderNew:
			// An info suffix we do not know: keep it.
			return location{folderCur, msg.name}, true
		case seen && std && strings.IndexByte(flags, 'S') < 0:
			return location{folderCur, msg.base + ":2," + withFlag(flags, 'S')}, true
		}
		return location{}, false
	})
}

// move renames message i to where target says, never over an existing
// file. A message that is not where it was is looked for once, and target
// asked again for where it is now. Failures are logged: nothing is lost,
// the message stays where it was.
func (u *updater) move(i int, target func(msg *message) (location, bool)) {
	m := u.m
	msg := &m.msgs[i]
	for try := 0; ; try++ {
		to, ok := target(msg)
		if !ok {
			return
		}
		err := renameNoReplace(m.t.folder[msg.folder], msg.name, m.t.folder[to.folder], to.name)
		switch {
		case err == nil:
			u.changed[msg.folder] = true
			u.changed[to.folder] = true
			if b := baseName(to.name); b != msg.base {
				msg.base = b
				u.renamed = append(u.renamed, i)
				m.cacheDirty = true
			}
			msg.folder, msg.name = to.folder, to.name
		case err == unix.EEXIST:
			m.log.Warn("maildir: not moving a message over an existing file", "dir", m.dir,
				"from", m.path(i), "to", to.folder.String()+"/"+to.name)
		case err == unix.ENOENT && try == 0 && u.find(i):
			continue // moved by someone else; from where it is now
		case err == unix.ENOENT:
			msg.vanished = true
		default:
			m.log.Warn("maildir: moving message", "dir", m.dir, "file", m.path(i), "err", err)
		}
		return
	}
}

// shared reports whether another message of the list that is still there
// has the base name of message i. Those are next to each other in the list.
func shared(msgs []message, i int) bool {
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
		if err := unix.Fsync(u.m.t.folder[f]); err != nil {
			u.m.log.Warn("maildir: syncing directory", "dir", u.m.dir, "folder", folder(f).String(), "err", err)
		}
		u.changed[f] = false
	}
}

// linkUnlink moves oldname in olddir to newname in newdir without ever
// overwriting newname, for file systems without RENAME_NOREPLACE: a crash
// in between leaves both names, never none.
func linkUnlink(olddir int, oldname string, newdir int, newname string) error {
	if err := unix.Linkat(olddir, oldname, newdir, newname, 0); err != nil {
		return err
	}
	if err := unix.Unlinkat(olddir, oldname, 0); err != nil && err != unix.ENOENT {
		return err
	}
	return nil
}
