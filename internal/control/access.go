package control

import (
	"errors"
	"fmt"
	"os/user"
	"slices"
	"strconv"
)

// rules decide a peer's role from its credentials.
type rules struct {
	selfUID    uint32
	adminGID   int64 // -1: no admin group
	monitorGID int64 // -1: no monitor group
	// groups returns the supplementary groups of the user with this uid
	// (nil when unknown). Asked only when a group is configured and the
	// peer's primary gid is not it.
	groups func(uid uint32) []uint32
}

// role returns the role of a peer with this uid and primary gid, or false
// when the peer may not use the socket. Root and popd's own uid are
// admins; then the admin group wins over the monitor group.
func (r rules) role(uid, gid uint32) (string, bool) {
	if uid == 0 || uid == r.selfUID {
		return RoleAdmin, true
	}
	var sup []uint32
	looked := false
	member := func(g int64) bool {
		if g < 0 {
			return false
		}
		if int64(gid) == g {
			return true
		}
		if !looked {
			sup, looked = r.groups(uid), true
		}
		return slices.Contains(sup, uint32(g))
	}
	switch {
	case member(r.adminGID):
		return RoleAdmin, true
	case member(r.monitorGID):
		return RoleMonitor, true
	}
	return "", false
}

// supplementaryGroups returns the groups os/user lists for uid.
func supplementaryGroups(uid uint32) []uint32 {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return nil
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil
	}
	var gids []uint32
	for _, id := range ids {
		if g, err := strconv.ParseUint(id, 10, 32); err == nil {
			gids = append(gids, uint32(g))
		}
	}
	return gids
}

// lookupGroup returns the gid of the group called name, -1 for "". A
// number that names no group is taken as a gid.
func lookupGroup(name string) (int64, error) {
	if name == "" {
		return -1, nil
	}
	g, err := user.LookupGroup(name)
	if err == nil {
		return strconv.ParseInt(g.Gid, 10, 64)
	}
	if gid, nerr := strconv.ParseUint(name, 10, 32); nerr == nil {
		return int64(gid), nil
	}
	if errors.As(err, new(user.UnknownGroupError)) {
		return -1, fmt.Errorf("control: unknown group %q", name)
	}
	return -1, fmt.Errorf("control: group %q: %w", name, err)
}

// describePeer is the "by" given to the Daemon: "uid N (name)", or "uid N"
// when the uid has no name.
func describePeer(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil && u.Username != "" {
		return "uid " + id + " (" + u.Username + ")"
	}
	return "uid " + id
}
