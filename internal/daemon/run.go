package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/fleet"
	"popd/internal/maildir"
	"popd/internal/server"
	"popd/internal/userdb"
)

// Options are what Run needs besides the configuration.
type Options struct {
	Logger *slog.Logger
	// Source, if set, reads the configuration again for a reload (SIGHUP
	// or popadm reload): the -config file and the command line.
	Source func() (config.Config, error)
	// Ready, if set, is called with the listening addresses (plain is nil
	// without a POP3 listener, tls without an implicit-TLS one) once
	// connections are accepted.
	Ready func(plain, tls net.Addr)
	// ReadyAuthHTTP, if set, is called with the auth_http listener's
	// address (-auth-http) before Ready.
	ReadyAuthHTTP func(net.Addr)
	// Notify, if set, is told the daemon's state in sd_notify(3)'s words:
	// READY=1 once it serves, RELOADING=1 … READY=1 around each reload,
	// STOPPING=1 when it shuts down (package sdnotify sends them).
	Notify func(state ...string)
	// Boot is this run of popd (its session ids' tag, its events' boot
	// id); the zero Boot is a new one, as it should be outside tests.
	Boot event.Boot
}

// ShutdownGrace is how long Run waits, once its context is done, for
// sessions to end after telling them the server is shutting down; then it
// closes their connections (and still waits for their goroutines).
const ShutdownGrace = 10 * time.Second

// Run is the whole daemon: it validates cfg, opens the users file, binds
// the listeners and the control socket, drops privileges, and serves until
// ctx is done. Then it stops accepting, ends every session without UPDATE,
// and returns once every goroutine it started has ended.
func Run(ctx context.Context, cfg config.Config, opt Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := opt.Logger
	users, err := userdb.Open(cfg.Users, log)
	if err != nil {
		return err
	}
	var nodes *fleet.Fleet
	var authKey []byte
	if cfg.AuthHTTP != "" {
		if nodes, err = fleet.Load(cfg.Fleet); err != nil {
			return err
		}
		if cfg.AuthHTTPKey != "" {
			if authKey, err = server.ReadAuthHTTPKey(cfg.AuthHTTPKey); err != nil {
				return err
			}
		}
	}
	// This run's session ids and event numbers: unique across restarts,
	// provided the next run starts after this one's tenth of a second.
	boot := opt.Boot
	if boot.ID == "" {
		boot = event.NewBoot()
	}
	defer boot.Settle()
	d := &daemon{log: log, users: users, started: time.Now(), source: opt.Source, notify: opt.Notify}
	if d.notify == nil {
		d.notify = func(...string) {}
	}
	d.cfg.Store(&cfg)
	d.metrics = newMetricSet(d)
	if d.srv, err = server.New(cfg, server.Options{Users: users, Logger: log, Publish: d.publish, Hooks: d.metrics.serverHooks(), Boot: boot, TrackChanges: true}); err != nil {
		return err
	}
	users.OnReload = func(n int, err error) {
		d.metrics.usersReloaded(err)
		if err != nil {
			log.Error("users file not reloaded; keeping the old table", "err", err)
			return
		}
		d.srv.UsersChanged()
		// Someone edited the file: an administrator's doing, if not whose.
		d.publish(event.Event{Type: event.UsersReloaded, Count: n, By: usersFileEdit})
	}
	// Everything that may need root is bound before privileges go.
	ls, err := bind(cfg, log)
	if err != nil {
		return err
	}
	defer ls.close()
	if err := dropPrivileges(cfg, log); err != nil {
		return err
	}
	d.last = newLastLogins(cfg.StateDir, log, func(u string) bool { _, ok := users.Lookup(u); return ok })
	d.last.load() // as popd's user: the state is its own
	if cfg.ServesPOP3() && !cfg.RequireTLS() {
		log.Warn("passwords may cross unencrypted connections (no certificate, or plaintext-auth = always)")
	}

	// Every goroutine started here is joined before Run returns.
	g := &group{}
	defer g.wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g.ctx = ctx
	controlCtx, stopControl := context.WithCancel(context.Background())
	defer stopControl()
	if ls.control != nil {
		ls.controlCfg.Boot = boot
		cs := control.NewServer(ls.controlCfg, d)
		var p control.Publisher = cs
		d.pub.Store(&p)
		log.Info("control socket", "path", ls.controlCfg.Path)
		// The control socket outlives the sessions: what they publish as
		// they end, and popd.stopped, reach the consoles (shutdown.go).
		g.run(log, "control socket", func() error { return cs.Serve(controlCtx, ls.control) })
	}
	if ls.metrics != nil {
		hs := &http.Server{Handler: d.metrics.handler(), ReadHeaderTimeout: 10 * time.Second}
		log.Info("metrics", "addr", ls.metrics.Addr().String())
		g.run(log, "metrics", func() error {
			if err := hs.Serve(ls.metrics); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.add(func() { <-ctx.Done(); hs.Close() })
	}
	if cfg.ServesPOP3() || cfg.ListenTLS != "" { // not for a popd that only answers nginx
		watcher := &maildir.Watcher{
			Maildrops: d.maildrops,
			Version:   d.maildropsVersion,
			Delivered: func(user, file string) {
				d.publish(event.Event{Type: event.Delivered, User: user, Reason: file})
			},
			Logger: log,
		}
		g.run(log, "delivery watcher", func() error { return watcher.Run(ctx) })
	}
	g.run(log, "users file watcher", func() error { return users.Watch(ctx) })
	g.run(log, "last logins writer", func() error { return d.last.run(ctx) })
	g.add(func() { d.sampleHistory(ctx) })
	g.add(func() { d.publishChanges(ctx) }) // changes.go
	g.run(log, "certificate watcher", func() error { return d.srv.WatchCertificate(ctx) })
	// Subscribed before the listeners say they listen: a SIGHUP that
	// comes earlier than the handler would kill popd (its default action),
	// and "systemctl reload" may follow a start at once.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	g.run(log, "SIGHUP", func() error { d.reloadOnHUP(ctx, hup); return nil })

	// The POP3 listeners: a failure of one ends the daemon.
	serveErr := make(chan error, 3)
	serve := func(name string, l net.Listener, f func(net.Listener) error) {
		log.Info("listening"+name, "addr", l.Addr().String())
		g.add(func() {
			if err := f(l); !errors.Is(err, server.ErrServerClosed) {
				serveErr <- fmt.Errorf("serving %s: %w", l.Addr(), err)
			}
		})
	}
	if ls.plain != nil {
		serve("", ls.plain, d.srv.Serve)
	}
	var tlsAddr net.Addr
	if ls.tls != nil {
		tlsAddr = ls.tls.Addr()
		serve(" (implicit TLS)", ls.tls, d.srv.ServeTLS)
	}
	ls.plain, ls.tls = nil, nil // the server closes them
	if ls.authHTTP != nil {
		d.serveAuthHTTP(ctx, g, ls.authHTTP, nodes, authKey, serveErr)
		if opt.ReadyAuthHTTP != nil {
			opt.ReadyAuthHTTP(ls.authHTTP.Addr())
		}
		ls.authHTTP = nil // its HTTP server closes it
	}
	if opt.Ready != nil {
		opt.Ready(ls.plainAddr, tlsAddr)
	}
	d.notify("READY=1", "STATUS="+d.status())
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	}
	d.notify("STOPPING=1", "STATUS=shutting down")
	cancel()
	// Shutdown returns once every session has ended: after the grace
	// period it closes their connections, and says so in the log.
	sctx, scancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer scancel()
	d.srv.Shutdown(sctx)
	d.stopped(runErr, stopControl)
	d.last.flush() // the logins of the last seconds, now that no session is left
	return runErr
}

// maildrops lists every user's maildrop for the delivery watcher.
func (d *daemon) maildrops() map[string]string {
	out := map[string]string{}
	for _, u := range d.users.Users() {
		if dir, err := d.maildirOf(u); err == nil {
			out[dir] = u.Name
		}
	}
	return out
}

// maildropsVersion changes when maildrops would list something else: the
// users table changed, or the maildir template did (a reload).
func (d *daemon) maildropsVersion() uint64 {
	d.dropsVer.mu.Lock()
	defer d.dropsVer.mu.Unlock()
	v := &d.dropsVer
	if gen, tmpl := d.users.Generation(), d.config().Maildir; gen != v.gen || tmpl != v.tmpl || v.n == 0 {
		v.gen, v.tmpl = gen, tmpl
		v.n++
	}
	return v.n
}

// reloadOnHUP reloads on every SIGHUP (on hup, subscribed) until ctx is
// done.
func (d *daemon) reloadOnHUP(ctx context.Context, hup chan os.Signal) {
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := d.Reload("SIGHUP"); err != nil {
				d.log.Error("reload on SIGHUP", "err", err)
			}
		}
	}
}

// listeners are the sockets bound at start, while popd may still be root.
type listeners struct {
	plain, tls, metrics net.Listener
	plainAddr           net.Addr     // nil without a POP3 listener
	authHTTP            net.Listener // -auth-http
	control             net.Listener // nil: popd serves without one
	controlCfg          control.ServerConfig
}

func bind(cfg config.Config, log *slog.Logger) (_ *listeners, err error) {
	ls := &listeners{}
	defer func() {
		if err != nil {
			ls.close() // what was bound before the failure
		}
	}()
	if cfg.ServesPOP3() {
		if ls.plain, err = net.Listen("tcp", cfg.Listen); err != nil {
			return nil, bindError("listen", cfg.Listen, err)
		}
		ls.plainAddr = ls.plain.Addr()
	}
	if cfg.ListenTLS != "" {
		if ls.tls, err = net.Listen("tcp", cfg.ListenTLS); err != nil {
			return nil, bindError("listen-tls", cfg.ListenTLS, err)
		}
	}
	if cfg.Metrics != "" {
		if ls.metrics, err = net.Listen("tcp", cfg.Metrics); err != nil {
			return nil, bindError("metrics", cfg.Metrics, err)
		}
	}
	if cfg.AuthHTTP != "" {
		if ls.authHTTP, err = net.Listen("tcp", cfg.AuthHTTP); err != nil {
			return nil, bindError("auth-http", cfg.AuthHTTP, err)
		}
	}
	path := cfg.Control
	if path == "" {
		path = control.ServerPath()
	}
	ls.controlCfg = control.ServerConfig{Path: path, AdminGroup: cfg.AdminGroup,
		MonitorGroup: cfg.MonitorGroup, Version: Version, Logger: log}
	if ls.control, err = control.Listen(ls.controlCfg); err != nil {
		// POP3 matters more than the console: serve, but say it loudly.
		log.Error("no control socket; popadm cannot connect", "path", ls.controlCfg.Path, "err", err)
		ls.control, err = nil, nil
	}
	return ls, nil
}

// bindError says why the listener of key (its flag) could not be bound;
// for an address in use, by what, when /proc tells (porthold.go).
func bindError(key, addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		switch holder := portHolder(addr); holder {
		case "":
		case "popd":
			return fmt.Errorf("popd: -%s %s: in use by a running popd (to apply a new configuration, reload it: SIGHUP or popadm reload)", key, addr)
		default:
			return fmt.Errorf("popd: -%s %s: in use by %s", key, addr, holder)
		}
	}
	return fmt.Errorf("popd: -%s: %w", key, err)
}

func (ls *listeners) close() {
	for _, l := range []io.Closer{ls.plain, ls.tls, ls.metrics, ls.authHTTP, ls.control} {
		if l != nil {
			l.Close()
		}
	}
}

// group runs goroutines and waits for them all: whoever starts a goroutine
// joins it. A goroutine's error is logged, never dropped, even one that
// comes while popd stops; ending with ctx's context.Canceled is no error.
type group struct {
	ctx context.Context
	wg  sync.WaitGroup
}

func (g *group) add(f func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
}

func (g *group) run(log *slog.Logger, name string, f func() error) {
	g.add(func() {
		switch err := f(); {
		case err == nil || errors.Is(err, context.Canceled):
		case g.ctx.Err() != nil:
			log.Error(name+" failed while popd stopped", "err", err)
		default:
			log.Error(name+" stopped; popd goes on without it", "err", err)
		}
	})
}

func (g *group) wait() { g.wg.Wait() }
