// Package maildir is a user's maildrop as popd's POP3 sessions see it: the
// messages in a Maildir's new/ and cur/ folders, taken once when the maildrop
// is opened and locked, with exact network sizes, persistent unique ids, and
// the changes of the UPDATE state done without ever losing a message.
//
// # Layout
//
// A maildrop is a Maildir (https://cr.yp.to/proto/maildir.html): a directory
// holding new/, cur/ and tmp/. Besides those, popd keeps two files in the
// maildir root:
//
//   - popd.lock, the exclusive lock of a POP3 session (RFC 1939 §4). It is a
//     plain file created with O_CREAT|O_EXCL, so it works for several popd
//     processes and hosts sharing the maildirs (NFS). It holds the holder's
//     host, pid, owner text and start time, and its mtime is refreshed while
//     it is held. A lock whose mtime is older than Options.StaleLock, or whose
//     holder ran on this host and is no longer a live process, is stale and
//     is broken by the next Open.
//   - popd-sizes, a cache of the exact sizes of messages, keyed by the base
//     name of their files (Maildir files never change) and checked against
//     the file's raw size when a message is opened. It is only a cache: a
//     missing or corrupt one is rebuilt, and a failure to write it is logged
//     and otherwise ignored. It is replaced atomically (a temporary
//     .popd-sizes-*.tmp, fsync, rename).
//
// Symbolic links and other non-regular files in new/ and cur/ are not
// messages, and message files are opened with O_NOFOLLOW, so that whoever
// can write into a maildir cannot have popd read files elsewhere.
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
// Update neither moves nor flags such messages, since that would change ids.
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
