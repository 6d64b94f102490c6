// Package tui is popadm's dashboard: a live view of popd's sessions,
// users, maildrop locks and events over the control socket, with the
// administrative actions (kill a session, add/delete/disable a user, set a
// password, break a lock) behind confirmations whose focus starts on
// Cancel.
//
// # Pages and keys
//
//	1 Sessions  sort (s, S), filter (/), details (enter), kill (K)
//	2 Users     add (a), password (p), delete (d), enable/disable (e)
//	3 Locks     break (b)
//	4 Events    pause (space), follow (f), filter (/)
//
// Everywhere: tab/shift+tab and 1-4 switch pages; j/k, g/G, ctrl+d/ctrl+u
// and the arrows move; ":" opens a command line (:users, :theme dark,
// :sort idle desc, :readonly, :q); T cycles themes; r refreshes; ? shows
// every key; q or ctrl+c quits (q types a q in a form or the filter). In
// read-only mode (Options.ReadOnly, :readonly, or popd's monitor role) the
// action keys are off and gone from the help.
//
// # How it works
//
// It is a bubbletea program. All I/O happens in tea.Cmds that report back
// as messages, never in Update: a poll of sessions and stats every
// Options.Refresh (users and locks only while their page is on screen:
// listing them reads every maildrop); the event stream, read by a Cmd that
// takes one event, coalesces whatever else is waiting (up to 500) into one
// message and is issued again; the actions; and the dial, retried with
// backoff (1s, 2s, 4s … 30s) after the connection breaks, while the last
// data stays on screen marked STALE. Each connection has a generation
// number, so that a message from an old one is dropped.
//
// Tables keep the selection on the same row key (session id, user name)
// while rows are re-sorted, filtered and refreshed; filtering and sorting
// happen once per refresh, and only the rows in view are drawn, with
// styles reduced to their escape sequences once per theme.
//
// Colours come from a theme (package popd/themes). Under NO_COLOR, or on a
// terminal without colours, the dashboard is monochrome and the selected
// row is marked with "> ". The smallest usable terminal is 60×15.
package tui
