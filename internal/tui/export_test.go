package tui

import (
	"slices"
	"testing"
)

// Hooks for the tests: a page registered for one test, and the model's
// pages and modal by their types.

// registerPage adds a page to the registry until t ends.
func registerPage(t testing.TB, newPage func(*shared) page) {
	saved := registry
	registry = append(slices.Clip(registry), newPage)
	t.Cleanup(func() { registry = saved })
}

// pageOf is m's page of type P; the zero P when it has none.
func pageOf[P page](m Model) P {
	for _, p := range m.pages {
		if pp, ok := p.(P); ok {
			return pp
		}
	}
	var none P
	return none
}

// pageName is the name of the page on screen.
func (m Model) pageName() string { return m.page().Name() }

// dialog is the open confirmation, or nil.
func (m Model) dialog() *confirm {
	c, _ := m.s.modal.(*confirm)
	return c
}

// form is the open user form, or nil.
func (m Model) form() *userForm {
	f, _ := m.s.modal.(*userForm)
	return f
}
