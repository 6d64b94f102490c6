// Package server is popd's POP3 front end: it accepts connections (plain,
// implicit TLS, behind PROXY-protocol load balancers), applies the
// connection limits and the failed-login penalties, gives each connection
// a pop3.Session, and keeps the registry of live sessions. Its backend
// adapter is the glue between the protocol (package pop3), the maildrops
// (package maildir) and the users (package userdb). It knows nothing of the
// control socket: what it sees happen goes out as event.Event values, and
// the administration (package daemon) works through its methods.
//
// A failed login, a SASL exchange the client cancels included, is answered
// after the failure delay (doubling per failure in a row from a source) and
// never sooner than the slowest recent password check, so that the time
// does not tell an unknown name from a user. A successful login clears its
// source's penalty only when every failure that named a user named this
// one: failures for other names stay until 15 quiet minutes forget them, so
// that one valid account is no key to reset guessing at the others.
// LOGIN-DELAY is charged only to logins that got in.
//
// For a fleet behind nginx's mail proxy, AuthHTTP answers nginx's auth_http
// requests: the same checks, penalties and log lines as a direct login, and
// the user's home node (package fleet) for nginx to proxy the session to.
//
// The server owns the goroutine of every connection it accepts. Shutdown
// (and, for one session, a kick) ends them: sessions are told why and
// closed without UPDATE, a login in progress does not go on to
// TRANSACTION, and connections that are no session yet are closed.
// Shutdown returns only once every one of those goroutines has.
package server
