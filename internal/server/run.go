package server

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
	"syscall"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/userdb"
)

// Run is the whole daemon: it validates cfg, opens the users file and
// follows its changes, binds the listeners, drops privileges, and serves
// until ctx is done. SIGHUP reloads the configuration, the users file and
// the certificate. ready, if not nil, is
// called with the listening addresses once connections are accepted.
//
// source, if not nil, reads the configuration again for a reload (SIGHUP
// or popadm reload).
func Run(ctx context.Context, cfg config.Config, source func() (config.Config, error), log *slog.Logger, ready func(plain, tls net.Addr)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	users, err := userdb.Open(cfg.Users, log)
	if err != nil {
		return err
	}
	srv, err := New(cfg, users, log)
	if err != nil {
		return err
	}
	srv.SetConfigSource(source)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	// Everything that may need root is bound before privileges go.
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	closers = append(closers, ln)
	var tlsLn net.Listener
	if cfg.ListenTLS != "" {
		if tlsLn, err = net.Listen("tcp", cfg.ListenTLS); err != nil {
			closeAll()
			return fmt.Errorf("server: %w", err)
		}
		closers = append(closers, tlsLn)
	}
	var metricsLn net.Listener
	if cfg.Metrics != "" {
		if metricsLn, err = net.Listen("tcp", cfg.Metrics); err != nil {
			closeAll()
			return fmt.Errorf("server: metrics: %w", err)
		}
		closers = append(closers, metricsLn)
	}
	ccfg := control.ServerConfig{Path: cfg.ControlPath(), AdminGroup: cfg.AdminGroup,
		MonitorGroup: cfg.MonitorGroup, Version: Version, Logger: log}
	controlLn, err := control.Listen(ccfg)
	if err != nil {
		// POP3 matters more than the console: serve, but say it loudly.
		log.Error("no control socket; popadm cannot connect", "path", ccfg.Path, "err", err)
	} else {
		closers = append(closers, controlLn)
	}
	if err := dropPrivileges(cfg, log); err != nil {
		closeAll()
		return err
	}
	defer closeAll()
	if controlLn != nil {
		cs := control.NewServer(ccfg, srv)
		srv.SetPublisher(cs)
		log.Info("control socket", "path", ccfg.Path)
		go cs.Serve(ctx, controlLn)
	}
	if metricsLn != nil {
		hs := &http.Server{Handler: control.MetricsHandler(srv), ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(metricsLn)
		context.AfterFunc(ctx, func() { hs.Close() })
		log.Info("metrics", "addr", metricsLn.Addr().String())
	}
	go srv.WatchDeliveries(ctx)
	ln = srv.wrapProxy(ln)
	if !cfg.RequireTLS() {
		log.Warn("passwords may cross unencrypted connections (no certificate, or plaintext-auth = always)")
	}

	go func() {
		if err := users.Watch(ctx); err != nil && ctx.Err() == nil {
			log.Error("watching users file; changes need a restart", "file", cfg.Users, "err", err)
		}
	}()
	if srv.certs != nil {
		go srv.certs.Watch(ctx)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := srv.Reload("SIGHUP"); err != nil {
					log.Error("reload on SIGHUP", "err", err)
				}
			}
		}
	}()

	errc := make(chan error, 2)
	log.Info("listening", "addr", ln.Addr().String())
	go func() { errc <- srv.Serve(ctx, ln) }()
	var tlsAddr net.Addr
	if tlsLn != nil {
		tlsLn = srv.wrapProxy(tlsLn)
		tlsAddr = tlsLn.Addr()
		log.Info("listening (implicit TLS)", "addr", tlsAddr.String())
		go func() { errc <- srv.ServeTLS(ctx, tlsLn) }()
	} else {
		errc <- nil
	}
	if ready != nil {
		ready(ln.Addr(), tlsAddr)
	}
	return errors.Join(<-errc, <-errc)
}
