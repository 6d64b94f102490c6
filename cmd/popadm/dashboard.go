package main

import (
	"context"
	"fmt"
	"os"

	"popd/internal/control"
	"popd/internal/tui"
	"popd/themes"
)

// dashboard runs the live console on the control socket. The socket path
// is fixed now, so a reconnect dials the same daemon even if its socket
// file is briefly gone.
func (e *env) dashboard() error {
	path := e.control
	if _, err := themes.Load(themeName(e.theme)); err != nil {
		return err // a broken theme file: say so before taking the screen
	}
	return tui.Run(e.ctx, tui.Options{
		Dial: func(ctx context.Context) (tui.Backend, error) {
			return control.Dial(ctx, path)
		},
		Theme:    e.theme,
		ReadOnly: e.readonly,
		Mouse:    e.mouse,
	})
}

// themeName is the theme the dashboard will use: --theme, else
// $POPADM_THEME, else the default.
func themeName(flag string) string {
	if flag != "" {
		return flag
	}
	if t := os.Getenv("POPADM_THEME"); t != "" {
		return t
	}
	return themes.Default
}

// themesCmd lists the colour themes, built-in and the user's.
func themesCmd(e *env, args []string) error {
	if _, err := parse(e.flags("themes"), args, "popadm themes", 0, 0); err != nil {
		return err
	}
	names, err := themes.List()
	if err != nil {
		return err
	}
	current := themeName(e.theme)
	for _, n := range names {
		mark := "  "
		if n == current {
			mark = "* "
		}
		fmt.Fprintln(e.stdout, mark+n)
	}
	return nil
}
