// Package server runs popd's POP3 service: it accepts connections, gives
// each a pop3.Session, keeps the registry of live sessions, and is the glue
// between the protocol (package pop3), the maildrops (package maildir) and
// the users (package userdb).
package server
