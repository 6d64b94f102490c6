//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ttyPrompt writes prompt on /dev/tty and reads one line there with echo
// off. The terminal's settings are restored before it returns, also when
// ctx ends (Ctrl-C) while it waits.
func ttyPrompt(ctx context.Context, prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errors.New("no terminal to ask for the password on; use --password-stdin")
	}
	defer tty.Close()
	// Through SyscallConn, not Fd: the file stays non-blocking, so that
	// Close can interrupt the read.
	rc, err := tty.SyscallConn()
	if err != nil {
		return "", err
	}
	var old *unix.Termios
	var terr error
	rc.Control(func(fd uintptr) {
		old, terr = unix.IoctlGetTermios(int(fd), ioctlGetTermios)
		if terr != nil {
			return
		}
		noEcho := *old
		noEcho.Lflag &^= unix.ECHO
		noEcho.Lflag |= unix.ICANON | unix.ISIG
		terr = unix.IoctlSetTermios(int(fd), ioctlSetTermios, &noEcho)
	})
	if terr != nil {
		return "", fmt.Errorf("turning off the terminal's echo: %w", terr)
	}
	defer rc.Control(func(fd uintptr) { unix.IoctlSetTermios(int(fd), ioctlSetTermios, old) })

	fmt.Fprint(tty, prompt)
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(tty).ReadString('\n')
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		fmt.Fprint(tty, "\n") // the user's Enter was not echoed
		if r.err != nil && !(errors.Is(r.err, io.EOF) && r.line != "") {
			return "", fmt.Errorf("reading the password: %w", r.err)
		}
		return strings.TrimRight(r.line, "\r\n"), nil
	case <-ctx.Done():
		fmt.Fprint(tty, "\n")
		return "", ctx.Err()
	}
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlGetTermios)
	return err == nil
}
