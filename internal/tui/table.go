package tui

import (
	"slices"
	"strings"
	"time"

	"popd/internal/human"
)

// column is one column of a table of T.
type column[T any] struct {
	title string
	width int  // minimum width
	max   int  // flexible up to max when > width
	right bool // right-aligned (numbers)
	prio  int  // narrow terminals drop the lowest first
	cell  func(r *T, now time.Time) string
	short func(r *T) string // what the cell says when narrower than max; nil: cell
	cmp   func(a, b *T) int
	kind  func(r *T) kind // colour of the cell; nil is the row's
}

// flag fills in a column of a yes/no property: what it says and its colour
// either way; yes sorts after no.
func (c column[T]) flag(is func(r *T) bool, yes, no string, yesK, noK kind) column[T] {
	pick := func(r *T) (string, kind) {
		if is(r) {
			return yes, yesK
		}
		return no, noK
	}
	c.cell = func(r *T, _ time.Time) string { s, _ := pick(r); return s }
	c.kind = func(r *T) kind { _, k := pick(r); return k }
	c.cmp = func(a, b *T) int { return cmpBool(is(a), is(b)) }
	return c
}

// table is a sortable, filterable list of rows keyed by a string. Unlike
// bubbles/table it keeps the selection on the same key while rows change,
// sort and filter, and it renders only the rows in view.
type table[T any] struct {
	cols  []column[T]
	key   func(r *T) string
	match func(r *T, q string) bool // q is lower case
	row   func(r *T) kind           // colour of a whole row
	// mark is a row's sign in the gutter, one cell ("!"), and its colour;
	// "" for none. A tag's "*" comes first. nil: none.
	mark func(r *T) (string, kind)
	tags map[string]bool // the tagged rows' keys (tablePage); nil: none

	all    []T
	rows   []*T // filtered and sorted, pointing into all
	filter string
	sort   int
	desc   bool

	fit    []int // what the flexible columns' content needs (widths.go); nil: to measure
	selKey string
	cur    int // index of the selection in rows
	off    int // first row in view
	height int // rows in view, set by layout
}

// setData replaces the rows: the filter and the sort are applied here,
// once per refresh, not per frame.
func (t *table[T]) setData(rows []T) {
	t.all = rows
	t.fit = nil
	t.rebuild()
}

func (t *table[T]) setFilter(q string) {
	t.filter = q
	t.rebuild()
}

func (t *table[T]) setSort(col int, desc bool) {
	t.sort, t.desc = col, desc
	t.rebuild()
}

func (t *table[T]) rebuild() {
	q := strings.ToLower(t.filter)
	rows := make([]*T, 0, len(t.all))
	for i := range t.all {
		if q == "" || t.match(&t.all[i], q) {
			rows = append(rows, &t.all[i])
		}
	}
	if t.sort >= 0 && t.sort < len(t.cols) {
		cmp := t.cols[t.sort].cmp
		slices.SortStableFunc(rows, func(a, b *T) int {
			c := cmp(a, b)
			if c == 0 {
				c = human.Natural(t.key(a), t.key(b))
			}
			if t.desc {
				c = -c
			}
			return c
		})
	}
	t.rows = rows
	t.reselect()
}

// reselect finds the selected key again; when its row is gone the
// selection stays at the same place in the list.
func (t *table[T]) reselect() {
	if t.selKey != "" {
		for i, r := range t.rows {
			if t.key(r) == t.selKey {
				t.cur = i
				t.clamp()
				return
			}
		}
	}
	t.cur = min(t.cur, len(t.rows)-1)
	t.cur = max(t.cur, 0)
	if len(t.rows) > 0 {
		t.selKey = t.key(t.rows[t.cur])
	}
	t.clamp()
}

// clamp keeps the selection in view.
func (t *table[T]) clamp() {
	h := max(t.height, 1)
	if t.cur < t.off {
		t.off = t.cur
	}
	if t.cur >= t.off+h {
		t.off = t.cur - h + 1
	}
	t.off = min(t.off, len(t.rows)-h)
	t.off = max(t.off, 0)
}

func (t *table[T]) setHeight(h int) {
	t.height = h
	t.clamp()
}

// move moves the selection by delta rows.
func (t *table[T]) move(delta int) {
	t.moveTo(t.cur + delta)
}

func (t *table[T]) moveTo(i int) {
	if len(t.rows) == 0 {
		return
	}
	t.cur = max(0, min(i, len(t.rows)-1))
	t.selKey = t.key(t.rows[t.cur])
	t.clamp()
}

// selected is the selected row, or nil.
func (t *table[T]) selected() *T {
	if t.cur < 0 || t.cur >= len(t.rows) {
		return nil
	}
	return t.rows[t.cur]
}

// sortName names the sort for the status line: "idle ▼".
func (t *table[T]) sortName() string {
	if t.sort < 0 || t.sort >= len(t.cols) {
		return ""
	}
	return strings.ToLower(t.cols[t.sort].title) + " " + t.arrow()
}

func (t *table[T]) arrow() string {
	if t.desc {
		return "▼"
	}
	return "▲"
}

// sortBy sorts by the column whose title starts with name.
func (t *table[T]) sortBy(name string, desc bool) bool {
	name = strings.ToLower(name)
	for i, c := range t.cols {
		if strings.HasPrefix(strings.ToLower(c.title), name) {
			t.setSort(i, desc)
			return true
		}
	}
	return false
}

const (
	gutter = 2 // the selection marker
	sep    = 2 // between columns
	sepStr = "  "
)

// layout gives each column its width for a table w cells wide; 0 hides it.
func (t *table[T]) layout(w int) []int {
	ws := make([]int, len(t.cols))
	shown := len(t.cols)
	total := func() int {
		n := gutter
		for i, c := range t.cols {
			if ws[i] >= 0 {
				n += c.width
			}
		}
		return n + sep*(shown-1)
	}
	for shown > 1 && total() > w {
		// Drop the lowest priority, the rightmost among equals.
		drop := -1
		for i, c := range t.cols {
			if ws[i] >= 0 && (drop < 0 || c.prio <= t.cols[drop].prio) {
				drop = i
			}
		}
		ws[drop] = -1
		shown--
	}
	extra := w - total()
	for i, c := range t.cols {
		if ws[i] >= 0 {
			ws[i] = c.width
		} else {
			ws[i] = 0
		}
	}
	// A column with a short form goes to full width at once, when that
	// leaves as much again for the others; else it keeps the short form.
	for i, c := range t.cols {
		if need := c.max - c.width; c.short != nil && ws[i] > 0 && need > 0 && extra >= 2*need {
			ws[i] += need
			extra -= need
		}
	}
	// Share what is left among the flexible columns (widths.go).
	t.grow(ws, extra)
	return ws
}

// view renders the column titles and the rows in view, each line exactly
// w cells wide, h lines in all.
func (t *table[T]) view(st *styles, w, h int, now time.Time, empty string) []string {
	t.measure(now)
	ws := t.layout(w)
	lines := make([]string, 0, h)

	var b strings.Builder
	b.WriteString(strings.Repeat(" ", gutter))
	first := true
	for i, c := range t.cols {
		if ws[i] == 0 {
			continue
		}
		if !first {
			b.WriteString(sepStr)
		}
		first = false
		title := c.title
		if i == t.sort {
			title = truncate(title, ws[i]-1) + t.arrow()
		}
		b.WriteString(fit(title, ws[i], c.right))
	}
	lines = append(lines, st.colHead.s(fit(b.String(), w, false)))

	if len(t.rows) == 0 && h > 1 {
		lines = append(lines, st.fg[kMuted].s(fit("  "+empty, w, false)))
	}
	end := min(len(t.rows), t.off+h-1)
	for ri := t.off; ri < end; ri++ {
		lines = append(lines, t.renderRow(st, t.rows[ri], ri == t.cur, ws, w, now))
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return lines
}

// tagged says whether r is tagged.
func (t *table[T]) tagged(r *T) bool { return len(t.tags) > 0 && t.tags[t.key(r)] }

// sign is what the gutter shows after the selection marker: "*" for a
// tagged row, else the row's mark.
func (t *table[T]) sign(r *T) (string, kind) {
	switch {
	case t.tagged(r):
		return "*", kAccent
	case t.mark != nil:
		return t.mark(r)
	}
	return "", kText
}

// renderRow draws one row: cells of one colour are painted together. A
// tagged row is in the accent colour, unless its own says more.
func (t *table[T]) renderRow(st *styles, r *T, sel bool, ws []int, w int, now time.Time) string {
	rowKind := kText
	switch {
	case st.dim: // stale data
		rowKind = kMuted
	case t.row != nil:
		rowKind = t.row(r)
	}
	if rowKind == kText && t.tagged(r) {
		rowKind = kAccent
	}
	var out strings.Builder
	var seg strings.Builder
	segKind := rowKind
	flush := func() {
		if seg.Len() > 0 {
			out.WriteString(st.fg[segKind].s(seg.String()))
			seg.Reset()
		}
	}
	put := func(s string, k kind) {
		if sel {
			seg.WriteString(s)
			return
		}
		if k != segKind {
			flush()
			segKind = k
		}
		seg.WriteString(s)
	}
	gut := st.marker(sel)
	if sign, k := t.sign(r); sign != "" {
		if st.dim {
			k = kMuted
		}
		put(gut[:1], rowKind)
		put(sign, k)
	} else {
		put(gut, rowKind)
	}
	used := gutter
	first := true
	for i, c := range t.cols {
		if ws[i] == 0 {
			continue
		}
		if !first {
			put(sepStr, rowKind)
			used += sep
		}
		first = false
		k := rowKind
		if c.kind != nil && rowKind == kText {
			k = c.kind(r)
		}
		text := ""
		if c.short != nil && ws[i] < c.max {
			text = c.short(r)
		} else {
			text = c.cell(r, now)
		}
		put(fit(text, ws[i], c.right), k)
		used += ws[i]
	}
	if used < w {
		put(strings.Repeat(" ", w-used), rowKind)
	}
	if sel {
		return st.selected.s(seg.String())
	}
	flush()
	return out.String()
}
