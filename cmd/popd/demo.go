package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"popd/internal/demo"
)

// demoHint tells how to try the demo popd at addr: curl, and the exact
// popadm command for its control socket, which works from any directory.
func demoHint(w io.Writer, addr net.Addr, dir, control string) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	fmt.Fprintf(w, "\npopd demo is running. Try:\n"+
		"  curl pop3://%s:%s@%s/       (list the messages)\n"+
		"  curl pop3://%s:%s@%s/1      (read the first one)\n"+
		"  %s -control %s   (the console)\n"+
		"Demo files: %s   Stop with Ctrl-C.\n\n",
		demo.User, demo.Password, addr, demo.User, demo.Password, addr,
		popadmCommand(), shellQuote(control), dir)
}

// popadmCommand is how to run popadm from anywhere: the popadm beside
// this popd (both built or installed together); else, when popd runs in
// the source tree (go run ./cmd/popd), that tree's; else the one on
// $PATH; else its name.
func popadmCommand() string {
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), "popadm"); isExecutable(p) {
			return shellQuote(p)
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if _, err := os.Stat(filepath.Join(wd, "cmd", "popadm", "main.go")); err == nil {
			return "cd " + shellQuote(wd) + " && go run ./cmd/popadm"
		}
	}
	if p, err := exec.LookPath("popadm"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return shellQuote(abs)
		}
	}
	return "popadm"
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
