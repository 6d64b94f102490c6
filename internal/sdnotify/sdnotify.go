// Package sdnotify tells systemd how a Type=notify service is doing
// (sd_notify(3)): READY=1 once it serves, RELOADING=1 and READY=1 around a
// reload, STOPPING=1 when it shuts down, STATUS= lines for systemctl
// status. Twenty lines of datagram writing — not worth a module (go-systemd
// would bring D-Bus and journal code popd does not use).
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Notifier sends to one notification socket; the zero Notifier (no
// $NOTIFY_SOCKET: not started by systemd) sends nothing.
type Notifier struct {
	addr *net.UnixAddr
}

// FromEnv returns the Notifier of $NOTIFY_SOCKET: a path, or an abstract
// socket written with a leading '@'.
func FromEnv() Notifier {
	p := os.Getenv("NOTIFY_SOCKET")
	if p == "" || (p[0] != '/' && p[0] != '@') {
		return Notifier{}
	}
	if p[0] == '@' {
		p = "\x00" + p[1:]
	}
	return Notifier{addr: &net.UnixAddr{Name: p, Net: "unixgram"}}
}

// Enabled reports whether there is a socket to notify.
func (n Notifier) Enabled() bool { return n.addr != nil }

// Send sends the state lines ("READY=1", "STATUS=serving" …) in one
// datagram.
func (n Notifier) Send(state ...string) error {
	if n.addr == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(strings.Join(state, "\n") + "\n")); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// Reloading is the state of a reload's start: RELOADING=1 with the
// CLOCK_MONOTONIC time that systemd 253+ asks for.
func Reloading() string {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", ts.Nano()/int64(time.Microsecond))
}
