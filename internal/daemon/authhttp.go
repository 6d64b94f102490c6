package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"popd/internal/fleet"
	"popd/internal/server"
)

// authHTTPGrace is how long a stopping popd lets nginx's requests in
// progress finish: a password check, and the short wait of a failure.
const authHTTPGrace = 5 * time.Second

// serveAuthHTTP answers nginx's auth_http on l (server.AuthHTTP) with the
// nodes of f that the health checker finds up: all of them are checked
// once before the first request is served, so that its answer rests on a
// real check, and then every 2 s until ctx is done. A failure of the
// listener ends the daemon (on serveErr), as one of a POP3 listener does.
func (d *daemon) serveAuthHTTP(ctx context.Context, g *group, l net.Listener, f *fleet.Fleet, key []byte, serveErr chan<- error) {
	checker := fleet.NewChecker(f, d.log)
	checker.Check(ctx)
	up := 0
	for i := range f.Nodes {
		if checker.Up(&f.Nodes[i]) {
			up++
		}
	}
	g.run(d.log, "fleet health checker", func() error { return checker.Run(ctx) })
	hs := server.NewAuthHTTPServer(d.srv.AuthHTTP(f, checker.Up, key), d.log)
	d.log.Info("auth_http listening", "addr", l.Addr().String(), "nodes", len(f.Nodes), "up", up)
	if a, ok := l.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
		// nginx speaks plain HTTP to auth_http.
		d.log.Warn("auth_http: passwords reach this endpoint in clear HTTP; keep it on loopback or a private network")
		if key == nil {
			d.log.Warn("auth_http: no auth-http-key: whoever reaches this endpoint can try passwords")
		}
	}
	g.add(func() {
		if err := hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- fmt.Errorf("serving auth_http on %s: %w", l.Addr(), err)
		}
	})
	g.add(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), authHTTPGrace)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			d.log.Warn("auth_http requests still running after the grace period; closing them", "err", err)
			hs.Close()
		}
	})
}
