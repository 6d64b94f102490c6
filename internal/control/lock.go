package control

import "fmt"

// Holder says who holds a lock, as popadm and its console both show it:
// "session 7" (a session of this popd), "popd@mx2 pid 4242" (another
// process, or another node's popd), or the owner alone when the lock
// file says no more.
func (l Lock) Holder() string {
	switch {
	case l.Session != "":
		return "session " + l.Session
	case l.Host == "" && l.PID == 0:
		return l.Owner
	}
	return fmt.Sprintf("%s@%s pid %d", l.Owner, l.Host, l.PID)
}
