package main

import (
	"fmt"
	"strconv"

	"popd/internal/control"
)

const (
	whoUsage  = "popadm who [--json]"
	kickUsage = "popadm kick ID | --user NAME"
)

// who lists the live sessions.
func who(e *env, args []string) error {
	return list(e, "who", whoUsage, args,
		func(c *control.Client) ([]control.Session, error) { return c.Sessions(e.ctx) },
		"no sessions",
		[]string{"ID", "USER", "REMOTE", "STATE", "TLS", "AGE", "IDLE", "RETR", "SENT", "LAST"},
		func(s control.Session) []string {
			return []string{s.ID, dash(s.User), s.Remote, s.State, yesNo(s.TLS), since(s.Since), duration(s.Idle),
				strconv.Itoa(s.Retrieved), size(s.Octets), dash(s.LastCommand)}
		})
}

// kick ends a session, or every session of a user, without UPDATE.
func kick(e *env, args []string) error {
	fs := e.flags("kick")
	user := fs.String("user", "", "")
	pos, err := parse(fs, args, kickUsage, 0, 1)
	if err != nil {
		return err
	}
	if (len(pos) == 1) == (*user != "") {
		return &usageError{msg: "give a session ID or --user NAME", usage: kickUsage}
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	if *user != "" {
		n, err := c.KickUser(e.ctx, *user)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "kicked %d session%s of %s\n", n, plural(n), clean(*user))
		return nil
	}
	if err := c.Kick(e.ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "kicked session %s\n", clean(pos[0]))
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
