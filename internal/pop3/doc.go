// Package pop3 implements the server side of the Post Office Protocol,
// version 3: RFC 1939 (with RFC 1081's LAST), RFC 2449 (CAPA and response
// codes) and RFC 3206 (SYS and AUTH response codes).
//
// The package speaks the protocol and nothing else. It reads command lines
// with strict limits, dispatches them through one command table that knows
// which state each command is valid in, and streams messages with CRLF
// line endings and byte-stuffing. Credentials, maildrops and their locks are
// reached through the small Backend and Mailbox interfaces that the server
// package implements; this package never touches the filesystem.
package pop3
