package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// userForm adds a user (name, password, password again) or sets a
// password (the same without the name). Mistakes are shown beside the
// field; what the daemon says is shown in the form, which stays open.
type userForm struct {
	add    bool
	user   string // whose password, when !add
	inputs []textinput.Model
	labels []string
	errs   []string
	err    string // the daemon's answer
	focus  int
	busy   bool
	tried  bool // validate as the user types after a first submit
}

func newUserForm(st *styles, add bool, user string) *userForm {
	f := &userForm{add: add, user: user}
	mk := func(label, placeholder string, secret bool) {
		ti := textinput.New()
		ti.Placeholder = placeholder
		ti.Prompt = ""
		ti.CharLimit = 256
		ti.Width = 30
		if secret {
			ti.EchoMode = textinput.EchoPassword
			ti.EchoCharacter = '•'
		}
		st.input(&ti)
		ti.Cursor.SetMode(cursor.CursorStatic) // no blinking redraws over ssh
		f.inputs = append(f.inputs, ti)
		f.labels = append(f.labels, label)
	}
	if add {
		mk("Name", "login name", false)
	}
	mk("Password", "password", true)
	mk("Again", "the same again", true)
	f.errs = make([]string, len(f.inputs))
	f.inputs[0].Focus()
	return f
}

func (f *userForm) name() string {
	if !f.add {
		return f.user
	}
	return strings.TrimSpace(f.inputs[0].Value())
}

func (f *userForm) password() string { return f.inputs[len(f.inputs)-2].Value() }
func (f *userForm) again() string    { return f.inputs[len(f.inputs)-1].Value() }

// validate fills errs and says whether the form may be sent.
func (f *userForm) validate() bool {
	for i := range f.errs {
		f.errs[i] = ""
	}
	ok := true
	if f.add {
		switch n := f.name(); {
		case n == "":
			f.errs[0], ok = "name is empty", false
		case strings.ContainsAny(n, ": \t"):
			f.errs[0], ok = "name cannot contain spaces or ':'", false
		}
	}
	p := len(f.inputs) - 2
	switch {
	case f.password() == "":
		f.errs[p], ok = "password is empty", false
	case f.password() != f.again():
		f.errs[p+1], ok = "passwords do not match", false
	}
	return ok
}

func (f *userForm) setFocus(i int) {
	f.inputs[f.focus].Blur()
	f.focus = (i + len(f.inputs)) % len(f.inputs)
	f.inputs[f.focus].Focus()
}

type formResult int

const (
	formOpen formResult = iota
	formCancel
	formSubmit
)

func (f *userForm) update(msg tea.KeyMsg) formResult {
	switch msg.String() {
	case "esc":
		return formCancel
	}
	if f.busy {
		return formOpen
	}
	switch msg.String() {
	case "tab", "down":
		f.setFocus(f.focus + 1)
		return formOpen
	case "shift+tab", "up":
		f.setFocus(f.focus - 1)
		return formOpen
	case "enter":
		if f.focus < len(f.inputs)-1 {
			f.setFocus(f.focus + 1)
			return formOpen
		}
		f.tried = true
		f.err = ""
		if !f.validate() {
			for i, e := range f.errs {
				if e != "" {
					f.setFocus(i)
					break
				}
			}
			return formOpen
		}
		f.busy = true
		return formSubmit
	}
	f.inputs[f.focus], _ = f.inputs[f.focus].Update(msg)
	if f.tried {
		f.validate()
	}
	return formOpen
}

func (f *userForm) view(st *styles, w int) string {
	inner := min(w-8, 56)
	title := "Add a user"
	if !f.add {
		title = "Set the password of " + f.user
	}
	lines := []string{st.bold[kAccent].s(truncate(title, inner)), ""}
	for i := range f.inputs {
		mark := "  "
		if i == f.focus {
			mark = "> "
		}
		in := f.inputs[i]
		in.Width = max(inner-14, 4)
		lines = append(lines, st.fg[kMuted].s(mark+fit(f.labels[i], 10, false))+" "+in.View())
		if f.errs[i] != "" {
			lines = append(lines, st.fg[kErr].s(truncate("             ! "+f.errs[i], inner)))
		}
	}
	lines = append(lines, "")
	switch {
	case f.busy:
		lines = append(lines, st.fg[kAccent].s("saving…"))
	case f.err != "":
		for _, l := range wrap("! popd says: "+f.err, inner) {
			lines = append(lines, st.fg[kErr].s(l))
		}
	}
	lines = append(lines, st.fg[kMuted].s(truncate("enter next/save · tab move · esc cancel", inner)))
	return st.box.Width(inner + 2).Render(strings.Join(lines, "\n"))
}

// wrap breaks text into lines of at most w cells, at spaces.
func wrap(s string, w int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case width(line)+1+width(word) <= w:
			line += " " + word
		default:
			out = append(out, truncate(line, w))
			line = word
		}
	}
	if line != "" {
		out = append(out, truncate(line, w))
	}
	return out
}
