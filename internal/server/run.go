package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"popd/internal/config"
	"popd/internal/userdb"
)

// Run is the whole daemon: it validates cfg, opens the users file and
// follows its changes, listens on cfg.Listen and serves until ctx is done.
// ready, if not nil, is called with the listening address once connections
// are accepted.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, ready func(net.Addr)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	users, err := userdb.Open(cfg.Users, log)
	if err != nil {
		return err
	}
	go func() {
		if err := users.Watch(ctx); err != nil && ctx.Err() == nil {
			log.Error("watching users file; changes need a restart", "file", cfg.Users, "err", err)
		}
	}()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr())
	}
	return New(cfg, users, log).Serve(ctx, ln)
}
