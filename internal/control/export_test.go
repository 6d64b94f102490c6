package control

// SetRoleFunc replaces how s decides a peer's role. Call it before Serve.
func SetRoleFunc(s *Server, f func(uid, gid uint32) (string, bool)) { s.roleOf = f }
