// Package userdb reads popd's users from a passwd-file in Dovecot's format,
// checks their passwords, reloads the file when it changes, and edits it
// safely, so that popd can share the file Dovecot already uses.
//
// # File format
//
// One user per line:
//
//	name:{SCHEME}hash:uid:gid:gecos:home:shell:extra_fields
//
// Only the name and password fields are required ("alice:{PLAIN}secret" is a
// whole line). Empty lines, lines starting with "#" and lines with an empty
// name are skipped; CRLF line endings are accepted. extra_fields is the rest
// of the line (it may contain ":"): space-separated "key=value" words, or
// bare words. The first line for a name wins; later ones are logged and
// ignored. Lines that cannot be parsed (an invalid name, no password field)
// are logged by line number, never by content, and skipped. Names are
// compared exactly, as written.
//
// # Userdb fields
//
// Of Dovecot's userdb extra fields (those prefixed "userdb_", see
// https://doc.dovecot.org/2.3/configuration_manual/authentication/passwd_file/)
// popd reads the two that say where mail is, as Dovecot 2.3's passwd-file
// reads them (src/auth/db-passwd-file.c, userdb-passwd-file.c):
//
//	userdb_mail=maildir:~/Maildir   the user's mail location (User.Mail)
//	userdb_home=/home/%u            the home directory; overrides the home field
//
// Words are split at spaces only, with no quoting (a quote is part of the
// value); the last of each wins; a bare "mail=" is a passdb field to
// Dovecot and means nothing here. The old format, an empty eighth field
// followed by the location ("...:shell::maildir:~/Maildir"), is read as
// userdb_mail. Dovecot expands %u, %n, %d and %% in these fields when it
// looks the user up, before the home directory is known: %h is empty there,
// so popd refuses it (use ~/, which is expanded later, with the home). The
// location is checked with maildir.ParseLocation when the file is loaded.
// A user whose userdb_mail or userdb_home cannot be used (not Maildir, a
// malformed location, an unknown %variable, a relative home, ...) is logged
// with its name, line number and the reason, and left out; its name stays
// taken, so that a later line for the same name is ignored as a duplicate.
// Other extra fields are ignored, and kept byte for byte by every edit.
//
// # Password schemes
//
//	BLF-CRYPT     bcrypt, "$2y$", "$2b$" or "$2a$"
//	SHA512-CRYPT  glibc SHA-crypt "$6$", with optional "rounds=N$"
//	SHA256-CRYPT  glibc SHA-crypt "$5$", with optional "rounds=N$"
//	ARGON2ID      "$argon2id$v=19$m=M,t=T,p=P$salt$hash" (PHC string)
//	SCRAM-SHA-256 "iterations,salt,StoredKey,ServerKey" (RFC 5802 secrets,
//	              base64; Dovecot's format; at least 4096 iterations)
//	PLAIN         the password itself (also CLEAR, CLEARTEXT)
//
// File.SCRAM gives the SASL SCRAM-SHA-256 mechanism its credentials: the
// stored ones of SCRAM-SHA-256 users, ones derived on the fly for PLAIN
// users, and stand-ins for everyone else, made with the same work (one key
// derivation at the announced iteration count, a salt stable per name), so
// that server-first does not tell whether a user exists.
//
// Scheme names are case-insensitive. A password without a {SCHEME} prefix,
// or with {CRYPT}, is a crypt(3) hash (Dovecot's default scheme) and is
// recognised by its "$id$" among the four crypt(3) schemes above. Anything else (DES or MD5 crypt,
// the other Dovecot schemes, an empty field, a malformed hash) makes the
// user unusable: logged once when the file is loaded, with the user name and
// line number, and refused by Verify whatever the password. New passwords
// are hashed with BLF-CRYPT, cost 10, written "$2y$" as Dovecot writes them.
//
// # Disabled users
//
// A user is disabled when the extra fields contain "nologin" (Dovecot's
// passdb field refusing logins) or "popd_disabled" (popd's own, which
// Dovecot ignores); see User.Disabled.
//
// # Reloading and editing
//
// File.Watch reloads on change, told by inotify and by a poll of the
// file's identity every 2 s that sees writes made on other NFS clients;
// File.Reload does it by hand. Add, SetPassword, Delete and SetDisabled
// edit the file in place of an admin: they work the same inside popd and
// in a standalone popadm, serialised across processes by an flock on
// "<file>.lock", never overwriting a concurrent hand edit, and keeping
// every other line byte for byte.
//
// No password or hash ever appears in a log line or an error.
package userdb
