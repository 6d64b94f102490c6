package control

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// peerCred returns the uid, gid and pid of the process at the other end of
// a Unix socket, as the kernel recorded them when it connected.
func peerCred(c net.Conn) (uid, gid uint32, pid int32, err error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, 0, 0, fmt.Errorf("control: %T has no file descriptor", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("control: %w", err)
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, 0, 0, fmt.Errorf("control: %w", err)
	}
	if cerr != nil {
		return 0, 0, 0, fmt.Errorf("control: SO_PEERCRED: %w", cerr)
	}
	return cred.Uid, cred.Gid, cred.Pid, nil
}
