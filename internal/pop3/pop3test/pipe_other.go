//go:build !unix

package pop3test

import "net"

// Pipe returns the two ends of a loopback TCP connection, where there are
// no socketpairs. Unlike net.Pipe it buffers as a real socket does.
func Pipe() (server, client net.Conn, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	if client, err = net.Dial("tcp", ln.Addr().String()); err != nil {
		return nil, nil, err
	}
	if server, err = ln.Accept(); err != nil {
		client.Close()
		return nil, nil, err
	}
	return server, client, nil
}
