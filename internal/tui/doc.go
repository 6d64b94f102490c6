// Package tui is popadm's dashboard: a live view of popd's sessions,
// users, maildrop locks and events over the control socket, with the
// administrative actions (kick a session, add/delete/disable a user, set a
// password, unlock a maildrop) behind confirmations whose focus starts on
// Cancel.
//
// # Pages and keys
//
//	1 Sessions  sort (s, S), filter (/), details (enter; esc closes them:
//	            sessionpane.go), kick (K); space tags a row (U untags all)
//	            and K then kicks the tagged ones, in one dialog;
//	            :kill user NAME | from CIDR | state S | idle D | filter
//	            kicks what popd finds matching (sessioncmds.go, kill.go);
//	            stuck sessions are marked "!" and counted in the header,
//	            :stuck lists them (stuck.go)
//	2 Users     add (a), password (p), delete (d), enable/disable (e);
//	            enter drills down into one (userdrill.go): maildrop, lock
//	            holder, last login, live sessions (enter on one opens it in
//	            Sessions, K kicks it); esc comes back; space tags users and
//	            e then disables (or enables) the tagged ones, in one dialog
//	            and one request; :disable and :enable filter|NAME… do the
//	            same (usertags.go, many.go)
//	3 Locks     unlock (b); enter opens the holder's session in Sessions;
//	            space tags locks and b then unlocks the tagged ones, in one
//	            dialog and one request to each node; :unlock filter|stale|
//	            USER… (locktags.go)
//	4 Events    enter opens the event's session in Sessions, if it is
//	            live, else says it has ended and why (eventdrill.go);
//	            pause (p), follow (f), filter (/), failures only (!),
//	            admin actions only (*), bursts expanded (x); a burst of
//	            one kind and user is one line, the selected line drawn
//	            whole (events.go, eventlog.go, eventline.go); on a
//	            reconnect the stream resumes where it stopped, and what
//	            could not be had is said (resume.go)
//	5 Penalties the sources slowed down by failed logins, worst first:
//	            failures, the last's age, the delay, the names tried;
//	            clear one (c), or all the filter shows (C)
//	6 Nodes     (a fleet only) each node: up or down and why, sessions,
//	            logins/min and bytes/s over the last minute, popd's version
//
// After a jump to another page (an event's or a user's session, a lock's
// holder) esc goes back to where it came from, as it was.
//
// Everywhere: tab/shift+tab and the number keys switch pages; j/k, g/G,
// ctrl+d/ctrl+u and the arrows move; ":" opens a command line (:users or
// any beginning of a page's name, :theme dark, :sort idle desc, :span 30m,
// :readonly, :q; ↑ and ↓ walk the lines run before); T cycles themes; r refreshes; ? shows every key; q or ctrl+c quits
// (q types a q in a form or the filter). In read-only mode
// (Options.ReadOnly, :readonly, or popd's monitor role) the action keys
// are off and gone from the help; pressed, they say so ("read-only: K is
// off").
//
// # A fleet
//
// With Options.Nodes (popadm -fleet FILE) the dashboard watches several
// popd nodes at once. Sessions, Locks and Penalties have a NODE column
// first, Events tag each line with its node and merge the streams in time
// order, and the Nodes page lists the nodes. The users are one shared
// file: one node that is up is asked for them. Every lock is seen by every
// node (the maildrops are shared), so each is listed once, on the node
// whose session holds it; each node keeps the penalties of the sources
// that tried it, so a source has a row per node. K goes to the session's
// node, b to the lock's, c to the penalty's, and a user's change to any
// node that is up. A node that does not answer is shown down — the header
// counts the nodes up — its rows stay dimmed ("node down") as it last gave
// them, and it is dialled again in the background while the others go on.
// One popd looks as it always did.
//
// # The header
//
// The header says popd's version and uptime (or how many nodes are up),
// and whether what is shown is live; under that the sessions, logins and
// failed logins a minute, and bytes sent a second, each with a graph of
// the last 10 minutes (:span sets it, up to an hour), a bar a minute or
// more, and the graph's scale ("max 12": its highest bar). popd keeps its
// last hour minute by minute (control's "history"): the console asks for
// it on connecting and at each new minute, and adds what its polls see to
// the minute going on, so that a console opened a moment ago shows the
// hour behind it (graphs.go, graphline.go). A fleet's are its nodes' that
// are up, added up.
//
// # How it is built
//
// Model is a frame — header, tabs, status line, help bar, the filter and
// command line — around pages. Each page (sessions.go, users.go, locks.go,
// events.go, penalties.go) is a component in the shape of soft-serve's pkg/ui: its own
// state, Update, View, SetSize, keys and help (component, page). Dialogs
// and the user form are components too, modals over the page. The frame
// gives keys to the open modal, else takes its own, else gives them to the
// page on screen; data (poll results, events) and the outcome of actions
// go to every page, which takes what it needs. Nothing in the frame
// depends on which page is which: the tabs, number keys, : commands, help
// and status line all come from the pages, listed once in registry (component.go),
// and a page's add-ons (filterer, sorter, poller; commander and backer,
// pagehooks.go) are found by type assertion. The table pages share tablePage. What a page wants done
// to popd it sends as a request, a typed action (kick, delete, unlock …)
// that the Model carries out, on the node it is for; every page hears
// sentMsg and doneMsg.
// Components share a *shared: the styles, the clock, the keys, read-only,
// and the open modal and the status line's flash.
//
// All I/O happens in tea.Cmds that report back as messages, never in
// Update: a poll of stats and of what the pages ask for every
// Options.Refresh (users and locks only while their page is on screen:
// listing them reads every maildrop; sessions only from a popd that cannot
// keep them by its events — a snapshot, then the stream's changes:
// sessync.go); the event stream, read
// by a Cmd that takes one event, coalesces whatever else is waiting (up to
// 500) into one message and is issued again; the actions; and the dial,
// retried with backoff (1s, 2s, 4s … 30s) after the connection breaks,
// while the last data stays on screen marked STALE (stale.go): dimmed, its
// clocks (ages, connected-for) stopped at its moment, and the keys that
// change things off, saying so when pressed, until popd is back. Each connection (a
// link: link.go, conn.go) has a generation number, so that a message from
// an old one is dropped; on a fleet each node has its link, with its own
// timers, and the frame merges their lists for the pages (fleet.go). Text
// from popd is made terminal-safe (human.Clean) as it arrives, and so is
// every message shown in the status line, the banner and the form.
//
// Tables keep the selection on the same row key (session id — NODE/id on
// a fleet —, user name, penalised source)
// while rows are re-sorted, filtered and refreshed; filtering and sorting
// happen once per refresh, and only the rows in view are drawn, with
// styles reduced to their escape sequences once per theme.
//
// Colours come from a theme (package popd/themes), named in Options.Theme
// by the caller. Under NO_COLOR, or on a terminal without colours, the
// dashboard is monochrome and the selected row is marked with "> ". The
// smallest usable terminal is 60×15.
package tui
