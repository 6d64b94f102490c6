package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"

	"popd/internal/control"
	"popd/internal/userdb"
)

const (
	userUsage        = "popadm user list|add|passwd|del|disable|enable ... [-users FILE]"
	userListUsage    = "popadm user list [--json] [-users FILE]"
	userAddUsage     = "popadm user add NAME [--password-stdin] [-users FILE]"
	userPasswdUsage  = "popadm user passwd NAME [--password-stdin] [-users FILE]"
	userDelUsage     = "popadm user del NAME [--purge-mail] [-users FILE]"
	userDisableUsage = "popadm user disable NAME [-users FILE]"
	userEnableUsage  = "popadm user enable NAME [-users FILE]"
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
		return &usageError{msg: fmt.Sprintf("unknown user command %q", clean(args[0])), usage: userUsage}
	}
	return cmd(e, args[1:])
}

// userStore is where the user commands act: popd, or a users file.
type userStore interface {
	list(ctx context.Context) ([]control.User, error)
	add(ctx context.Context, name, password string) error
	passwd(ctx context.Context, name, password string) error
	del(ctx context.Context, name string, purgeMail bool) error
	setDisabled(ctx context.Context, name string, disabled bool) error
	close()
}

// userFlags returns the flag set of a user command, with -users.
func (e *env) userFlags(name string) (*flag.FlagSet, *string) {
	fs := e.flags("user " + name)
	return fs, fs.String("users", "", "users `file` to edit directly, without popd")
}

// users opens the store: the file when path is set (created empty first
// when create), else popd.
func (e *env) users(path string, create bool) (userStore, error) {
	if path == "" {
		c, err := e.dial()
		if err != nil {
			return nil, err
		}
		return daemonUsers{c}, nil
	}
	if create {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			err = f.Close()
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	// Lines that cannot be used are worth a warning; the loaded count is not.
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := userdb.Open(path, log)
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
	st, err := e.users(*file, false)
	if err != nil {
		return err
	}
	defer st.close()
	us, err := st.list(e.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(us)
	}
	if len(us) == 0 {
		fmt.Fprintln(e.stdout, "no users")
		return nil
	}
	status := func(u control.User) string {
		if u.Disabled {
			return "disabled"
		}
		return "enabled"
	}
	if *file != "" { // the file knows nothing of maildrops
		t := e.table("NAME", "SCHEME", "STATUS")
		for _, u := range us {
			t.row(u.Name, dash(u.Scheme), status(u))
		}
		return t.flush()
	}
	t := e.table("NAME", "SCHEME", "STATUS", "MESSAGES", "SIZE", "LOCKED", "LAST LOGIN")
	for _, u := range us {
		last := "never"
		if !u.LastLogin.IsZero() {
			last = since(u.LastLogin) + " ago"
		}
		t.row(u.Name, dash(u.Scheme), status(u), strconv.Itoa(u.Messages), size(u.Octets), yesNo(u.Locked), last)
	}
	return t.flush()
}

func userAdd(e *env, args []string) error {
	return userPassword(e, args, "add", userAddUsage, true, userStore.add, "added user %s\n")
}

func userPasswd(e *env, args []string) error {
	return userPassword(e, args, "passwd", userPasswdUsage, false, userStore.passwd, "changed the password of %s\n")
}

// userPassword is "user add" and "user passwd": a name, a password asked
// for (or read from stdin), and one change through popd or the file.
func userPassword(e *env, args []string, name, usage string, create bool,
	do func(st userStore, ctx context.Context, name, pw string) error, done string) error {
	fs, file := e.userFlags(name)
	fromStdin := fs.Bool("password-stdin", false, "")
	pos, err := parse(fs, args, usage, 1, 1)
	if err != nil {
		return err
	}
	st, err := e.users(*file, create)
	if err != nil {
		return err
	}
	defer st.close()
	pw, err := e.password(*fromStdin)
	if err != nil {
		return err
	}
	if err := do(st, e.ctx, pos[0], pw); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, done, clean(pos[0]))
	return nil
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
	st, err := e.users(*file, false)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.del(e.ctx, pos[0], *purge); err != nil {
		return err
	}
	if *purge {
		fmt.Fprintf(e.stdout, "deleted user %s and their mail\n", clean(pos[0]))
	} else {
		fmt.Fprintf(e.stdout, "deleted user %s (their mail is kept)\n", clean(pos[0]))
	}
	return nil
}

func userDisable(e *env, args []string, disable bool) error {
	name, usage, done := "enable", userEnableUsage, "enabled"
	if disable {
		name, usage, done = "disable", userDisableUsage, "disabled"
	}
	fs, file := e.userFlags(name)
	pos, err := parse(fs, args, usage, 1, 1)
	if err != nil {
		return err
	}
	st, err := e.users(*file, false)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.setDisabled(e.ctx, pos[0], disable); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s user %s\n", done, clean(pos[0]))
	return nil
}

// daemonUsers asks popd.
type daemonUsers struct{ c *control.Client }

func (d daemonUsers) list(ctx context.Context) ([]control.User, error) { return d.c.Users(ctx) }
func (d daemonUsers) add(ctx context.Context, name, pw string) error {
	return d.c.AddUser(ctx, name, pw)
}
func (d daemonUsers) passwd(ctx context.Context, name, pw string) error {
	return d.c.SetPassword(ctx, name, pw)
}
func (d daemonUsers) del(ctx context.Context, name string, purge bool) error {
	return d.c.DeleteUser(ctx, name, purge)
}
func (d daemonUsers) setDisabled(ctx context.Context, name string, disabled bool) error {
	return d.c.SetDisabled(ctx, name, disabled)
}
func (d daemonUsers) close() { d.c.Close() }

// fileUsers edits a users file with userdb (flock, atomic replace), as
// popd itself does.
type fileUsers struct{ f *userdb.File }

func (u fileUsers) list(context.Context) ([]control.User, error) {
	var out []control.User
	for _, x := range u.f.Users() {
		out = append(out, control.User{Name: x.Name, Scheme: x.Scheme, Disabled: x.Disabled})
	}
	if out == nil {
		out = []control.User{}
	}
	return out, nil
}

func (u fileUsers) add(_ context.Context, name, pw string) error {
	return fileError(name, u.f.Add(name, pw))
}

func (u fileUsers) passwd(_ context.Context, name, pw string) error {
	return fileError(name, u.f.SetPassword(name, pw))
}

func (u fileUsers) del(_ context.Context, name string, _ bool) error {
	return fileError(name, u.f.Delete(name))
}

func (u fileUsers) setDisabled(_ context.Context, name string, disabled bool) error {
	return fileError(name, u.f.SetDisabled(name, disabled))
}

func (u fileUsers) close() {}

// fileError words userdb's errors as popd's control errors are.
func fileError(name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, userdb.ErrUnknownUser):
		return &control.Error{Code: control.CodeNotFound, Message: fmt.Sprintf("no user %q", name)}
	case errors.Is(err, userdb.ErrUserExists):
		return &control.Error{Code: control.CodeConflict, Message: fmt.Sprintf("user %q already exists", name)}
	case errors.Is(err, userdb.ErrInvalidName), errors.Is(err, userdb.ErrInvalidPassword):
		return &control.Error{Code: control.CodeInvalid, Message: err.Error()}
	}
	return err
}
