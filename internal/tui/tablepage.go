package tui

import (
	"maps"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// tablePage is what a page that is one table does like any other: moving
// and sorting with the keys, filtering, the mouse, its status line and the
// count on its tab. The page embeds it and adds its data and actions.
type tablePage[T any] struct {
	s      *shared
	t      table[T]
	name   string // the tab's title: "Users"
	noun   string // one row: "user"
	none   string // what the table says when popd has none: "no users"
	loaded bool   // a poll has listed them
	w, h   int    // the table's size, column titles included

	// Tags (tagRows): space tags rows, by key, for an action on all of
	// them; they stay through sorting, filtering and refreshes, and go
	// with their row.
	tagging       bool
	canTag        func(r *T) bool // nil: every row
	tagKey, untag key.Binding
}

// onScreen is a tablePage whose rows are costly for popd to list (every
// maildrop's lock, every penalised source): they are asked for (what)
// only while the page is on screen, and once for the first look; the
// count on the tab shows only while the last poll listed them.
type onScreen[T any] struct {
	tablePage[T]
	what  fetch
	fresh bool // the last poll listed them
}

func (p *onScreen[T]) Polls(shown bool) fetch {
	if shown || !p.loaded {
		return p.what
	}
	return 0
}

func (p *onScreen[T]) Badge() string {
	if !p.fresh {
		return ""
	}
	return p.tablePage.Badge()
}

// take is a poll's rows, when it listed them.
func (p *onScreen[T]) take(msg dataMsg, rows []T) {
	p.fresh = msg.got&p.what != 0
	if p.fresh {
		p.setData(rows)
	}
}

func (p *tablePage[T]) Name() string { return p.name }

func (p *tablePage[T]) Badge() string {
	if !p.loaded {
		return ""
	}
	return strconv.Itoa(len(p.t.all))
}

func (p *tablePage[T]) Status() []string {
	st := []string{count(len(p.t.rows), len(p.t.all), p.noun), "sort " + p.t.sortName()}
	if n := len(p.t.tags); n > 0 {
		st = append(st, strconv.Itoa(n)+" tagged")
	}
	return st
}

func (p *tablePage[T]) Filter() string                    { return p.t.filter }
func (p *tablePage[T]) SetFilter(q string)                { p.t.setFilter(q) }
func (p *tablePage[T]) SortBy(col string, desc bool) bool { return p.t.sortBy(col, desc) }

func (p *tablePage[T]) Columns() []string {
	out := make([]string, len(p.t.cols))
	for i, c := range p.t.cols {
		out[i] = strings.ToLower(c.title)
	}
	return out
}

func (p *tablePage[T]) SetSize(w, h int) {
	p.w, p.h = w, h
	p.t.setHeight(h - 1)
}

func (p *tablePage[T]) View() string { return strings.Join(p.lines(), "\n") }

// lines are the table's, w×h.
func (p *tablePage[T]) lines() []string {
	return p.t.view(&p.s.st, p.w, p.h, p.s.clock(), p.empty())
}

// empty is what the table says without rows: still loading, nothing
// matching the filter, or none at all.
func (p *tablePage[T]) empty() string {
	switch {
	case !p.loaded:
		return "waiting for popd…"
	case p.t.filter != "":
		return "no " + plural(p.noun) + " match the filter"
	}
	return p.none
}

func (p *tablePage[T]) setData(rows []T) {
	p.t.setData(rows)
	p.loaded = true
	p.pruneTags()
}

// general is the table's keys for the full help.
func (p *tablePage[T]) general() []key.Binding {
	k := &p.s.keys
	bs := []key.Binding{k.Sort, k.Reverse, k.Filter, k.Back}
	if p.tagging {
		bs = append(bs, p.tagKey, p.untag)
	}
	return bs
}

// short is the help bar: the page's keys, then filtering and sorting.
func (p *tablePage[T]) short(own ...key.Binding) []key.Binding {
	k := &p.s.keys
	return p.s.short(p.t.filter != "", append(own, k.Filter, k.Sort)...)
}

// update moves the selection, changes the sort, or takes the mouse; it
// says whether msg was one of those.
func (p *tablePage[T]) update(msg tea.Msg) bool {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return p.nav(msg)
	case tea.MouseMsg:
		p.mouse(msg)
		return true
	}
	return false
}

func (p *tablePage[T]) nav(msg tea.KeyMsg) bool {
	t, k := &p.t, &p.s.keys
	if mv, ok := k.nav(msg, t.height); ok {
		switch {
		case mv.top:
			t.moveTo(0)
		case mv.bottom:
			t.moveTo(len(t.rows) - 1)
		default:
			t.move(mv.delta)
		}
		return true
	}
	switch {
	case p.tagging && key.Matches(msg, p.tagKey):
		p.toggleTag()
	case p.tagging && key.Matches(msg, p.untag):
		clear(t.tags)
	case key.Matches(msg, k.Sort):
		t.setSort((t.sort+1)%len(t.cols), false)
	case key.Matches(msg, k.Reverse):
		t.setSort(t.sort, !t.desc)
	default:
		return false
	}
	return true
}

// mouse: the wheel scrolls, a click selects a row. y counts from the
// page's top line, the column titles.
func (p *tablePage[T]) mouse(msg tea.MouseMsg) {
	if msg.Action != tea.MouseActionPress {
		return
	}
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		p.t.move(-3)
	case tea.MouseButtonWheelDown:
		p.t.move(3)
	case tea.MouseButtonLeft:
		row := msg.Y - 1
		if row >= 0 && row < p.t.height && msg.X < p.w && p.t.off+row < len(p.t.rows) {
			p.t.moveTo(p.t.off + row)
		}
	}
}

// tagRows lets the page's rows be tagged (htop's space, k9s's marks):
// space tags or untags the selected row and moves to the next, U untags
// them all. The page acts on taggedRows.
func (p *tablePage[T]) tagRows(canTag func(r *T) bool) {
	p.tagging, p.canTag = true, canTag
	p.t.tags = map[string]bool{}
	p.tagKey = key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "tag"))
	p.untag = key.NewBinding(key.WithKeys("U"), key.WithHelp("U", "untag all"))
}

// toggleTag tags the selected row, or untags it, and moves down.
func (p *tablePage[T]) toggleTag() {
	r := p.t.selected()
	if r == nil || p.canTag != nil && !p.canTag(r) && !p.t.tagged(r) {
		return
	}
	if k := p.t.key(r); p.t.tags[k] {
		delete(p.t.tags, k)
	} else {
		p.t.tags[k] = true
	}
	p.t.move(1)
}

// taggedRows are the tagged rows: those on screen in the table's order,
// then those the filter hides (hidden counts them).
func (p *tablePage[T]) taggedRows() (rows []*T, hidden int) {
	if len(p.t.tags) == 0 {
		return nil, 0
	}
	shown := make(map[*T]bool, len(p.t.tags))
	for _, r := range p.t.rows {
		if p.t.tagged(r) {
			rows = append(rows, r)
			shown[r] = true
		}
	}
	for i := range p.t.all {
		if r := &p.t.all[i]; p.t.tagged(r) && !shown[r] {
			rows = append(rows, r)
			hidden++
		}
	}
	return rows, hidden
}

// pruneTags drops the tags of rows that are gone.
func (p *tablePage[T]) pruneTags() {
	if len(p.t.tags) == 0 {
		return
	}
	have := make(map[string]bool, len(p.t.all))
	for i := range p.t.all {
		have[p.t.key(&p.t.all[i])] = true
	}
	maps.DeleteFunc(p.t.tags, func(k string, _ bool) bool { return !have[k] })
}
