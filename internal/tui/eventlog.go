package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/human"
)

const (
	maxEvents = 5000 // kept in memory
	maxBatch  = 500  // events coalesced into one message
	// burstWindow: events of one kind and user at most this far apart
	// make one line, "mail.delivered carol ×40".
	burstWindow = 3 * time.Second
)

// severity is what the ! and * filters keep of an event.
type severity uint8

const (
	sevNone  severity = iota
	sevFail           // "!": a failed login, a penalty, popd stopping on an error
	sevAdmin          // "*": an administrator's action (the event says By)
)

// sevFilter is the Events view's severity filter: everything, or only
// the events marked ! or *.
type sevFilter uint8

const (
	showAll sevFilter = iota
	showFailures
	showAdmin
)

// evRow is an event formatted once, when it arrives.
type evRow struct {
	e     control.Event
	id    uint64 // arrival order: the view keeps its place by it
	node  string // of a fleet, whose event it is
	clock string // 15:04:05
	mark  string // "!" failure, "*" an administrator's action, " "
	sev   severity
	k     kind
	rest  string
	lower string // the whole line in lower case, for the filter
	// notice: a gap or a restart in the stream, told by the console's
	// client rather than by popd. Shown whatever the filters: a gap is
	// never silent.
	notice bool
}

// classify says how an event stands out: a marker that still shows
// without colour, what the severity filter makes of it, and its colour.
func classify(e control.Event) (string, severity, kind) {
	switch {
	case e.Type == event.LoginFailed, e.Type == event.Penalty,
		e.Type == event.Stopped && e.Reason != "" && e.Reason != "shutting down":
		return "!", sevFail, kErr
	case e.By != "":
		return "*", sevAdmin, kWarn
	case e.Type == event.Stopped:
		return " ", sevNone, kWarn
	case e.Type == event.Login:
		return " ", sevNone, kOK
	}
	return " ", sevNone, kText
}

func isNotice(t event.Kind) bool { return t == event.Dropped || t == event.Restarted }

func newEvRow(e control.Event, loc *time.Location, node string) evRow {
	mark, sev, k := classify(e)
	r := evRow{e: e, node: node, mark: mark, sev: sev, k: k, notice: isNotice(e.Type)}
	if !e.Time.IsZero() {
		r.clock = e.Time.In(loc).Format("15:04:05")
	} else {
		r.clock = "--:--:--"
	}
	if r.notice {
		r.k, r.rest = kWarn, noticeText(e, loc)
		r.lower = strings.ToLower(r.rest)
		return r
	}
	var parts []string
	if e.Session != "" {
		parts = append(parts, "#"+e.Session)
	}
	if e.User != "" {
		parts = append(parts, e.User)
	}
	if e.Remote != "" {
		parts = append(parts, e.Remote)
	}
	switch e.Type {
	case event.SessionClosed:
		parts = append(parts, fmt.Sprintf("retrieved %d, deleted %d, sent %s", e.Retrieved, e.Deleted, human.Bytes(e.Octets)))
	case event.UsersReloaded:
		parts = append(parts, strconv.Itoa(e.Count)+" users")
	default:
		if e.Count != 0 {
			parts = append(parts, "count "+strconv.Itoa(e.Count))
		}
	}
	if e.Reason != "" {
		parts = append(parts, "("+e.Reason+")")
	}
	if e.By != "" {
		parts = append(parts, "by "+e.By)
	}
	r.rest = strings.Join(parts, " ")
	r.lower = strings.ToLower(r.clock + " " + string(e.Type) + " " + r.rest)
	if node != "" {
		r.lower += " " + strings.ToLower(node)
	}
	return r
}

// noticeText is what a notice line says: "40 events not seen (no longer
// in popd's backlog)", "popd restarted 12:03:04 (down 15s)".
func noticeText(e control.Event, loc *time.Location) string {
	if e.Type == event.Restarted {
		s := "popd restarted " + e.Time.In(loc).Format("15:04:05")
		if e.Duration > 0 {
			s += " (down " + human.Duration(e.Duration) + ")"
		}
		return s
	}
	s := "events not seen"
	if e.Count > 0 {
		s = human.Count(e.Count, "event") + " not seen"
	}
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

// evLine is a line of the view: one event, or a burst of them (the rows'
// indices, oldest first).
type evLine struct{ rows []int }

func (ln evLine) last() int   { return ln.rows[len(ln.rows)-1] }
func (ln evLine) burst() bool { return len(ln.rows) > 1 }

// eventLog is the live event stream, newest last, at most maxEvents, as
// the view shows it: filtered by text and severity, bursts collapsed, one
// line selected, paused or following the newest.
type eventLog struct {
	rows    []evRow
	nextID  uint64
	pending []evRow // arrived while paused
	missed  int     // pending events dropped while paused, over maxEvents
	paused  bool
	follow  bool
	filter  string
	query   string // filter in lower case
	sev     sevFilter
	flat    bool // bursts expanded: every event on a line of its own

	lines    []evLine
	shown    int // rows the filters let through
	sel, off int // the selected line; the first line in view
	height   int
	width    int // for the height of the selected line, wrapped
	nodeW    int // the node column's width on a fleet
}

func (l *eventLog) add(evs []control.Event, loc *time.Location, node string) {
	rows := make([]evRow, len(evs))
	for i, e := range evs {
		l.nextID++
		rows[i] = newEvRow(e, loc, node)
		rows[i].id = l.nextID
	}
	if l.paused {
		l.pending = append(l.pending, rows...)
		if n := len(l.pending) - maxEvents; n > 0 {
			l.pending = l.pending[n:]
			l.missed += n
		}
		return
	}
	l.append(rows)
}

func (l *eventLog) append(rows []evRow) {
	if len(rows) == 0 {
		return
	}
	had := len(l.rows)
	l.rows = append(l.rows, rows...)
	byTime := func(a, b evRow) int { return a.e.Time.Compare(b.e.Time) }
	regroup := false
	if rows[0].node != "" && !slices.IsSortedFunc(l.rows[max(had-1, 0):], byTime) {
		// A fleet's streams merged: in the order the nodes' clocks say,
		// not the order they came in (each node's backlog comes at once).
		slices.SortStableFunc(l.rows, byTime)
		regroup = true
	}
	if n := len(l.rows) - maxEvents; n > 0 {
		l.rows = slices.Delete(l.rows, 0, n)
		regroup = true
	}
	if regroup {
		l.regroup()
		return
	}
	l.extend(had)
	l.settle()
}

// passes says whether the filters show r.
func (l *eventLog) passes(r *evRow) bool {
	if r.notice {
		return true
	}
	switch l.sev {
	case showFailures:
		if r.sev != sevFail {
			return false
		}
	case showAdmin:
		if r.sev != sevAdmin {
			return false
		}
	}
	return l.filter == "" || strings.Contains(r.lower, l.query)
}

// joins says whether r continues the burst that ends with last.
func (l *eventLog) joins(last, r *evRow) bool {
	if l.flat || last.notice || r.notice {
		return false
	}
	a, b := &last.e, &r.e
	gap := b.Time.Sub(a.Time)
	return last.node == r.node && a.Type == b.Type && a.User == b.User && a.By == b.By &&
		gap <= burstWindow && gap >= -burstWindow
}

// extend adds the lines of rows[from:].
func (l *eventLog) extend(from int) {
	for i := from; i < len(l.rows); i++ {
		r := &l.rows[i]
		if !l.passes(r) {
			continue
		}
		if !r.notice {
			l.shown++
		}
		if n := len(l.lines); n > 0 && l.joins(&l.rows[l.lines[n-1].last()], r) {
			l.lines[n-1].rows = append(l.lines[n-1].rows, i)
			continue
		}
		l.lines = append(l.lines, evLine{rows: []int{i}})
	}
}

// regroup makes the lines again (the rows or the filters changed), the
// selection and the view staying on the same events.
func (l *eventLog) regroup() {
	selID, topID := l.lineID(l.sel), l.lineID(l.off)
	l.lines, l.shown = l.lines[:0], 0
	l.extend(0)
	l.sel, l.off = l.find(selID), l.find(topID)
	l.settle()
}

// lineID is the id of line i's newest event; 0 when there is no line i.
func (l *eventLog) lineID(i int) uint64 {
	if i < 0 || i >= len(l.lines) {
		return 0
	}
	return l.rows[l.lines[i].last()].id
}

// find is the line of the event with id, or of the first one after it
// that is shown; 0 when it is no longer kept.
func (l *eventLog) find(id uint64) int {
	p := slices.IndexFunc(l.rows, func(r evRow) bool { return r.id == id })
	if p < 0 {
		return 0
	}
	i, _ := slices.BinarySearchFunc(l.lines, p, func(ln evLine, p int) int { return cmp.Compare(ln.last(), p) })
	return i
}

// count is the number of events the filters let through.
func (l *eventLog) count() int { return l.shown }

// total is the number of events kept.
func (l *eventLog) total() int {
	n := 0
	for i := range l.rows {
		if !l.rows[i].notice {
			n++
		}
	}
	return n
}

// settle puts the selection on a line and the view around it: following,
// on the newest line; the selected line whole in view, expanded.
func (l *eventLog) settle() {
	n := len(l.lines)
	if n == 0 {
		l.sel, l.off = 0, 0
		return
	}
	if l.follow {
		l.sel = n - 1
	}
	l.sel = min(max(l.sel, 0), n-1)
	// The lowest first line that shows the selected one whole.
	lo := min(max(l.sel+1+len(l.expansion(l.sel))-l.height, 0), l.sel)
	if l.follow {
		l.off = lo
		return
	}
	l.off = min(max(l.off, lo), l.sel)
}

// move moves the selection; moving stops following.
func (l *eventLog) move(delta int) {
	if len(l.lines) == 0 {
		return
	}
	l.sel += delta
	l.follow = false
	l.settle()
}

func (l *eventLog) setPaused(p bool) {
	l.paused = p
	if !p {
		rows := l.pending
		l.pending, l.missed = nil, 0
		l.append(rows)
	}
}

func (l *eventLog) setFilter(q string) {
	l.filter, l.query = q, strings.ToLower(q)
	l.regroup()
}

// setSeverity sets the severity filter; asking for the one in force goes
// back to everything.
func (l *eventLog) setSeverity(f sevFilter) {
	if l.sev == f {
		f = showAll
	}
	l.sev = f
	l.regroup()
}

func (l *eventLog) setFlat(flat bool) {
	l.flat = flat
	l.regroup()
}

func (l *eventLog) setSize(w, h int) {
	l.width, l.height = w, max(h, 1)
	l.settle()
}

// selected is the selected line's newest event, or nil.
func (l *eventLog) selected() *evRow {
	if l.sel >= len(l.lines) {
		return nil
	}
	return &l.rows[l.lines[l.sel].last()]
}
