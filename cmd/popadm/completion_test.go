package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
)

// completionDaemon starts a control server with users, sessions (one not
// logged in yet), a lock and penalties (one an IPv6 address, whose colons
// bash breaks words at).
func completionDaemon(t *testing.T) string {
	t.Helper()
	d, path := start(t)
	for _, n := range []string{"alice", "bob", "carol@example.org"} {
		d.PutUser(control.User{Name: n}, "secret")
	}
	d.AddSession(control.Session{ID: "7", User: "alice", Remote: "192.0.2.1:50123", Since: time.Now()})
	d.AddSession(control.Session{ID: "8", Remote: "[2001:db8::1]:40000", Since: time.Now()})
	d.AddSession(control.Session{ID: "12", User: "carol@example.org", Remote: "198.51.100.9:1100", Since: time.Now()})
	d.AddLock(control.Lock{User: "bob", Since: time.Now()})
	d.AddPenalty(control.Penalty{Source: "2001:db8::1", Failures: 3})
	d.AddPenalty(control.Penalty{Source: "198.51.100.9", Failures: 5})
	return path
}

// complete runs "popadm __complete WORDS..." in-process, checks that it
// exits 0 and says nothing on standard error, and returns its lines.
func complete(t *testing.T, words ...string) []string {
	t.Helper()
	r := run(t, append([]string{"__complete"}, words...)...)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("__complete %q: exit %d, stderr %q", words, r.code, r.stderr)
	}
	return strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
}

// TestComplete checks what "popadm __complete" offers for each kind of
// word, live values from a control server named by -control or
// $POPD_CONTROL.
func TestComplete(t *testing.T) {
	path := completionDaemon(t)
	t.Setenv("POPD_CONTROL", path)
	t.Setenv("POPADM_FLEET", "")
	sessions := []string{"7\talice@192.0.2.1:50123", "8\t[2001:db8::1]:40000", "12\tcarol@example.org@198.51.100.9:1100"}
	for _, tt := range []struct {
		words []string
		want  []string
	}{
		{[]string{""}, []string{"who", "kick", "user", "locks", "unlock", "penalties", "penalty", "events", "stats",
			"reload", "themes", "migrate", "dial-stdio", "version", "completion", "help"}},
		{[]string{"u"}, []string{"user", "unlock"}},
		{[]string{"-control", "/x", "st"}, []string{"stats"}},
		{[]string{"user", ""}, []string{"list", "add", "passwd", "del", "disable", "enable"}},
		{[]string{"user", "d"}, []string{"del", "disable"}},
		{[]string{"penalty", ""}, []string{"clear"}},
		{[]string{"migrate", ""}, []string{"check"}},
		{[]string{"-"}, []string{"-control", "-fleet", "--theme", "--readonly", "--mouse", "--version", "--stuck-idle", "--stuck-send"}},
		{[]string{"--"}, []string{"--control", "--fleet", "--theme", "--readonly", "--mouse", "--version", "--stuck-idle", "--stuck-send"}},
		{[]string{"who", "-"}, []string{"--json", "-control", "-fleet"}},
		{[]string{"who", "-j"}, []string{"-json"}},
		{[]string{"user", "del", "--p"}, []string{"--purge-mail"}},
		{[]string{"dial-stdio", "-"}, []string{""}},
		{[]string{"--theme", "d"}, []string{"dark", "default"}},
		{[]string{"--theme=d"}, []string{"--theme=dark", "--theme=default"}},
		{[]string{"migrate", "check", "--from", ""}, []string{"dovecot", "courier", "qmail"}},
		{[]string{"completion", ""}, []string{"bash", "fish", "zsh"}},
		{[]string{"completion", "zsh", ""}, []string{""}},
		// File names are the shell's to complete.
		{[]string{"-control", ""}, []string{fileDirective}},
		{[]string{"-control=/tmp"}, []string{fileDirective}},
		{[]string{"user", "add", "-users", ""}, []string{fileDirective}},
		{[]string{"dial-stdio", ""}, []string{fileDirective}},
		// Live values: sessions with their user and remote address.
		{[]string{"kick", ""}, sessions},
		{[]string{"kick", "1"}, sessions[2:]},
		{[]string{"kick", "7", ""}, []string{""}},
		{[]string{"kick", "--user", ""}, []string{"alice", "carol@example.org"}},
		{[]string{"kick", "--user=c"}, []string{"--user=carol@example.org"}},
		{[]string{"user", "del", ""}, []string{"alice", "bob", "carol@example.org"}},
		{[]string{"user", "disable", "--purge-mail", "b"}, []string{"bob"}},
		{[]string{"user", "add", ""}, []string{""}}, // a new name
		{[]string{"unlock", ""}, []string{"bob"}},
		{[]string{"penalty", "clear", ""}, []string{"2001:db8::1", "198.51.100.9"}},
		{[]string{"penalty", "clear", "2001:"}, []string{"2001:db8::1"}},
		{[]string{"migrate", "check", "alice", "b"}, []string{"bob"}},
		// Not a command: nothing.
		{[]string{"frobnicate", ""}, []string{""}},
	} {
		if got := complete(t, tt.words...); !slices.Equal(got, tt.want) {
			t.Errorf("__complete %q:\n got %q\nwant %q", tt.words, got, tt.want)
		}
	}

	// -control, before the command or after it, wins over $POPD_CONTROL.
	t.Setenv("POPD_CONTROL", filepath.Join(t.TempDir(), "none.sock"))
	if got := complete(t, "kick", ""); !slices.Equal(got, []string{""}) {
		t.Errorf("popd gone: %q", got)
	}
	for _, words := range [][]string{{"-control", path, "unlock", ""}, {"unlock", "--control=" + path, ""}} {
		if got := complete(t, words...); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("__complete %q: %q", words, got)
		}
	}
}

// TestCompleteFleet: on a fleet, session IDs are NODE/ID, and the nodes
// that answer are enough.
func TestCompleteFleet(t *testing.T) {
	d1, path1 := start(t)
	d2, path2 := start(t)
	d1.AddSession(control.Session{ID: "7", User: "alice", Remote: "192.0.2.1:1", Since: time.Now()})
	d2.AddSession(control.Session{ID: "7", User: "bob", Remote: "192.0.2.2:2", Since: time.Now()})
	d2.AddLock(control.Lock{User: "bob"})
	file := filepath.Join(t.TempDir(), "fleet.toml")
	var toml strings.Builder
	for _, n := range [][2]string{{"pop1", path1}, {"pop2", path2}, {"pop3", filepath.Join(t.TempDir(), "gone.sock")}} {
		fmt.Fprintf(&toml, "[[node]]\nname = %q\npop3 = \"127.0.0.1:1\"\ncontrol = %q\n\n", n[0], n[1])
	}
	if err := os.WriteFile(file, []byte(toml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{"pop1/7\talice@192.0.2.1:1", "pop2/7\tbob@192.0.2.2:2"}
	if got := complete(t, "-fleet", file, "kick", ""); !slices.Equal(got, want) {
		t.Errorf("kick on the fleet: %q, want %q", got, want)
	}
	t.Setenv("POPADM_FLEET", file)
	if got := complete(t, "unlock", ""); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("unlock on $POPADM_FLEET: %q", got)
	}
}

// muteSocket returns the path of a Unix socket that takes connections and
// never says a word, as a popd that hangs.
func muteSocket(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "popd-ctl-") // socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "mute.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return path
}

// TestCompleteUnreachable: with no popd, or one that does not answer,
// __complete offers the rest, says nothing, exits 0, and is quick.
func TestCompleteUnreachable(t *testing.T) {
	t.Setenv("POPADM_FLEET", "")
	for _, sock := range []string{filepath.Join(t.TempDir(), "none.sock"), muteSocket(t)} {
		t.Setenv("POPD_CONTROL", sock)
		start := time.Now()
		if got := complete(t, "kick", ""); !slices.Equal(got, []string{""}) {
			t.Errorf("%s: kick: %q", sock, got)
		}
		if d := time.Since(start); d > 2*completeTimeout {
			t.Errorf("%s: took %v", sock, d)
		}
		if got := complete(t, "user", "l"); !slices.Equal(got, []string{"list"}) {
			t.Errorf("%s: user l: %q", sock, got)
		}
	}
}

// TestCompletionShells: "completion SHELL" prints a script for bash, zsh
// and fish, and refuses another shell.
func TestCompletionShells(t *testing.T) {
	for sh, want := range map[string]string{"bash": "complete -F _popadm popadm", "zsh": "compdef _popadm popadm",
		"fish": "complete -c popadm"} {
		run(t, "completion", sh).want(t, 0, regexp.QuoteMeta(want))
	}
	r := run(t, "completion", "tcsh")
	r.want(t, 2, "^$")
	if !strings.Contains(r.stderr, `no completion for the shell "tcsh": want bash, zsh or fish`) {
		t.Errorf("stderr %q", r.stderr)
	}
	run(t, "completion").want(t, 2, "^$")
}

// flagToken is a flag in a usage line.
var flagToken = regexp.MustCompile(`(?:^|[\s\[|])(--?[a-z][a-z0-9-]*)`)

// TestCompletionTable checks completionTable against the dispatcher: the
// same commands and user commands, every subcommand and flag of the table
// accepted (with a value when the table says it takes one), and every
// flag a command's usage names in the table.
func TestCompletionTable(t *testing.T) {
	t.Setenv("POPD_CONTROL", filepath.Join(t.TempDir(), "none.sock"))
	t.Setenv("POPADM_FLEET", "")
	var names []string
	for _, c := range completionTable.subs {
		names = append(names, c.name)
	}
	var dispatched []string
	for n := range commands {
		if !strings.HasPrefix(n, "__") { // hidden
			dispatched = append(dispatched, n)
		}
	}
	dispatched = append(dispatched, "help") // run's own
	slices.Sort(names)
	slices.Sort(dispatched)
	if !slices.Equal(names, dispatched) {
		t.Errorf("completion's commands %q, the dispatcher's %q", names, dispatched)
	}
	user := completionTable.subs[slices.IndexFunc(completionTable.subs, func(c compCmd) bool { return c.name == "user" })]
	var userNames, userDispatched []string
	for _, c := range user.subs {
		userNames = append(userNames, c.name)
	}
	for n := range userCommands {
		userDispatched = append(userDispatched, n)
	}
	slices.Sort(userNames)
	slices.Sort(userDispatched)
	if !slices.Equal(userNames, userDispatched) {
		t.Errorf("completion's user commands %q, the dispatcher's %q", userNames, userDispatched)
	}

	var check func(path []string, c *compCmd)
	check = func(path []string, c *compCmd) {
		if len(c.subs) == 0 || len(path) == 0 { // a command, or popadm's own flags
			checkFlags(t, path, c)
		}
		if len(c.subs) == 0 {
			return
		}
		if r := run(t, append(path, "nosuchcommand", "-h")...); r.code != 2 {
			t.Errorf("%q takes any subcommand (exit %d)", path, r.code)
		}
		for i := range c.subs {
			check(append(slices.Clone(path), c.subs[i].name), &c.subs[i])
		}
	}
	check(nil, &completionTable)
}

// checkFlags checks that the command path takes -h, each of c's flags,
// with a value when c says it takes one, and that every flag its usage
// names is one of c's.
func checkFlags(t *testing.T, path []string, c *compCmd) {
	t.Helper()
	help := run(t, append(path, "-h")...)
	if help.code != 0 {
		t.Errorf("%q -h: exit %d, stderr %q", path, help.code, help.stderr)
	}
	for _, f := range c.allFlags() {
		arg := f.name
		switch f.value {
		case argNone:
		case argDuration:
			arg += "=1m"
		default:
			arg += "=1" // a number, a path, a name
		}
		if r := run(t, append(path, arg, "-h")...); r.code != 0 {
			t.Errorf("%q does not take %s: exit %d, stderr %q", path, arg, r.code, r.stderr)
		}
	}
	syntax, _, _ := strings.Cut(help.stdout, "\n")
	switch help.stdout {
	case usage:
		if len(path) > 0 { // "help": popadm's usage, whose flags are not its own
			return
		}
		syntax = strings.Join(strings.SplitN(usage, "\n", 4)[:3], "\n") // popadm's usage lines
	}
	for _, m := range flagToken.FindAllStringSubmatch(syntax, -1) {
		if _, ok := c.flag(strings.TrimLeft(m[1], "-")); !ok {
			t.Errorf("%q: %s, in its usage %q, is not in completionTable", path, m[1], syntax)
		}
	}
}

// shells is the real popadm on $PATH for the shells, and its completion
// scripts in files.
type shells struct {
	t       *testing.T
	path    string // $PATH with popadm first
	scripts map[string]string
}

func newShells(t *testing.T) *shells {
	t.Helper()
	bin := buildPopadm(t)
	s := &shells{t: t, path: bin + string(os.PathListSeparator) + os.Getenv("PATH"), scripts: map[string]string{}}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := run(t, "completion", sh)
		s.scripts[sh] = filepath.Join(bin, "popadm."+sh)
		if err := os.WriteFile(s.scripts[sh], []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// shell returns the path of the shell sh, skipping the test without it.
func shell(t *testing.T, sh string) string {
	t.Helper()
	p, err := exec.LookPath(sh)
	if err != nil {
		t.Skipf("%s is not installed", sh)
	}
	return p
}

// bash completes line, with the cursor at its end, as bash does at a Tab:
// the script loaded, COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set,
// the function that "complete -p popadm" names called. It returns
// COMPREPLY, sorted, and fails on anything said on standard error.
func (s *shells) bash(control, line string) []string {
	s.t.Helper()
	const prog = `source "$1" || exit
spec=$(complete -p popadm) || exit
COMP_LINE=$2 COMP_POINT=${#2}
read -ra COMP_WORDS <<<"$2"
[[ $2 == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
fn=${spec#*-F } fn=${fn%% *}
"$fn" popadm "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command(shell(s.t, "bash"), "--norc", "--noprofile", "-c", prog, "bash", s.scripts["bash"], line)
	cmd.Env = append(os.Environ(), "PATH="+s.path, "POPD_CONTROL="+control, "POPADM_FLEET=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		s.t.Errorf("bash completing %q: %v, stderr %q", line, err, stderr.String())
	}
	reply := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	slices.Sort(reply)
	return reply
}

// TestCompletionBash drives bash's completion of popadm with no popd, or
// one that does not answer (the commands still complete, quickly, without
// a word on standard error), and with one (its sessions, users, locks and
// penalties).
func TestCompletionBash(t *testing.T) {
	shell(t, "bash")
	s := newShells(t)
	none, mute := filepath.Join(t.TempDir(), "none.sock"), muteSocket(t)
	live := completionDaemon(t)
	for _, tt := range []struct {
		control, line string
		want          []string
	}{
		{none, "popadm ", []string{"completion", "dial-stdio", "events", "help", "kick", "locks", "migrate", "penalties",
			"penalty", "reload", "stats", "themes", "unlock", "user", "version", "who"}},
		{none, "popadm us", []string{"user"}},
		{none, "popadm user ", []string{"add", "del", "disable", "enable", "list", "passwd"}},
		{none, "popadm who --j", []string{"--json"}},
		{none, "popadm kick ", []string{""}},
		{none, "popadm user del ", []string{""}},
		{mute, "popadm kick ", []string{""}},
		{mute, "popadm st", []string{"stats"}},
		{none, "popadm -control " + live + " kick ", []string{"12", "7", "8"}},
		{live, "popadm kick ", []string{"12", "7", "8"}}, // ids only: bash shows no descriptions
		{live, "popadm user passwd ", []string{"alice", "bob", "carol@example.org"}},
		// Readline replaces what follows the last ":" or "=", and from the last "@".
		{live, "popadm user passwd carol@ex", []string{"@example.org"}}, // bash keeps "@" in the word
		{live, "popadm unlock ", []string{"bob"}},
		{live, "popadm kick --user=a", []string{"alice"}},
		{live, "popadm penalty clear ", []string{"198.51.100.9", "2001:db8::1"}},
		{live, "popadm penalty clear 2001:db8:", []string{":1"}},
	} {
		start := time.Now()
		if got := s.bash(tt.control, tt.line); !slices.Equal(got, tt.want) {
			t.Errorf("%q (POPD_CONTROL %s):\n got %q\nwant %q", tt.line, tt.control, got, tt.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%q took %v", tt.line, d)
		}
	}
	// File names, after -control and -control=.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "control.sock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"popadm -control " + dir + "/con", "popadm who -control=" + dir + "/con"} {
		if got := s.bash(none, line); !slices.Equal(got, []string{dir + "/control.sock"}) {
			t.Errorf("%q: %q", line, got)
		}
	}
}

// interactive starts the shell argv in a tmux pane with popadm's
// completion for it loaded by the command line load, and returns a
// function that types line, Tab and "X" (which shows the space after a
// word completed), waits until the pane shows want (a regular
// expression), and empties the line.
func (s *shells) interactive(control string, argv []string, load string) func(line, want string) {
	s.t.Helper()
	argv = append([]string{"env", "PATH=" + s.path, "POPD_CONTROL=" + control, "POPADM_FLEET=", "PS1=$ ", "PROMPT=$ "}, argv...)
	p := startPane(s.t, "", 120, 30, argv...)
	p.keys(load, "Enter")
	p.keys("echo load''ed", "Enter")
	p.waitText("the completion to load", "loaded")
	return func(line, want string) {
		s.t.Helper()
		p.keys("clear", "Enter")
		p.waitFor("a clear screen", func(sc string) bool { return strings.TrimSpace(sc) == "$" })
		p.keys(line, "Tab", "X")
		re := regexp.MustCompile(want)
		p.waitFor(fmt.Sprintf("%q Tab to show %s", line, want), re.MatchString)
		p.keys("C-u") // not C-c: a signal can overtake the keys before it
	}
}

// TestCompletionBashInteractive types Tab in a real bash, where readline
// puts the completion in the line: after the ":" of an IPv6 address, the
// "@" of a user name, the "=" of a flag.
func TestCompletionBashInteractive(t *testing.T) {
	bash := shell(t, "bash")
	s := newShells(t)
	tab := s.interactive(completionDaemon(t), []string{bash, "--norc", "--noprofile"}, "source "+s.scripts["bash"])
	tab("popadm penalty clear 2001:", `\$ popadm penalty clear 2001:db8::1 X`)
	tab("popadm user del carol@", `\$ popadm user del carol@example.org X`)
	tab("popadm kick --user=c", `\$ popadm kick --user=carol@example.org X`)
	tab("popadm user dis", `\$ popadm user disable X`)
}

// TestCompletionFish checks the fish script's syntax and has fish
// complete (complete -C, what a Tab runs): session IDs with their
// descriptions, and nothing from a popd that is not there.
func TestCompletionFish(t *testing.T) {
	fish := shell(t, "fish")
	s := newShells(t)
	if out, err := exec.Command(fish, "--no-execute", s.scripts["fish"]).CombinedOutput(); err != nil {
		t.Fatalf("fish --no-execute: %v\n%s", err, out)
	}
	complete := func(control, line string) []string {
		t.Helper()
		cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; and complete -C $argv[2]`, s.scripts["fish"], line)
		cmd.Env = append(os.Environ(), "PATH="+s.path, "POPD_CONTROL="+control, "POPADM_FLEET=")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Errorf("fish completing %q: %v, stderr %q", line, err, stderr.String())
		}
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		slices.Sort(lines)
		return lines
	}
	live, none := completionDaemon(t), filepath.Join(t.TempDir(), "none.sock")
	for _, tt := range []struct {
		control, line string
		want          []string
	}{
		{none, "popadm user d", []string{"del", "disable"}},
		{none, "popadm kick ", []string{""}},
		{live, "popadm kick ", []string{"12\tcarol@example.org@198.51.100.9:1100", "7\talice@192.0.2.1:50123",
			"8\t[2001:db8::1]:40000"}},
		{live, "popadm -control " + live + " penalty clear 2001", []string{"2001:db8::1"}},
		{live, "popadm user passwd carol@", []string{"carol@example.org"}},
		{none, "popadm dial-stdio " + filepath.Dir(live) + "/con", []string{filepath.Dir(live) + "/control.sock"}},
		{none, "popadm -control=" + filepath.Dir(live) + "/con", []string{"-control=" + filepath.Dir(live) + "/control.sock"}},
	} {
		if got := complete(tt.control, tt.line); !slices.Equal(got, tt.want) {
			t.Errorf("%q (POPD_CONTROL %s):\n got %q\nwant %q", tt.line, tt.control, got, tt.want)
		}
	}
}

// TestCompletionZsh checks the zsh script's syntax and, in a real zsh
// with compinit, that a Tab lists session IDs with their descriptions and
// completes the rest.
func TestCompletionZsh(t *testing.T) {
	zsh := shell(t, "zsh")
	s := newShells(t)
	if out, err := exec.Command(zsh, "-n", s.scripts["zsh"]).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	live := completionDaemon(t)
	tab := s.interactive(live, []string{zsh, "-f"}, "autoload -U compinit; compinit -u; source "+s.scripts["zsh"])
	tab("popadm kick ", `(?s)12 +-- carol@example\.org@198\.51\.100\.9:1100.*7 +-- alice@192\.0\.2\.1:50123.*8 +-- \[2001:db8::1\]:40000`)
	tab("popadm user dis", `\$ popadm user disable X`)
	tab("popadm kick --user=c", `\$ popadm kick --user=carol@example.org X`)
	tab("popadm penalty clear 2001", `\$ popadm penalty clear 2001:db8::1 X`)
	tab("popadm -control="+filepath.Dir(live)+"/con", regexp.QuoteMeta("$ popadm -control="+filepath.Dir(live)+"/control.sock X"))
}
