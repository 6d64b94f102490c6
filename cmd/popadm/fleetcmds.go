package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"popd/internal/control"
	"popd/internal/fleet"
	"popd/internal/human"
)

// The commands on a fleet (see fleet.go).

// runFleet is the listing of every node: NODE first, "node" in JSON.
func (l listing[T]) runFleet(e *env, f *fleet.Fleet, asJSON bool) error {
	as, err := answered(e, onEach(e, f, func(ctx context.Context, c *control.Client) ([]T, error) {
		return l.fetch(c, ctx)
	}))
	if err != nil {
		return err
	}
	type row struct {
		node string
		v    T
	}
	var rows []row
	for _, a := range as {
		for _, v := range a.v {
			rows = append(rows, row{a.node.Name, v})
		}
	}
	if asJSON {
		out := make([]json.RawMessage, 0, len(rows))
		for _, r := range rows {
			j, err := tagged(r.node, r.v)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		return e.printJSON(out)
	}
	now := time.Now()
	return show(e, rows, l.empty, append([]string{"NODE"}, l.header...), func(r row) []string {
		return append([]string{r.node}, l.row(now, r.v)...)
	})
}

// fleetStats is a row for each node, "down" for those that do not answer;
// in JSON an object for each, with "up" and, for a node that is down,
// "error".
func fleetStats(e *env, f *fleet.Fleet, asJSON bool) error {
	as := onEach(e, f, func(ctx context.Context, c *control.Client) (control.Stats, error) { return c.Stats(ctx) })
	if err := e.ctx.Err(); err != nil {
		return err
	}
	up := 0
	for _, a := range as {
		if a.err != nil {
			e.nodeError(a.node.Name, a.err)
		} else {
			up++
		}
	}
	if asJSON {
		type upStats struct {
			Up bool `json:"up"`
			control.Stats
		}
		type downStats struct {
			Up    bool   `json:"up"`
			Error string `json:"error"`
		}
		out := make([]json.RawMessage, 0, len(as))
		for _, a := range as {
			var v any = upStats{true, a.v}
			if a.err != nil {
				v = downStats{false, nodeMessage(a.err)}
			}
			j, err := tagged(a.node.Name, v)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		if err := e.printJSON(out); err != nil {
			return err
		}
	} else {
		t := e.table("NODE", "STATUS", "VERSION", "UPTIME", "SESSIONS", "LOGINS", "FAILED LOGINS", "SENT")
		for _, a := range as {
			if a.err != nil {
				t.row(a.node.Name, "down", "-", "-", "-", "-", "-", "-")
				continue
			}
			st := a.v
			t.row(a.node.Name, "up", st.Version, human.Duration(st.Uptime), strconv.Itoa(st.Sessions),
				perMinute(st.Logins, st.LoginsPerMin), perMinute(st.Failures, st.FailuresPerMin), human.Bytes(st.BytesSent))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	switch {
	case up > 0:
		return nil
	case e.refused:
		return errSaid
	}
	return errNoNode
}

// fleetEvents follows the events of every node that answers, merged as
// they come, each with its node. A node whose stream ends is said on
// standard error and the others go on; when every stream has ended it is
// an error.
func fleetEvents(e *env, f *fleet.Fleet, asJSON bool, backlog int) error {
	ctx, cancel := context.WithCancel(e.ctx)
	type sub struct {
		ch   <-chan control.Event
		stop context.CancelFunc
	}
	as, err := answered(e, onEach(e, f, func(sctx context.Context, c *control.Client) (sub, error) {
		// Subscribing has the node's timeout (sctx); the stream then
		// lives as long as ctx.
		nctx, ncancel := context.WithCancel(ctx)
		stopTimeout := context.AfterFunc(sctx, ncancel)
		c.SetEventBacklog(backlog)
		ch, err := c.Events(nctx)
		if !stopTimeout() && err == nil {
			err = sctx.Err() // the timeout came first: the stream is ending
		}
		if err != nil {
			ncancel()
			return sub{}, err
		}
		return sub{ch, ncancel}, nil
	}))
	if err != nil {
		cancel()
		return err
	}

	type item struct {
		node string
		ev   control.Event
		end  bool // the node's stream ended
	}
	merged := make(chan item)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	width := 0
	for _, a := range as {
		width = max(width, len(human.Clean(a.node.Name)))
		wg.Go(func() {
			defer a.v.stop()
			for ev := range a.v.ch {
				select {
				case merged <- item{node: a.node.Name, ev: ev}:
				case <-ctx.Done():
					return
				}
			}
			select {
			case merged <- item{node: a.node.Name, end: true}:
			case <-ctx.Done():
			}
		})
	}
	for live := len(as); live > 0; {
		var it item
		select {
		case it = <-merged:
		case <-e.ctx.Done():
			return nil // interrupted
		}
		if it.end {
			if e.ctx.Err() != nil {
				return nil // interrupted
			}
			live--
			e.nodeError(it.node, errors.New("popd closed the connection"))
			continue
		}
		if asJSON {
			j, err := tagged(it.node, it.ev)
			if err == nil {
				err = e.writeJSON(j, "")
			}
			if err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintf(e.stdout, "%-*s  %s\n", width, human.Clean(it.node), eventLine(it.ev)); err != nil {
			return err
		}
	}
	return errors.New("every node closed the connection")
}

// fleetKick ends a session on the node that has it (a selector goes to
// every node: fleetKickSelected).
func fleetKick(e *env, f *fleet.Fleet, id string) error {
	n, sid, err := findSession(e, f, id)
	if err != nil {
		return err
	}
	return e.onNode(n, func(ctx context.Context, c *control.Client) (string, error) {
		return "kicked session " + n.Name + "/" + sid, c.Kick(ctx, sid)
	})
}

// findSession finds the node of a session: NODE/ID names it; a bare ID is
// looked for on every node, and must be found on one only, with every
// node answering (a node that does not might have one too).
func findSession(e *env, f *fleet.Fleet, id string) (*fleet.Node, string, error) {
	if name, sid, ok := strings.Cut(id, "/"); ok {
		n, found := f.Node(name)
		switch {
		case !found:
			return nil, "", fmt.Errorf("no node %q in %s (nodes: %s)", name, e.fleetPath, nodeNames(f))
		case sid == "":
			return nil, "", &usageError{msg: "NODE/ID without the ID", usage: kickUsage}
		}
		return n, sid, nil
	}
	as, err := answered(e, onEach(e, f, func(ctx context.Context, c *control.Client) ([]control.Session, error) {
		return c.Sessions(ctx)
	}))
	if err != nil {
		return nil, "", err
	}
	var node *fleet.Node
	var on []string
	for _, a := range as {
		for _, s := range a.v {
			if s.ID == id {
				node = a.node
				on = append(on, fmt.Sprintf("%s/%s (%s from %s)", a.node.Name, id, dash(s.User), s.Remote))
			}
		}
	}
	down := strings.Join(e.down, ", ")
	switch {
	case len(on) > 1:
		return nil, "", fmt.Errorf("session %s is on several nodes: %s; say which, as NODE/ID", id, strings.Join(on, ", "))
	case len(on) == 0 && down != "":
		return nil, "", fmt.Errorf("no session %s on the nodes that answered", id)
	case len(on) == 0:
		return nil, "", fmt.Errorf("no session %s on any node", id)
	case down != "":
		return nil, "", fmt.Errorf("session %s is on %s, but %s did not answer and may have one too; say %s/%s", id, node.Name, down, node.Name, id)
	}
	return node, id, nil
}

func nodeNames(f *fleet.Fleet) string {
	names := make([]string, len(f.Nodes))
	for i, n := range f.Nodes {
		names[i] = n.Name
	}
	return strings.Join(names, ", ")
}

// fleetUnlock unlocks a user's maildrop on the node whose session holds
// the lock (popd ends that session first), or, when no session of a node
// that answered holds it (a crashed holder, or one on a node that is
// down), on the first node that sees the lock.
func fleetUnlock(e *env, f *fleet.Fleet, user string) error {
	as, err := answered(e, onEach(e, f, func(ctx context.Context, c *control.Client) ([]control.Lock, error) {
		return c.Locks(ctx)
	}))
	if err != nil {
		return err
	}
	var holder, seen *fleet.Node
	for _, a := range as {
		for _, l := range a.v {
			if l.User != user {
				continue
			}
			if seen == nil {
				seen = a.node
			}
			if l.Session != "" && holder == nil {
				holder = a.node
			}
		}
	}
	n := holder
	if n == nil {
		n = seen
	}
	if n == nil {
		return fmt.Errorf("the maildrop of %q is not locked", user)
	}
	return e.onNode(n, func(ctx context.Context, c *control.Client) (string, error) {
		return "unlocked the maildrop of " + user + " on " + n.Name, c.Unlock(ctx, user)
	})
}

// kickElsewhere ends user's sessions on the nodes other than done (where
// deleting the user did), and says where there were some.
func (e *env) kickElsewhere(done, user string) {
	as := onEach(e, e.fl, func(ctx context.Context, c *control.Client) (int, error) { return c.KickUser(ctx, user) })
	for _, a := range as {
		switch {
		case a.node.Name == done:
		case a.err != nil:
			e.nodeError(a.node.Name, a.err)
		case a.v > 0:
			fmt.Fprintln(e.stdout, human.Clean(a.node.Name+": kicked "+human.Count(a.v, "session")+" of "+user))
		}
	}
}

// fleetUsers lists the users (the users file is shared, so the first
// node's list), with the latest login any node saw.
func fleetUsers(e *env, f *fleet.Fleet) ([]control.User, error) {
	as, err := answered(e, onEach(e, f, func(ctx context.Context, c *control.Client) ([]control.User, error) {
		return c.Users(ctx)
	}))
	if err != nil {
		return nil, err
	}
	latest := map[string]time.Time{}
	for _, a := range as {
		for _, u := range a.v {
			if u.LastLogin.After(latest[u.Name]) {
				latest[u.Name] = u.LastLogin
			}
		}
	}
	us := as[0].v
	for i := range us {
		us[i].LastLogin = latest[us[i].Name]
	}
	return us, nil
}
