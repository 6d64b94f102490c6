package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"popd/internal/accounts"
	"popd/internal/control"
	"popd/internal/fleet"
	"popd/internal/human"
)

// userCommands is the table of "user" subcommands.
var userCommands = map[string]func(e *env, args []string) error{
	"list":    userList,
	"add":     userAdd,
	"passwd":  userPasswd,
	"del":     userDel,
	"disable": func(e *env, args []string) error { return userDisable(e, args, true) },
	"enable":  func(e *env, args []string) error { return userDisable(e, args, false) },
}

func userCmd(e *env, args []string) error {
	if len(args) == 0 {
		return &usageError{msg: "missing user command", usage: userUsage}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		return &usageError{usage: userUsage, help: true}
	}
	cmd, ok := userCommands[args[0]]
	if !ok {
		return &usageError{msg: fmt.Sprintf("unknown user command %q", human.Clean(args[0])), usage: userUsage}
	}
	return cmd(e, args[1:])
}

// userStore is where the user commands act: popd (a *control.Client), or
// a users file (fileUsers).
type userStore interface {
	Users(ctx context.Context) ([]control.User, error)
	AddUser(ctx context.Context, name, password string) error
	SetPassword(ctx context.Context, name, password string) error
	DeleteUser(ctx context.Context, name string, purgeMail bool) error
	SetDisabled(ctx context.Context, name string, disabled bool) error
	Close() error
}

// userFlags returns the flag set of a user command, with -users.
func (e *env) userFlags(name string) (*flag.FlagSet, *string) {
	fs := e.flags("user " + name)
	return fs, fs.String("users", "", "users `file` to edit directly, without popd")
}

// users opens the store: the file when path is set (created empty first
// when create), else popd; on a fleet, the first node that answers (the
// users file is shared storage, so a change is made once).
func (e *env) users(path string, create bool) (userStore, error) {
	if path == "" {
		f, err := e.theFleet()
		if err != nil {
			return nil, err
		}
		if f != nil {
			return e.anyNode(f)
		}
		c, err := e.dial()
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	// Lines that cannot be used are worth a warning; the loaded count is not.
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := accounts.OpenFile(path, create, log)
	if err != nil {
		return nil, err
	}
	return fileUsers{f}, nil
}

func userList(e *env, args []string) error {
	fs, file := e.userFlags("list")
	asJSON := fs.Bool("json", false, "")
	if _, err := parse(fs, args, userListUsage, 0, 0); err != nil {
		return err
	}
	var f *fleet.Fleet
	if *file == "" {
		var err error
		if f, err = e.theFleet(); err != nil {
			return err
		}
	}
	var us []control.User
	if f != nil {
		var err error
		if us, err = fleetUsers(e, f); err != nil {
			return err
		}
	} else {
		st, err := e.users(*file, false)
		if err != nil {
			return err
		}
		defer st.Close()
		if us, err = st.Users(e.ctx); err != nil {
			return err
		}
	}
	if *asJSON {
		return e.printJSON(us)
	}
	status := func(u control.User) string {
		if u.Disabled {
			return "disabled"
		}
		return "enabled"
	}
	if *file != "" { // the file knows nothing of maildrops
		return show(e, us, "no users", []string{"NAME", "SCHEME", "STATUS"},
			func(u control.User) []string { return []string{u.Name, dash(u.Scheme), status(u)} })
	}
	now := time.Now()
	return show(e, us, "no users",
		[]string{"NAME", "SCHEME", "STATUS", "MSGS", "SIZE", "LOCKED", "LAST LOGIN"},
		func(u control.User) []string {
			return []string{u.Name, dash(u.Scheme), status(u), strconv.Itoa(u.Messages), human.Bytes(u.Octets),
				human.YesNo(u.Locked), human.Ago(now, u.LastLogin)}
		})
}

// changeUser makes one change through popd or, with -users, the file
// (created first when create); on a fleet, through one node, named in
// what is said to be done.
func (e *env) changeUser(file string, create bool, do func(st userStore) (done string, err error)) error {
	return change(e, func() (userStore, error) { return e.users(file, create) }, func(st userStore) (string, error) {
		done, err := do(st)
		if n, ok := st.(nodeClient); ok {
			done += " (through node " + n.node + ")"
		}
		return done, err
	})
}

func userAdd(e *env, args []string) error {
	return userPassword(e, args, "add", userAddUsage, true, userStore.AddUser, "added user ")
}

func userPasswd(e *env, args []string) error {
	return userPassword(e, args, "passwd", userPasswdUsage, false, userStore.SetPassword, "changed the password of ")
}

// userPassword is "user add" and "user passwd": a name, a password asked
// for (or read from stdin) once popd or the file is open, and the change.
func userPassword(e *env, args []string, name, usage string, create bool,
	set func(st userStore, ctx context.Context, name, pw string) error, done string) error {
	fs, file := e.userFlags(name)
	fromStdin := fs.Bool("password-stdin", false, "")
	pos, err := parse(fs, args, usage, 1, 1)
	if err != nil {
		return err
	}
	return e.changeUser(*file, create, func(st userStore) (string, error) {
		pw, err := e.password(*fromStdin)
		if err != nil {
			return "", err
		}
		return done + pos[0], set(st, e.ctx, pos[0], pw)
	})
}

func userDel(e *env, args []string) error {
	fs, file := e.userFlags("del")
	purge := fs.Bool("purge-mail", false, "")
	pos, err := parse(fs, args, userDelUsage, 1, 1)
	if err != nil {
		return err
	}
	if *purge && *file != "" {
		return &usageError{msg: "--purge-mail needs popd (it knows where the mail is); drop -users", usage: userDelUsage}
	}
	return e.changeUser(*file, false, func(st userStore) (string, error) {
		done := "deleted user " + pos[0] + " (their mail is kept)"
		if *purge {
			done = "deleted user " + pos[0] + " and their mail"
		}
		if err := st.DeleteUser(e.ctx, pos[0], *purge); err != nil {
			return "", err
		}
		if n, ok := st.(nodeClient); ok {
			// popd ended the user's sessions on that node; so on the others.
			e.kickElsewhere(n.node, pos[0])
		}
		return done, nil
	})
}

func userDisable(e *env, args []string, disable bool) error {
	name, usage, done := "enable", userEnableUsage, "enabled user "
	if disable {
		name, usage, done = "disable", userDisableUsage, "disabled user "
	}
	fs, file := e.userFlags(name)
	pos, err := parse(fs, args, usage, 1, 1)
	if err != nil {
		return err
	}
	return e.changeUser(*file, false, func(st userStore) (string, error) {
		return done + pos[0], st.SetDisabled(e.ctx, pos[0], disable)
	})
}

// fileUsers is a users file as a userStore.
type fileUsers struct{ f *accounts.File }

func (u fileUsers) Users(context.Context) ([]control.User, error) { return u.f.List(), nil }
func (u fileUsers) AddUser(_ context.Context, name, pw string) error {
	return u.f.Add(name, pw)
}
func (u fileUsers) SetPassword(_ context.Context, name, pw string) error {
	return u.f.SetPassword(name, pw)
}
func (u fileUsers) DeleteUser(_ context.Context, name string, _ bool) error { return u.f.Delete(name) }
func (u fileUsers) SetDisabled(_ context.Context, name string, disabled bool) error {
	return u.f.SetDisabled(name, disabled)
}
func (u fileUsers) Close() error { return nil }
