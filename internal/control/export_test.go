package control

import "net"

// SetRoleFunc replaces how s decides a peer's role. Call it before Serve.
func SetRoleFunc(s *Server, f func(uid, gid uint32) (string, bool)) { s.roleOf = f }

// SetPeerFunc replaces how s learns a peer's credentials (SO_PEERCRED),
// so that one test process can stand for many uids. Call it before Serve.
func SetPeerFunc(s *Server, f func(net.Conn) (uid, gid uint32, pid int32, err error)) { s.credOf = f }

// PeerCred is the real SO_PEERCRED lookup.
var PeerCred = peerCred

// ConnCount is how many connections s serves now (admitted, not yet
// closed).
func ConnCount(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
