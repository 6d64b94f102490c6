// Package server is popd's POP3 front end: it accepts connections (plain,
// implicit TLS, behind PROXY-protocol load balancers), applies the
// connection limits and the failed-login penalties, gives each connection
// a pop3.Session, and keeps the registry of live sessions. Its backend
// adapter is the glue between the protocol (package pop3), the maildrops
// (package maildir) and the users (package userdb). It knows nothing of the
// control socket: what it sees happen goes out as event.Event values, and
// the administration (package daemon) works through its methods.
package server
