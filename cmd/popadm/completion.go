package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"popd/internal/control"
	"popd/internal/fleet"
	"popd/internal/human"
	"popd/internal/maildir"
	"popd/themes"
)

// Shell completion. "popadm completion bash|zsh|fish" prints a script
// that, at each Tab, runs
//
//	popadm __complete WORD... CURRENT
//
// with the words typed after "popadm" up to the one being completed (""
// for a new one), and offers what it prints: one suggestion a line, "value"
// or "value<TAB>description" (zsh and fish show the description; bash the
// value only). A line that starts with a tab is not a suggestion but
// fileDirective: the word is a file name, for the shell to complete as it
// does. What a word can be comes from completionTable; live values (users,
// session IDs, locks, penalised sources) from popd, over the control
// socket that the words name (-control, -fleet), else $POPD_CONTROL and
// the rest of the defaults, as the command itself would. popd has
// completeTimeout to answer; when it does not, those suggestions are
// simply missing: __complete never prints an error and always exits 0, so
// a shell neither hangs nor shows a message.

const completionUsage = "popadm completion bash|zsh|fish"

// completeTimeout is how long popd (every node of a fleet) has to give the
// live values.
const completeTimeout = 500 * time.Millisecond

// fileDirective, a line of its own, asks the shell to complete a file name.
const fileDirective = "\tfile"

// An argKind is what a word can be: the value of a flag, a command's
// positional argument.
type argKind int

const (
	argNone          argKind = iota // a bool flag's value; no argument
	argAny                          // a value with nothing to offer (a number, a new name)
	argDuration                     // a duration (10m, 90s): nothing to offer either
	argFile                         // completed by the shell
	argUser                         // popd's users
	argSession                      // live sessions: ID, or NODE/ID on a fleet
	argSessionUser                  // users with a live session
	argLockUser                     // users whose maildrop is locked
	argPenaltySource                // sources with a penalty
	argShell                        // bash, zsh, fish
	argTheme                        // the dashboard's colour themes
	argMigrateFrom                  // migrate check --from
)

// compFlag is a flag, for completion.
type compFlag struct {
	name  string  // as the usage writes it: "--json", "-users"
	value argKind // argNone for a bool flag
}

// compCmd is a command, for completion: its subcommands, or its flags and
// arguments.
type compCmd struct {
	name  string
	subs  []compCmd
	flags []compFlag
	// own: the command has a flag set of its own, without -control and
	// -fleet, which the others take (env.flags).
	own  bool
	args argKind // each positional argument
	max  int     // how many positional arguments; -1 for any number
}

var (
	whereFlags = []compFlag{{"-control", argFile}, {"-fleet", argFile}}
	jsonFlag   = compFlag{"--json", argNone}
	usersFlag  = compFlag{"-users", argFile}
)

// completionTable is the command line popadm accepts, for completion: its
// global flags and commands (main.go's commands and "help"), their
// subcommands (userCommands, "penalty clear", "migrate check"), flags and
// arguments. TestCompletionTable checks it against the dispatcher.
var completionTable = compCmd{
	own: true,
	flags: append(slices.Clone(whereFlags), compFlag{"--theme", argTheme}, compFlag{"--readonly", argNone},
		compFlag{"--mouse", argNone}, compFlag{"--version", argNone},
		compFlag{"--stuck-idle", argDuration}, compFlag{"--stuck-send", argDuration}),
	subs: []compCmd{
		{name: "who", flags: []compFlag{jsonFlag}},
		{name: "kick", flags: []compFlag{{"--user", argSessionUser}, {"--from", argAny}, {"--state", argAny},
			{"--idle-over", argDuration}, {"--dry-run", argNone}}, args: argSession, max: 1},
		{name: "user", subs: []compCmd{
			{name: "list", flags: []compFlag{jsonFlag, usersFlag}},
			{name: "add", flags: []compFlag{{"--password-stdin", argNone}, usersFlag}, args: argAny, max: 1},
			{name: "passwd", flags: []compFlag{{"--password-stdin", argNone}, usersFlag}, args: argUser, max: 1},
			{name: "del", flags: []compFlag{{"--purge-mail", argNone}, usersFlag}, args: argUser, max: 1},
			{name: "disable", flags: []compFlag{usersFlag}, args: argUser, max: 1},
			{name: "enable", flags: []compFlag{usersFlag}, args: argUser, max: 1},
		}},
		{name: "locks", flags: []compFlag{jsonFlag}},
		{name: "unlock", args: argLockUser, max: 1},
		{name: "penalties", flags: []compFlag{jsonFlag}},
		{name: "penalty", subs: []compCmd{{name: "clear", args: argPenaltySource, max: 1}}},
		{name: "events", flags: []compFlag{jsonFlag, {"--backlog", argAny}}},
		{name: "stats", flags: []compFlag{jsonFlag}},
		{name: "reload"},
		{name: "themes"},
		{name: "migrate", subs: []compCmd{{name: "check", flags: []compFlag{{"--config", argFile}, {"--users", argFile},
			{"--maildir", argAny}, {"--pop3-uidl-format", argAny}, {"--from", argMigrateFrom}, {"--all", argNone}, jsonFlag},
			args: argUser, max: -1}}},
		{name: "dial-stdio", own: true, args: argFile, max: 1},
		{name: "version"},
		{name: "completion", own: true, args: argShell, max: 1},
		{name: "help", own: true},
	},
}

// allFlags is c's flags and, unless it has its own flag set, -control and
// -fleet.
func (c *compCmd) allFlags() []compFlag {
	if c.own || len(c.subs) > 0 {
		return c.flags
	}
	return append(slices.Clone(c.flags), whereFlags...)
}

// flag finds the flag called name (without its dashes).
func (c *compCmd) flag(name string) (compFlag, bool) {
	for _, f := range c.allFlags() {
		if strings.TrimLeft(f.name, "-") == name {
			return f, true
		}
	}
	return compFlag{}, false
}

// completionCmd is "popadm completion bash|zsh|fish".
func completionCmd(e *env, args []string) error {
	fs := flag.NewFlagSet("popadm completion", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pos, err := parse(fs, args, completionUsage, 1, 1)
	if err != nil {
		return err
	}
	if !slices.Contains([]string{"bash", "zsh", "fish"}, pos[0]) {
		return &usageError{msg: fmt.Sprintf("no completion for the shell %q: want bash, zsh or fish", human.Clean(pos[0])),
			usage: completionUsage}
	}
	script, err := completionScripts.ReadFile("completions/popadm." + pos[0])
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(script)
	return err
}

// suggestion is a word the shell may offer.
type suggestion struct{ value, desc string }

// completeCmd is "popadm __complete WORD... CURRENT" (hidden): the
// suggestions for CURRENT. It never fails.
func completeCmd(e *env, args []string) error {
	if len(args) == 0 {
		args = []string{""}
	}
	ctx, cancel := context.WithTimeout(e.ctx, completeTimeout)
	defer cancel()
	e.ctx = ctx
	cur := args[len(args)-1]
	cands, files := e.complete(args[:len(args)-1], cur)
	if files {
		fmt.Fprintln(e.stdout, fileDirective)
		return nil
	}
	for _, c := range cands {
		if !strings.HasPrefix(c.value, cur) || strings.IndexFunc(c.value, unfit) >= 0 {
			continue
		}
		if c.desc != "" {
			fmt.Fprintf(e.stdout, "%s\t%s\n", c.value, human.Clean(c.desc))
		} else {
			fmt.Fprintln(e.stdout, c.value)
		}
	}
	return nil
}

// unfit is a rune that a suggestion may not have: it would not be one word
// on the command line, or would act on the terminal.
func unfit(r rune) bool { return unicode.IsSpace(r) || human.Unsafe(r) || r == unicode.ReplacementChar }

// complete returns the suggestions for the word cur after the words
// before it, or files when cur is a file name. The -control and -fleet in
// before choose the popd it asks for live values.
func (e *env) complete(before []string, cur string) (cands []suggestion, files bool) {
	where := flag.NewFlagSet("", flag.ContinueOnError) // sets e.control, e.fleetPath
	e.where(where)
	cmd := &completionTable
	var (
		value   *compFlag // the flag whose value is next
		npos    int       // positional arguments of cmd so far
		dashes2 bool      // after "--": no more flags
	)
	for _, w := range before {
		switch {
		case value != nil:
			where.Set(strings.TrimLeft(value.name, "-"), w) // an error: not -control or -fleet
			value = nil
		case w == "--" && !dashes2 && cmd != &completionTable:
			dashes2 = true
		case strings.HasPrefix(w, "-") && len(w) > 1 && !dashes2:
			name, v, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			f, ok := cmd.flag(name)
			switch {
			case ok && hasValue:
				where.Set(name, v)
			case ok && f.value != argNone:
				value = &f
			}
		case len(cmd.subs) > 0:
			i := slices.IndexFunc(cmd.subs, func(c compCmd) bool { return c.name == w })
			if i < 0 {
				return nil, false // not a command: nothing to offer
			}
			cmd, npos = &cmd.subs[i], 0
		default:
			npos++
		}
	}

	switch {
	case value != nil:
		return e.values(value.value, "")
	case strings.HasPrefix(cur, "-") && !dashes2 && strings.Contains(cur, "="):
		name, _, _ := strings.Cut(cur, "=")
		f, ok := cmd.flag(strings.TrimLeft(name, "-"))
		if !ok || f.value == argNone {
			return nil, false
		}
		return e.values(f.value, name+"=")
	case strings.HasPrefix(cur, "-") && !dashes2:
		for _, f := range cmd.allFlags() {
			// As the usage writes it, else with the dashes typed
			// (the flag package takes either).
			name := f.name
			if !strings.HasPrefix(name, cur) {
				name = "-" + strings.TrimLeft(f.name, "-")
				if strings.HasPrefix(cur, "--") {
					name = "-" + name
				}
			}
			cands = append(cands, suggestion{value: name})
		}
		return cands, false
	case len(cmd.subs) > 0:
		for _, c := range cmd.subs {
			cands = append(cands, suggestion{value: c.name})
		}
		return cands, false
	case cmd.args != argNone && (cmd.max < 0 || npos < cmd.max):
		return e.values(cmd.args, "")
	}
	return nil, false
}

// values returns the suggestions of kind k, each value after prefix (the
// "--flag=" typed), or files for a file name.
func (e *env) values(k argKind, prefix string) (cands []suggestion, files bool) {
	words := func(ws ...string) []suggestion {
		for _, w := range ws {
			cands = append(cands, suggestion{value: prefix + w})
		}
		return cands
	}
	switch k {
	case argFile:
		return nil, true
	case argShell:
		return words("bash", "fish", "zsh"), false
	case argMigrateFrom:
		return words(maildir.FromDovecot, maildir.FromCourier, maildir.FromQmail), false
	case argTheme:
		names, _ := themes.List() // the built-in ones even on an error
		return words(names...), false
	case argUser:
		return e.live(prefix, false, ask((*control.Client).Users,
			func(u control.User) suggestion { return suggestion{value: u.Name} })), false
	case argSession:
		return e.live(prefix, true, ask((*control.Client).Sessions, func(s control.Session) suggestion {
			if s.User == "" {
				return suggestion{s.ID, s.Remote}
			}
			return suggestion{s.ID, s.User + "@" + s.Remote}
		})), false
	case argSessionUser:
		return e.live(prefix, false, ask((*control.Client).Sessions,
			func(s control.Session) suggestion { return suggestion{value: s.User} })), false
	case argLockUser:
		return e.live(prefix, false, ask((*control.Client).Locks,
			func(l control.Lock) suggestion { return suggestion{value: l.User} })), false
	case argPenaltySource:
		return e.live(prefix, false, ask((*control.Client).Penalties,
			func(p control.Penalty) suggestion { return suggestion{value: p.Source} })), false
	}
	return nil, false
}

// ask is a call of list, each of whose values f makes a suggestion.
func ask[T any](list func(*control.Client, context.Context) ([]T, error), f func(T) suggestion) func(context.Context, *control.Client) ([]suggestion, error) {
	return func(ctx context.Context, c *control.Client) ([]suggestion, error) {
		vs, err := list(c, ctx)
		out := make([]suggestion, 0, len(vs))
		for _, v := range vs {
			out = append(out, f(v))
		}
		return out, err
	}
}

// live asks popd, or every node of the fleet, for suggestions, each value
// after prefix and once; perNode: the values are the node's own (session
// IDs), "NODE/value" on a fleet. What does not answer by the end of e.ctx
// (completeTimeout) adds nothing; get's goroutine is not waited for past
// it.
func (e *env) live(prefix string, perNode bool, get func(context.Context, *control.Client) ([]suggestion, error)) []suggestion {
	f, err := e.theFleet()
	if err != nil {
		return nil
	}
	done := make(chan []suggestion, 1)
	go func() { done <- e.fetch(f, perNode, get) }()
	var cs []suggestion
	select {
	case cs = <-done:
	case <-e.ctx.Done():
	}
	seen := map[string]bool{}
	var out []suggestion
	for _, c := range cs {
		if c.value != "" && !seen[c.value] {
			seen[c.value] = true
			out = append(out, suggestion{prefix + c.value, c.desc})
		}
	}
	return out
}

// fetch is live's call to popd or the fleet f; errors give no suggestions.
func (e *env) fetch(f *fleet.Fleet, perNode bool, get func(context.Context, *control.Client) ([]suggestion, error)) []suggestion {
	if f == nil {
		c, err := control.Dial(e.ctx, e.control)
		if err != nil {
			return nil
		}
		defer c.Close()
		cs, _ := get(e.ctx, c)
		return cs
	}
	var cs []suggestion
	for _, a := range onEach(e, f, get) {
		for _, c := range a.v {
			if perNode {
				c.value = a.node.Name + "/" + c.value
			}
			cs = append(cs, c)
		}
	}
	return cs
}

// completionScripts are the scripts "popadm completion SHELL" prints
// (completions/popadm.SHELL). Each passes the words to "popadm
// __complete" and offers what it prints.
//
//go:embed completions
var completionScripts embed.FS
