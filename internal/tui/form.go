package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/human"
)

// userForm adds a user (name, password, password again) or sets a
// password (the same without the name). Mistakes are shown beside the
// field; what the daemon says is shown in the form, which stays open.
type userForm struct {
	s      *shared
	act    action // actAdd or actPasswd
	user   string // whose password, for actPasswd
	inputs []textinput.Model
	labels []string
	errs   []string
	err    string // the daemon's answer
	focus  int
	busy   bool
	tried  bool // validate as the user types after a first submit
	w      int
	done   bool
}

var _ modal = (*userForm)(nil)

func newUserForm(s *shared, act action, user string) *userForm {
	f := &userForm{s: s, act: act, user: user}
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
		ti.Cursor.SetMode(cursor.CursorStatic) // no blinking redraws over ssh
		f.inputs = append(f.inputs, ti)
		f.labels = append(f.labels, label)
	}
	if f.adding() {
		mk("Name", "login name", false)
	}
	mk("Password", "password", true)
	mk("Again", "the same again", true)
	f.errs = make([]string, len(f.inputs))
	f.inputs[0].Focus()
	return f
}

func (f *userForm) adding() bool { return f.act == actAdd }

func (f *userForm) name() string {
	if !f.adding() {
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
	if f.adding() {
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

func (f *userForm) Done() bool       { return f.done }
func (f *userForm) SetSize(w, _ int) { f.w = w }

func (f *userForm) ShortHelp() []key.Binding {
	return []key.Binding{hint("enter", "next/save"), hint("tab", "next field"), hint("esc", "cancel")}
}

func (f *userForm) FullHelp() [][]key.Binding { return [][]key.Binding{f.ShortHelp()} }

func (f *userForm) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return f.key(msg)
	case doneMsg:
		if msg.req.by != f {
			return nil
		}
		if msg.err != nil {
			f.busy, f.err = false, human.Clean(msg.err.Error())
		} else {
			f.done = true
		}
	}
	return nil
}

func (f *userForm) key(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		f.done = true
		return nil
	}
	if f.busy {
		return nil
	}
	switch msg.String() {
	case "tab", "down":
		f.setFocus(f.focus + 1)
		return nil
	case "shift+tab", "up":
		f.setFocus(f.focus - 1)
		return nil
	case "enter":
		return f.submit()
	}
	f.inputs[f.focus], _ = f.inputs[f.focus].Update(msg)
	if f.tried {
		f.validate()
	}
	return nil
}

// submit moves to the next field, or sends the form when it is the last.
func (f *userForm) submit() tea.Cmd {
	if f.focus < len(f.inputs)-1 {
		f.setFocus(f.focus + 1)
		return nil
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
		return nil
	}
	f.busy = true
	return request{act: f.act, target: f.name(), password: f.password(), by: f}.cmd()
}

// View is the form's box; the frame centres it over the page.
func (f *userForm) View() string {
	st := &f.s.st
	inner := min(f.w-8, 56)
	title := "Add a user"
	if !f.adding() {
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
		st.input(&in) // in the theme of the moment
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
