package main

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// password gets a new password: one line from standard input with
// --password-stdin, else asked twice on the terminal without echo. An
// empty password, or two that differ, are refused.
func (e *env) password(fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(e.stdin, 64<<10)).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			if errors.Is(err, io.EOF) {
				return "", errors.New("no password on standard input")
			}
			return "", err
		}
		pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if pw == "" {
			return "", errors.New("empty password")
		}
		return pw, nil
	}
	pw, err := e.prompt(e.ctx, "Password: ")
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", errors.New("empty password")
	}
	again, err := e.prompt(e.ctx, "Retype password: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords differ")
	}
	return pw, nil
}
