// Command popadm administers a running popd over its control socket, for
// people and scripts:
//
//	popadm who [--json]               popadm kick ID | NODE/ID
//	popadm kick [--user NAME] [--from CIDR] [--state S] [--idle-over D] [--dry-run]
//	popadm user list [--json]         popadm user add NAME [--password-stdin]
//	popadm user passwd NAME [--password-stdin]
//	popadm user del NAME [--purge-mail]
//	popadm user disable NAME          popadm user enable NAME
//	popadm locks [--json]             popadm unlock NAME
//	popadm penalties [--json]         popadm penalty clear SOURCE
//	popadm events [--json] [--backlog N]  popadm stats [--json]
//	popadm reload                     popadm dial-stdio PATH
//	popadm version                    popadm completion bash|zsh|fish
//
// Every command takes -control PATH (default: $POPD_CONTROL; else
// ./popd-demo/control.sock when it exists; else popd's system-wide socket,
// control.SystemPath, which "popadm -h" names; see control.DefaultPath).
// The "user" commands take -users FILE to edit a users file directly,
// without popd, so that the first users can be made before popd starts;
// "user add" creates the file (mode 0600) when it does not exist.
//
// With -fleet FILE (default: $POPADM_FLEET, unless -control is given) the
// commands run on every node of a fleet file (package fleet) at once:
// listings and events get the node's name, kick and unlock go to the node
// that holds the session or the lock, and user changes go through one node
// that answers (the users file is shared). A node's control address may be
// ssh://[user@]host[:port]/path: popadm then runs "ssh host popadm
// dial-stdio /path" ($POPADM_SSH names the ssh program) and speaks over its
// standard input and output. See fleet.go. With no command, the dashboard
// (package tui) watches every node of the fleet.
//
// Passwords come from the terminal, asked twice without echo, or with
// --password-stdin as one line on standard input.
//
// Exit status: 0 on success, 1 on an error (one line on standard error,
// "popadm: ..."), 2 on a usage error, 3 when some node of the fleet did not
// answer (each said on standard error) and the command worked on the
// others. With no command, popadm prints its usage and exits 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"popd/internal/control"
	"popd/internal/fleet"
	"popd/internal/human"
)

const usage = `usage: popadm [-control PATH | -fleet FILE] [--theme NAME] [--readonly] [--mouse]
              [--stuck-idle DURATION] [--stuck-send DURATION]
       popadm [-control PATH | -fleet FILE] COMMAND [ARGS]
       popadm [-control PATH | -fleet FILE] --version

With no command, popadm opens the live dashboard (? in it lists the keys);
with -fleet, over every node of the fleet.

  who [--json]                          live sessions
  kick ID | NODE/ID                     end a session
  kick [--user NAME] [--from CIDR] [--state STATE] [--idle-over DURATION] [--dry-run]
                                        end every session that matches all of
                                        those given, as popd sees them; none: exit 1
  user list [--json]                    users and their maildrops
  user add NAME [--password-stdin]      add a user
  user passwd NAME [--password-stdin]   change a user's password
  user del NAME [--purge-mail]          delete a user (and their mail)
  user disable NAME | enable NAME       refuse or allow a user's logins
  locks [--json]                        held maildrop locks
  unlock NAME                           unlock NAME's maildrop
  penalties [--json]                    sources slowed down by failed logins
  penalty clear SOURCE                  forget a source's failed logins
  events [--json] [--backlog N]         follow popd's events until interrupted
  stats [--json]                        counters
  reload                                reread the configuration, users and certificate
  migrate check USER...|--all           which UIDLs stay what Dovecot/Courier/qmail gave (offline)
  themes                                list the dashboard's colour themes
  dial-stdio PATH                       join standard input and output to the
                                        control socket PATH (what ssh runs)
  version                               popadm's version, and popd's if it answers
  completion bash|zsh|fish              print a script that completes popadm's
                                        commands, flags, users, sessions, ...

Every command takes -control PATH (default: $POPD_CONTROL, else
./popd-demo/control.sock if present, else ` + control.SystemPath + `).
The user commands take -users FILE to edit a users file without popd.

-fleet FILE (default: $POPADM_FLEET, unless -control is given) runs the
commands on every node of a fleet file ([[node]] name, pop3, control) at
once. Listings, stats and events get a NODE column, and "node" in each JSON
object; kick takes NODE/ID, or an ID that only one node has, and sends
a selector to every node; unlock goes to the node that holds the lock;
user commands go through the first node that answers. A control address
ssh://[user@]host[:port]/path runs "ssh [-p port] [user@]host popadm
dial-stdio /path" ($POPADM_SSH names the ssh program). A node has 2 s to answer (5 s over ssh). The dashboard
shows every node's sessions and locks with their node, merges their
events, has a Nodes view, and sends each action to the node that holds it.

Exit status: 0 on success; 1 on an error; 2 on a usage error; 3 when some
node of the fleet did not answer (said on standard error) and the command
worked on the others.
`

// The usage lines of the commands.
const (
	whoUsage         = "popadm who [--json]"
	locksUsage       = "popadm locks [--json]"
	penaltiesUsage   = "popadm penalties [--json]"
	statsUsage       = "popadm stats [--json]"
	kickUsage        = "popadm kick ID | NODE/ID | [--user NAME] [--from CIDR] [--state STATE] [--idle-over DURATION] [--dry-run]"
	unlockUsage      = "popadm unlock NAME"
	penaltyUsage     = "popadm penalty clear SOURCE"
	reloadUsage      = "popadm reload"
	eventsUsage      = "popadm events [--json] [--backlog N]"
	userUsage        = "popadm user list|add|passwd|del|disable|enable ... [-users FILE]"
	userListUsage    = "popadm user list [--json] [-users FILE]"
	userAddUsage     = "popadm user add NAME [--password-stdin] [-users FILE]"
	userPasswdUsage  = "popadm user passwd NAME [--password-stdin] [-users FILE]"
	userDelUsage     = "popadm user del NAME [--purge-mail] [-users FILE]"
	userDisableUsage = "popadm user disable NAME [-users FILE]"
	userEnableUsage  = "popadm user enable NAME [-users FILE]"
)

// commands is the command table.
var commands = map[string]func(e *env, args []string) error{
	"who":        who,
	"kick":       kick,
	"user":       userCmd,
	"locks":      locks,
	"unlock":     unlock,
	"penalties":  penalties,
	"penalty":    penaltyCmd,
	"events":     events,
	"stats":      stats,
	"reload":     reload,
	"themes":     themesCmd,
	"migrate":    migrateCmd,
	"dial-stdio": dialStdio,
	"version":    versionCmd,
	"completion": completionCmd,
	"__complete": completeCmd, // hidden: what the completion scripts run
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{ctx: ctx, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, prompt: ttyPrompt,
		terminal: isTerminal(os.Stdin) && isTerminal(os.Stdout)}
	code := e.run(os.Args[1:])
	stop()
	os.Exit(code)
}

// env is what a command runs with.
type env struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	// prompt shows a prompt and reads one line without echo (the
	// terminal; replaced in tests).
	prompt func(ctx context.Context, prompt string) (string, error)

	control    string // -control
	controlSet bool   // -control was given
	fleetPath  string // -fleet, else $POPADM_FLEET
	fleetSet   bool   // -fleet was given
	fl         *fleet.Fleet
	// Nodes of the fleet that did not answer, and whether one refused
	// the command: each said on standard error, they decide the exit
	// status of a command that otherwise worked (3, 1).
	down     []string
	refused  bool
	theme    string // --theme, for the dashboard
	readonly bool   // --readonly
	mouse    bool   // --mouse
	terminal bool   // standard input and output are a terminal
	// --stuck-idle, --stuck-send: when the dashboard calls a session stuck.
	stuckIdle, stuckSend time.Duration
}

// run runs the command line args and returns the exit status.
func (e *env) run(args []string) int {
	e.control = control.DefaultPath()
	e.fleetPath = os.Getenv("POPADM_FLEET")
	fs := flag.NewFlagSet("popadm", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.where(fs)
	fs.StringVar(&e.theme, "theme", "", "")
	fs.BoolVar(&e.readonly, "readonly", false, "")
	fs.BoolVar(&e.mouse, "mouse", false, "")
	fs.DurationVar(&e.stuckIdle, "stuck-idle", 0, "")
	fs.DurationVar(&e.stuckSend, "stuck-send", 0, "")
	showVersion := fs.Bool("version", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, usage)
			return 0
		}
		fmt.Fprintf(e.stderr, "popadm: %s\n%s", human.Clean(err.Error()), usage)
		return 2
	}
	args = fs.Args()
	if *showVersion {
		return e.exit(versionCmd(e, args))
	}
	if len(args) == 0 {
		if !e.terminal {
			fmt.Fprint(e.stderr, "popadm: the dashboard needs a terminal; the commands work anywhere\n"+usage)
			return 2
		}
		return e.exit(e.dashboard())
	}
	if args[0] == "help" {
		fmt.Fprint(e.stdout, usage)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "popadm: unknown command %q\n%s", args[0], usage)
		return 2
	}
	return e.exit(cmd(e, args[1:]))
}

// exit reports err and returns the exit status for it.
func (e *env) exit(err error) int {
	var ue *usageError
	switch {
	case err == nil && e.refused:
		return 1
	case err == nil && len(e.down) > 0:
		return exitDown
	case err == nil:
		return 0
	case errors.Is(err, errSaid):
		return 1
	case errors.As(err, &ue) && ue.help:
		fmt.Fprintf(e.stdout, "usage: %s\n", ue.usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "popadm: %s\nusage: %s\n", human.Clean(ue.msg), ue.usage)
		return 2
	}
	if e.ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(e.stderr, "popadm: interrupted")
		return 1
	}
	fmt.Fprintf(e.stderr, "popadm: %s\n", message(err))
	return 1
}

// message is err for a person: popd's message for its errors, without
// the "control: " prefix otherwise.
func message(err error) string {
	var ce *control.Error
	if errors.As(err, &ce) {
		return human.Clean(ce.Message)
	}
	return human.Clean(strings.TrimPrefix(err.Error(), "control: "))
}

// usageError is a command line that cannot run: exit status 2 (0 for -h).
type usageError struct {
	msg, usage string
	help       bool
}

func (u *usageError) Error() string { return u.msg }

// flags returns a command's flag set, with -control and -fleet.
func (e *env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("popadm "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.where(fs)
	return fs
}

// where adds -control and -fleet to fs.
func (e *env) where(fs *flag.FlagSet) {
	fs.Func("control", "control socket `path`", func(s string) error {
		e.control, e.controlSet = s, true
		return nil
	})
	fs.Func("fleet", "fleet `file`", func(s string) error {
		e.fleetPath, e.fleetSet = s, true
		return nil
	})
}

// parse parses args, where flags may come before, between or after the
// positional arguments ("--" ends the flags), and checks that there are
// min to max positional arguments.
func parse(fs *flag.FlagSet, args []string, usage string, min, max int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &usageError{usage: usage, help: true}
			}
			return nil, &usageError{msg: err.Error(), usage: usage}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	switch {
	case len(pos) < min:
		return nil, &usageError{msg: "missing argument", usage: usage}
	case len(pos) > max:
		return nil, &usageError{msg: fmt.Sprintf("unexpected argument %q", human.Clean(pos[max])), usage: usage}
	}
	return pos, nil
}

// dial connects to popd.
func (e *env) dial() (*control.Client, error) {
	return control.Dial(e.ctx, e.control)
}
