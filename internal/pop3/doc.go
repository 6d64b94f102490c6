// Package pop3 implements the server side of the Post Office Protocol,
// version 3: RFC 1939 (with RFC 1081's LAST), RFC 2449 (CAPA and response
// codes), RFC 3206 (SYS and AUTH response codes) and RFC 6856 (UTF-8).
//
// The package speaks the protocol and nothing else. It reads command lines
// with strict limits, dispatches them through one command table that knows
// which state each command is valid in, and streams messages with CRLF
// line endings and byte-stuffing. Credentials, maildrops and their locks are
// reached through the small Backend and Mailbox interfaces that the server
// package implements; this package never touches the filesystem.
//
// # UTF-8 (RFC 6856)
//
// CAPA announces "UTF8 USER" in both states. User names and passwords may be
// UTF-8 in USER, PASS and APOP whether or not the client has said UTF8
// (§2.2); invalid UTF-8 in them is refused with a plain -ERR. User names
// (USER, APOP) are prepared with RFC 8265 UsernameCasePreserved, the
// successor of SASLprep: width folding and NFC, case kept, disallowed
// characters refused. Passwords reach the Backend as sent; userdb compares
// them as sent and, failing that, prepared (RFC 8265 OpaqueString), so that
// hashes already stored keep working. AUTH is untouched: SASL carries UTF-8
// by its own rules (RFC 5034).
//
// UTF8 is valid in AUTHORIZATION only; after it STLS is refused and no
// longer offered (§2.1). popd makes no surrogate messages (RFC 6857), so a
// client that never said UTF8 is refused, with -ERR [UTF8] (§5), RETR and
// TOP of a message whose header is not ASCII; an 8-bit body under an ASCII
// header is sent as always. LIST, UIDL and STAT still show such a message
// and DELE removes it: they send none of its content. Response text that
// is not the client's (IMPLEMENTATION) is cut down to ASCII outside UTF-8
// mode. LANG (§3) is not offered.
package pop3
