// Package tui is popadm's dashboard: a live view of popd's sessions,
// users, maildrop locks and events over the control socket, with the
// administrative actions (kick a session, add/delete/disable a user, set a
// password, unlock a maildrop) behind confirmations whose focus starts on
// Cancel.
//
// # Pages and keys
//
//	1 Sessions  sort (s, S), filter (/), details (enter), kick (K)
//	2 Users     add (a), password (p), delete (d), enable/disable (e)
//	3 Locks     unlock (b)
//	4 Events    pause (space), follow (f), filter (/)
//	5 Nodes     (a fleet only) each node: up or down and why, sessions,
//	            logins/s and bytes/s over the last minute, popd's version
//
// Everywhere: tab/shift+tab and the number keys switch pages; j/k, g/G,
// ctrl+d/ctrl+u and the arrows move; ":" opens a command line (:users or
// any beginning of a page's name, :theme dark, :sort idle desc, :readonly,
// :q); T cycles themes; r refreshes; ? shows every key; q or ctrl+c quits
// (q types a q in a form or the filter). In read-only mode
// (Options.ReadOnly, :readonly, or popd's monitor role) the action keys
// are off and gone from the help.
//
// # A fleet
//
// With Options.Nodes (popadm -fleet FILE) the dashboard watches several
// popd nodes at once. Sessions and Locks have a NODE column first, Events
// tag each line with its node and merge the streams in time order, and
// the Nodes page lists the nodes (it is 5 while the Penalties page the
// console's plan keeps 5 for does not exist). The users are one shared
// file: one node that is up is asked for them. Every lock is seen by every
// node (the maildrops are shared), so each is listed once, on the node
// whose session holds it. K goes to the session's node, b to the lock's,
// and a user's change to any node that is up. A node that does not answer
// is shown down — the header counts the nodes up — its rows stay dimmed
// ("node down") as it last gave them, and it is dialled again in the
// background while the others go on. One popd looks as it always did.
//
// # How it is built
//
// Model is a frame — header, tabs, status line, help bar, the filter and
// command line — around pages. Each page (sessions.go, users.go, locks.go,
// events.go) is a component in the shape of soft-serve's pkg/ui: its own
// state, Update, View, SetSize, keys and help (component, page). Dialogs
// and the user form are components too, modals over the page. The frame
// gives keys to the open modal, else takes its own, else gives them to the
// page on screen; data (poll results, events) and the outcome of actions
// go to every page, which takes what it needs. Nothing in the frame
// depends on which page is which: the tabs, number keys, : commands, help
// and status line all come from the pages, listed once in registry (component.go),
// and a page's add-ons (filterer, sorter, poller) are found by type
// assertion. The three table pages share tablePage. What a page wants done
// to popd it sends as a request, a typed action (kick, delete, unlock …)
// that the Model carries out, on the node it is for; every page hears
// sentMsg and doneMsg.
// Components share a *shared: the styles, the clock, the keys, read-only,
// and the open modal and the status line's flash.
//
// All I/O happens in tea.Cmds that report back as messages, never in
// Update: a poll of stats and of what the pages ask for every
// Options.Refresh (sessions always; users and locks only while their page
// is on screen: listing them reads every maildrop); the event stream, read
// by a Cmd that takes one event, coalesces whatever else is waiting (up to
// 500) into one message and is issued again; the actions; and the dial,
// retried with backoff (1s, 2s, 4s … 30s) after the connection breaks,
// while the last data stays on screen marked STALE. Each connection (a
// link: link.go, conn.go) has a generation number, so that a message from
// an old one is dropped; on a fleet each node has its link, with its own
// timers, and the frame merges their lists for the pages (fleet.go). Text
// from popd is made terminal-safe (human.Clean) as it arrives, and so is
// every message shown in the status line, the banner and the form.
//
// Tables keep the selection on the same row key (session id — NODE/id on
// a fleet —, user name)
// while rows are re-sorted, filtered and refreshed; filtering and sorting
// happen once per refresh, and only the rows in view are drawn, with
// styles reduced to their escape sequences once per theme.
//
// Colours come from a theme (package popd/themes), named in Options.Theme
// by the caller. Under NO_COLOR, or on a terminal without colours, the
// dashboard is monochrome and the selected row is marked with "> ". The
// smallest usable terminal is 60×15.
package tui
