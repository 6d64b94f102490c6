// Package control is popd's control socket: the daemon side (Server,
// Listen) and the client side (Client, used by popadm).
//
// # Protocol
//
// JSON lines over a Unix stream socket: one JSON object per line, each way.
// Both sides first send a Hello. The server's says which role the peer has
// and popd's version:
//
//	C: {"hello":"popd-control","version":1}
//	S: {"hello":"popd-control","version":1,"server":"0.1.0","role":"admin"}
//
// A peer that may not use the socket gets, instead of a hello, one
// {"error":{"code":"forbidden","message":"uid N is not allowed to use the
// popd control socket"}} and the connection is closed; so does a client
// whose Version differs (code "unsupported-version") or whose first line is
// no hello (code "bad-request").
//
// Then the client sends Requests and the server answers each with a
// Response carrying the same id, in order:
//
//	C: {"id":1,"method":"kick_user","params":{"user":"alice"}}
//	S: {"id":1,"result":{"kicked":2}}
//	C: {"id":2,"method":"kick","params":{"id":"7"}}
//	S: {"id":2,"error":{"code":"not-found","message":"no session 7"}}
//
// A request line is at most 64 KiB (MaxFrame). A longer line, or one that is
// not a JSON request, gets a "bad-request" error (id 0 when it cannot be
// read from the line) and the connection is closed. An unknown method, or
// params of the wrong shape (unknown fields included), get a "bad-request"
// error and the connection stays open. Responses have no size limit.
//
// Methods (params are JSON objects; the methods marked admin need the admin
// role and answer "forbidden" to a monitor):
//
//	who                                  → []Session
//	sessions                             → {"boot","seq","sessions":[]Session}: a
//	                                     snapshot after event seq (changes.go)
//	stats                                → Stats
//	history                              → []Minute (the last hour, oldest first)
//	users                                → []User
//	user          {"user"}               → UserDetails (one user: maildrop, lock, last login, sessions)
//	locks                                → []Lock
//	penalties                            → []Penalty
//	events        {"backlog"} or {"boot","seq"}; and {"changes"}
//	                                     → {"subscribed":true,"boot","started","from"},
//	                                     then a stream of Events (see Events)
//	kick          {"id"}                 admin
//	kick_user     {"user"}               admin → {"kicked":n}
//	kick_select   {"ids","user","users","from","state","idle_over_ns","dry_run"}
//	                                     admin → {"count":n,"ids":[…]} (Selector: each
//	                                     optional, at least one; those given are ANDed)
//	user_add      {"name","password"}    admin
//	user_passwd   {"name","password"}    admin
//	user_del      {"name","purge_mail","keep_sessions"}
//	                                     admin (both optional, false: their sessions end;
//	                                     a purge ends them first, then removes the maildrop)
//	user_disable  {"name","disabled"}    admin ("disabled" is required)
//	unlock        {"user"}               admin
//	penalty_clear {"source"}             admin ("not-found" when it has no penalty)
//	penalties_clear {"sources"}
//	                                     admin → {"cleared":n} (those without one skipped)
//	users_set_disabled {"names","disabled"}
//	                                     admin → {"results":[{"name","error"?}]}
//	locks_unlock  {"users"}              admin → {"results":[{"name","error"?}]}
//	                                     (each name as user_disable, unlock do one;
//	                                     a result each, in order: bulk.go)
//	reload        {}                     admin
//
// Methods without a result answer {"id":n}. Errors the Daemon returns as
// *Error reach the client as they are; any other error becomes code
// "internal" with the error's text; a panic in the Daemon becomes
// "internal" too, and is logged.
//
// # Events
//
// After "events" the connection is an event stream: the server writes one
// Event per line and reads nothing more (anything the client sends ends the
// stream). Each subscriber has a queue of SubscriberQueue events; Publish
// never blocks the daemon: when a subscriber's queue is full its events are
// dropped, and it later receives one Event{Type: "events.dropped", Count: n}
// just before the next event it does get.
//
// Each run of popd has a boot id, random and made at start, and numbers
// its events 1, 2, 3 … without gaps: every Event carries "boot" and "seq".
// popd keeps the last Backlog of them. {"backlog":n} starts the stream with
// up to n of those; {"boot":b,"seq":n} resumes after event n of run b: the
// events after it that are still kept come first, then the live ones, and
// nothing is sent twice. The answer's "from" is the number of the event
// before the first one sent: from > n means that from-n events were no
// longer kept, and a boot other than b that popd restarted (its "started"
// says when) and the stream begins with this run's kept events. The
// Client's Subscribe turns that into notices at the head of the stream
// (events.dropped with the count, popd.restarted; Cursor).
//
// When popd stops, the events published while it shuts down (its sessions
// ending) and popd.stopped, the last of a run, are sent to every stream
// before it closes.
//
// With {"changes":true} the stream carries the live sessions' changes as
// well: a sessions.changed event (no seq, never kept) at most once a
// second, with every session that changed since, each as it is now; and
// sessions.resync when some of those were dropped (before the next thing
// the stream carries, or within a second if popd has nothing more to
// say; events.dropped too, for such a stream). With a "sessions"
// snapshot, that keeps a console's table of sessions without listing
// them every second (changes.go).
//
// # Access
//
// Each connection's peer is identified with SO_PEERCRED (Linux; elsewhere
// every peer is refused). Root, popd's own uid, and members of the admin
// group have RoleAdmin; members of the monitor group have RoleMonitor;
// anyone else is refused, in one log line. A member is a user whose primary
// gid is the group's, or whose supplementary groups (os/user) include it.
// The socket is made mode 0660 and, with a group configured, given that
// group, so that its members can connect at all (see Listen).
//
// # Limits
//
// Idle or flooding clients cannot lock the admin out. popd serves at most
// ServerConfig.MaxConns connections at once (DefaultMaxConns), at most
// MaxConnsPerUID of them from one uid (DefaultMaxConnsPerUID), and peers
// that are not admins only while they hold fewer than MaxConns minus
// AdminReserve (DefaultAdminReserve): those places wait for admins. A
// connection over a limit gets, instead of a hello,
// {"error":{"code":"busy","message":"too many connections to the popd
// control socket ..."}} and is closed; refused peers are never counted.
// A connection that is not an event stream is closed after IdleTimeout
// (DefaultIdleTimeout) without a request (a request half sent, or an
// answer left unread as long, counts as none); it is first sent
// {"id":0,"error":{"code":"timeout",...}}, which a Client returns from its
// next call. The hello must come within the same time, and at most 10 s.
//
// # Clients
//
// A Client makes one call at a time on its connection: concurrent Calls
// from several goroutines are serialised by a mutex, each waiting for the
// previous answer. A call interrupted by its context leaves the connection
// in an unknown state, so the Client is closed and later calls fail: Dial
// again. Events uses a connection of its own. NewClient speaks over any
// stream to a control socket (popadm uses ssh's standard input and output,
// with "popadm dial-stdio" on the far side); a stream without deadlines is
// closed when a call's context ends before its answer, and DialWith gives
// such a Client the way to open its Events connection.
package control
