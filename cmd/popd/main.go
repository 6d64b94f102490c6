// Command popd is a POP3 server for Maildir folders.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"popd/internal/config"
	"popd/internal/daemon"
	"popd/internal/demo"
)

func main() {
	args, err := config.Parse(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg := args.Config
	if args.Demo {
		if os.Geteuid() == 0 && !args.IsSet("user") {
			cfg.AllowRoot = true // a demo on a fresh machine, often as root
		}
		if err := demo.Setup(args.DemoDir, &cfg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log := newLogger(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ready func(plain, tls net.Addr)
	if args.Demo {
		ready = func(a, _ net.Addr) {
			fmt.Fprintf(os.Stderr, "\npopd demo is running. Try:\n"+
				"  curl pop3://%s:%s@%s/       (list the messages)\n"+
				"  curl pop3://%s:%s@%s/1      (read the first one)\n"+
				"  go run ./cmd/popadm          (the console; run it from this directory)\n"+
				"Demo files: %s   Stop with Ctrl-C.\n\n",
				demo.User, demo.Password, a, demo.User, demo.Password, a, args.DemoDir)
		}
	}
	// A reload (SIGHUP, popadm reload) reads the file and the flags again.
	source := func() (config.Config, error) {
		a, err := config.Parse(os.Args[1:], io.Discard)
		if err != nil {
			return config.Config{}, err
		}
		c := a.Config
		if a.Demo {
			c.AllowRoot = cfg.AllowRoot
			err = demo.Paths(a.DemoDir, &c)
		}
		return c, err
	}
	if err := daemon.Run(ctx, cfg, daemon.Options{Logger: log, Source: source, Ready: ready}); err != nil {
		log.Error("popd stopped", "err", err)
		os.Exit(1)
	}
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
