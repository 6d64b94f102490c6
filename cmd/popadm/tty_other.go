//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package main

import (
	"context"
	"errors"
	"os"
)

func ttyPrompt(context.Context, string) (string, error) {
	return "", errors.New("cannot turn off the terminal's echo here; use --password-stdin")
}

// isTerminal is unknown here: assume a terminal.
func isTerminal(*os.File) bool { return true }
