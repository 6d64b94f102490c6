// Command popd is a POP3 server for Maildir folders.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"popd/internal/config"
	"popd/internal/daemon"
	"popd/internal/demo"
	"popd/internal/sdnotify"
	"popd/internal/version"
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
	if args.Version {
		fmt.Println(version.Get())
		return
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
	if args.Check {
		os.Exit(check(args, cfg, os.Stdout, os.Stderr))
	}
	if probs := cfg.Problems(); len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintln(os.Stderr, "popd:", args.Explain(p))
		}
		os.Exit(2)
	}
	log := newLogger(cfg, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ready func(plain, tls net.Addr)
	if args.Demo {
		ready = func(a, _ net.Addr) { demoHint(os.Stderr, a, args.DemoDir, cfg.Control) }
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
			if err := demo.Paths(a.DemoDir, &c); err != nil {
				return c, err
			}
		}
		var errs []error
		for _, p := range c.Problems() {
			errs = append(errs, errors.New(a.Explain(p)))
		}
		return c, errors.Join(errs...)
	}
	opt := daemon.Options{Logger: log, Source: source, Ready: ready}
	if n := sdnotify.FromEnv(); n.Enabled() {
		opt.Notify = func(state ...string) {
			if err := n.Send(state...); err != nil {
				log.Warn("cannot notify systemd", "err", err)
			}
		}
	}
	if err := daemon.Run(ctx, cfg, opt); err != nil {
		log.Error("popd stopped", "err", err)
		os.Exit(1)
	}
}

// check is popd -check: the problems, one line each on stderr; the notes
// and the effective configuration on stdout; 0 when nothing is wrong.
func check(args *config.Args, cfg config.Config, out, errOut io.Writer) int {
	problems, notes := daemon.Check(cfg)
	fmt.Fprintf(out, "# %s\n", version.Get())
	if args.File != "" {
		fmt.Fprintf(out, "# configuration: %s (and flags)\n", args.File)
	}
	for _, n := range notes {
		fmt.Fprintf(out, "# %s\n", n.Text())
	}
	cfg.Write(out, args.All)
	for _, p := range problems {
		fmt.Fprintln(errOut, "popd: "+args.Explain(p))
	}
	if len(problems) > 0 {
		fmt.Fprintf(errOut, "popd: -check: %d problems\n", len(problems))
		return 1
	}
	fmt.Fprintln(errOut, "popd: -check: configuration OK")
	return 0
}
