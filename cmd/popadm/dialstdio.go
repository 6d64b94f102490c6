package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"popd/internal/control"
)

const dialStdioUsage = "popadm dial-stdio PATH"

// dialStdio is "popadm dial-stdio PATH", what popadm runs on a node over
// ssh for an ssh:// control address (like "docker system dial-stdio"): it
// connects to the control socket PATH and copies standard input to it and
// what it says to standard output, until popd closes the connection or
// standard input ends (then popd sees the end, answers what it was asked,
// and closes). popd checks the credentials of whoever runs it: on a node,
// the ssh user.
func dialStdio(e *env, args []string) error {
	fs := flag.NewFlagSet("popadm dial-stdio", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pos, err := parse(fs, args, dialStdioUsage, 1, 1)
	if err != nil {
		return err
	}
	nc, err := control.Connect(e.ctx, pos[0])
	if err != nil {
		return err
	}
	return bridge(e, nc)
}

// bridge copies e.stdin to nc and nc to e.stdout until nc ends or e.ctx
// is done, and closes nc.
func bridge(e *env, nc net.Conn) error {
	defer nc.Close()
	stop := context.AfterFunc(e.ctx, func() { nc.Close() })
	defer stop()
	in := make(chan error, 1)
	go func() {
		_, err := io.Copy(nc, e.stdin)
		if uc, ok := nc.(*net.UnixConn); ok && err == nil {
			uc.CloseWrite() // popd sees the end of the requests
		}
		in <- err
	}()
	_, err := io.Copy(e.stdout, nc)
	nc.Close()
	// Standard input may still be blocked in a read. A pipe or socket
	// that the runtime polls can be interrupted, and the goroutine is
	// joined; a blocking one (what sshd gives, usually) cannot, and the
	// goroutine ends with the process, which ends now.
	select {
	case <-in:
	default:
		if d, ok := e.stdin.(interface{ SetReadDeadline(time.Time) error }); ok && d.SetReadDeadline(time.Unix(1, 0)) == nil {
			<-in
		}
	}
	switch {
	case e.ctx.Err() != nil:
		return e.ctx.Err()
	case err != nil && !errors.Is(err, net.ErrClosed):
		return fmt.Errorf("dial-stdio: %w", err)
	}
	return nil
}
