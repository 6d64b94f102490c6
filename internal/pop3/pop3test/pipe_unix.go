//go:build unix

package pop3test

import (
	"net"
	"os"
	"syscall"
)

// Pipe returns the two ends of a connected stream socket, a socketpair.
// Unlike net.Pipe it buffers as a real socket does, so a client can send
// pipelined commands (RFC 2449 §6.6) without reading the responses; and it
// takes no port, so a fuzzer can open many thousands.
func Pipe() (server, client net.Conn, err error) {
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	if server, err = fileConn(fds[0], "pop3test server"); err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	if client, err = fileConn(fds[1], "pop3test client"); err != nil {
		server.Close()
		return nil, nil, err
	}
	return server, client, nil
}

// fileConn makes a net.Conn of fd and closes fd (net.FileConn dups it).
func fileConn(fd int, name string) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return net.FileConn(f)
}
