package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync/atomic"

	"github.com/BurntSushi/toml"

	"popd/internal/control"
	"popd/internal/human"
	"popd/internal/tui"
	"popd/themes"
)

// dashboard runs the live console on the control socket, or with -fleet
// on every node's. The socket paths are fixed now, so a reconnect dials
// the same daemon even if its socket file is briefly gone.
func (e *env) dashboard() error {
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	prefs, err := loadPrefs()
	if err != nil {
		return err
	}
	theme := themes.Pick(e.theme, prefs.Theme)
	if _, err := themes.Load(theme); err != nil {
		return err // a broken theme file: say so before taking the screen
	}
	opt := tui.Options{
		Theme:    theme,
		ReadOnly: e.readonly || prefs.ReadOnly,
		Mouse:    e.mouse || prefs.Mouse,
		// Stuck sessions: idle in TRANSACTION, or a RETR stalled, longer.
		StuckIdle: e.stuckIdle,
		StuckSend: e.stuckSend,
	}
	if f == nil {
		path := e.control
		opt.Dial = withBacklog(func(ctx context.Context) (*control.Client, error) { return control.Dial(ctx, path) })
		return tui.Run(e.ctx, opt)
	}
	// Each node has its timeout (2 s, 5 s over ssh) to connect and to
	// list its sessions and stats, as for the commands: a node that does
	// not is shown down, and dialled again in the background.
	for i := range f.Nodes {
		n := &f.Nodes[i]
		opt.Nodes = append(opt.Nodes, tui.Node{
			Name:    n.Name,
			Timeout: timeout(n),
			Dial:    withBacklog(func(ctx context.Context) (*control.Client, error) { return e.dialNode(ctx, n) }),
		})
	}
	return tui.Run(e.ctx, opt)
}

// withBacklog is dial for the dashboard: on opening, the Events view
// starts with what just happened; not again on a reconnect, where the view
// still shows it.
func withBacklog(dial func(context.Context) (*control.Client, error)) func(context.Context) (tui.Backend, error) {
	var connected atomic.Bool
	return func(ctx context.Context) (tui.Backend, error) {
		c, err := dial(ctx)
		if err != nil {
			return nil, err
		}
		if !connected.Swap(true) {
			c.SetEventBacklog(eventBacklog)
		}
		return c, nil
	}
}

// eventBacklog is how many past events the Events view starts with.
const eventBacklog = 200

// prefs is the console's configuration file, popadm.toml beside the user
// themes ($XDG_CONFIG_HOME/popadm/, else ~/.config/popadm/):
//
//	theme = "dark"
//	mouse = true
//	readonly = true
type prefs struct {
	Theme    string `toml:"theme"`
	Mouse    bool   `toml:"mouse"`
	ReadOnly bool   `toml:"readonly"`
}

func prefsPath() (string, error) {
	dir, err := themes.Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(dir), "popadm.toml"), nil
}

// loadPrefs reads the configuration file; a missing one is no error, a
// broken one names the file and what is wrong.
func loadPrefs() (prefs, error) {
	var p prefs
	path, err := prefsPath()
	if err != nil {
		return p, nil
	}
	md, err := toml.DecodeFile(path, &p)
	if errors.Is(err, fs.ErrNotExist) {
		return prefs{}, nil
	}
	if err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return p, fmt.Errorf("%s: unknown key %q (known: theme, mouse, readonly)", path, und[0].String())
	}
	return p, nil
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
	p, err := loadPrefs()
	if err != nil {
		return err
	}
	current := themes.Pick(e.theme, p.Theme)
	for _, n := range names {
		mark := "  "
		if n == current {
			mark = "* "
		}
		fmt.Fprintln(e.stdout, mark+human.Clean(n))
	}
	return nil
}
