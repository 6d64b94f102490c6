//go:build !linux

package control

import (
	"errors"
	"net"
)

// peerCred is only implemented on Linux (SO_PEERCRED); elsewhere every
// peer is refused.
func peerCred(net.Conn) (uid, gid uint32, pid int32, err error) {
	return 0, 0, 0, errors.New("control: peer credentials are only supported on Linux")
}
