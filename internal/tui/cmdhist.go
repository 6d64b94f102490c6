package tui

import (
	"slices"
	"strings"
)

// maxCmdHistory is how many : lines a console remembers.
const maxCmdHistory = 100

// cmdHistory is the : lines run in this console, oldest first: each once
// (a line run again moves to the end), at most maxCmdHistory. While a line
// is typed, ↑ and ↓ walk it (pos), and come back to what was typed
// (draft).
type cmdHistory struct {
	lines []string
	pos   int // the line shown; len(lines) is the draft
	draft string
}

// add remembers a line that was run.
func (h *cmdHistory) add(line string) {
	line = strings.Join(strings.Fields(line), " ")
	if line == "" {
		return
	}
	h.lines = slices.DeleteFunc(h.lines, func(l string) bool { return l == line })
	h.lines = append(h.lines, line)
	if n := len(h.lines) - maxCmdHistory; n > 0 {
		h.lines = slices.Delete(h.lines, 0, n)
	}
}

// rewind starts a walk: the command line has just opened.
func (h *cmdHistory) rewind() { h.pos, h.draft = len(h.lines), "" }

// prev is the line before the one shown; typed is what the input holds,
// kept as the draft when the walk leaves it. ok is false at the oldest.
func (h *cmdHistory) prev(typed string) (string, bool) {
	if h.pos <= 0 {
		return "", false
	}
	if h.pos >= len(h.lines) {
		h.draft = typed
	}
	h.pos--
	return h.lines[h.pos], true
}

// next is the line after the one shown, and after the newest the draft;
// ok is false at the draft.
func (h *cmdHistory) next(string) (string, bool) {
	if h.pos >= len(h.lines) {
		return "", false
	}
	h.pos++
	if h.pos == len(h.lines) {
		return h.draft, true
	}
	return h.lines[h.pos], true
}
