// Package maildir is a user's maildrop as popd's POP3 sessions see it: the
// messages in a Maildir's new/ and cur/ folders, taken once when the maildrop
// is opened and locked, with exact network sizes, persistent unique ids, and
// the changes of the UPDATE state done without ever losing a message.
//
// # Layout
//
// A maildrop is a Maildir (https://cr.yp.to/proto/maildir.html): a directory
// holding new/, cur/ and tmp/. Besides those, popd keeps these files in the
// maildir root:
//
//   - popd.lock, the exclusive lock of a POP3 session (RFC 1939 §4), see
//     "The lock" below.
//   - .popd.lock.spare, the same file while nobody holds the lock.
//   - popd-uidls, the UIDLs popd has shown, so that none ever changes (see
//     "Migrated maildirs" below). popd reads, and never writes, Dovecot's
//     dovecot-uidlist and Courier's courierpop3dsizelist.
//   - popd-sizes, a cache of the exact sizes of messages, keyed by the base
//     name of their files (Maildir files never change) and checked against
//     the file's raw size when a message is opened and against the octets
//     actually read while it is sent. It is only a cache: a missing, corrupt
//     or implausible one is rebuilt, and a failure to write it is logged
//     once and otherwise ignored. It is replaced atomically (a temporary
//     .popd-sizes-*.tmp, fsync, rename); temporary files left by a killed
//     writer are removed by the next write.
//
// # Files in a maildir are not trusted
//
// Users (or their programs) may be able to write into their own maildir,
// while popd runs as root or as the mail user. Nothing placed there may make
// popd read, move or delete files elsewhere, or block it:
//
//   - The maildir is opened once per session, and new/ and cur/ with
//     O_NOFOLLOW|O_DIRECTORY; everything after that is relative to those
//     open directories (openat, renameat2, unlinkat), so a folder replaced
//     by a link during a session changes nothing. A new/ or cur/ that is a
//     link, or a link on the path to the maildir that neither root nor
//     popd's user owns, makes Open fail with ErrUnsafe (see openTree).
//   - Message files, the lock and the cache are opened with O_NOFOLLOW and
//     O_NONBLOCK and used only when fstat says they are regular files; the
//     lock and cache are read only up to a bound. A FIFO, a device or a
//     link in place of popd.lock is no lock: the next session removes it.
//   - A sizes cache entry is believed only when it can be true (the network
//     size is between the raw size and twice it plus two); even then the
//     octets sent are counted against it (ErrChanged).
//
// Symbolic links and other non-regular files in new/ and cur/ are not
// messages.
//
// # The lock
//
// The lock is a file created with O_CREAT|O_EXCL, so that it works for
// several popd processes and hosts sharing the maildirs (NFS, where flock
// would not do). It is created once per maildir and then reused: releasing
// renames it to .popd.lock.spare, and taking the lock renames the spare
// back (RENAME_NOREPLACE, or link and unlink) and rewrites its content in
// place, the same size. So on a full disk or over quota, where no block can
// be had, a user can still log in and DELE+QUIT to make room.
//
// It holds the holder's host, pid, owner text, start time and a random
// token, and its mtime is refreshed while it is held. A lock whose mtime is
// older than Options.StaleLock, or whose holder ran on this host and is no
// longer a live process, is stale and is broken by the next Open (renamed
// to a name of its own and checked again there, so that a lock refreshed
// meanwhile is put back).
//
// The lock is a lease. A holder that was paused past the stale time, or
// whose lock an administrator broke (on any node: BreakLock), may find
// another session serving the maildrop. So Update takes no step unless the
// lock file is still its own (the lock's name leads to its file and the
// file holds its token), verified on disk at the start and at least every
// second, and its last successful refresh, timed on the monotonic clock, is
// younger than half the stale time; else it fails with ErrLockLost and
// changes nothing more (the arithmetic is in lease.go). Releasing leaves a
// lock taken since by someone else alone.
//
// # Messages, numbering and unique ids
//
// The messages are the regular files in new/ and cur/ whose names do not start
// with ".", numbered in delivery order: by the leading decimal seconds of the
// name, then by the microseconds of an "M<usec>" part of its unique part when
// there is one, then by base name (names without leading digits come last, by
// name). The list is fixed when the maildrop is opened; later deliveries are
// neither seen nor touched.
//
// The base name of a file is its name up to the first ":"; the info suffix
// (":2,FLAGS") is not part of it, so the base name stays the same when a
// message moves from new/ to cur/ or changes flags. The unique id (RFC 1939 §7)
// is the base name when it is 1-70 octets in 0x21-0x7E, else a hex digest of
// it; ids are never derived from state that a crash could lose.
//
// Two files with the same base name (new/X and cur/X:2,S, left by a crash
// between link and unlink or by a program that copies) are two messages: the
// one in cur/ keeps the id, the other gets a digest of its folder and name.
// Update neither moves nor flags such messages, since that would change ids,
// and they are never in the sizes cache. When the one that has the base
// name's id is deleted, Update first renames the other to its id (its base
// name becomes its digest), so that it keeps its id rather than inherit the
// deleted one's.
//
// # Migrated maildirs
//
// A maildir that Dovecot or Courier served keeps the UIDLs their POP3 gave
// (a dovecot-uidlist P field or pop3_uidl_format, Courier's UID<n>-<v>), in
// Dovecot's order for the messages Dovecot lists; the rules, and what
// popd-uidls guarantees, are in uidmap.go. Dovecot's ,S= and ,W= sizes (in
// names and the uidlist) are used with a check of the last octet only.
//
// # Nothing is lost
//
// Messages are only unlinked by [Mailbox.Update] (RFC 1939 §6). Moves from
// new/ to cur/ and flag changes never overwrite a file (renameat2 with
// RENAME_NOREPLACE, or link and unlink where the file system lacks it), and
// the directories are synced afterwards. A crash at any point leaves every
// message that was not deleted in place, at worst under two names.
//
// # Network form
//
// POP3 counts and sends messages in network form (RFC 1939 §3, §11): every line
// ends in CRLF. A "\r\n" stays, a lone "\n" becomes "\r\n", a lone "\r" is an
// ordinary byte, NUL and 8-bit bytes pass unchanged, and a non-empty message
// whose last line has no line ending gets "\r\n" appended. [NewCRLFReader]
// streams that conversion, and [Mailbox.Size] is exactly the number of octets
// it yields for the message. Byte-stuffing is the caller's business.
//
// # Concurrency
//
// A [Mailbox] is used by one session goroutine; [Mailbox.Close] may be called
// from any goroutine at any time (to kick a session), and waits for a method
// running in the session goroutine to return.
package maildir
