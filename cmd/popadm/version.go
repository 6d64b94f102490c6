package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"popd/internal/control"
	"popd/internal/human"
	"popd/internal/version"
)

const versionUsage = "popadm version"

// versionTimeout is how long popd (each node of a fleet) has to say its
// version.
const versionTimeout = time.Second

// versionCmd is "popadm version" (and -version): popadm's version line,
// then popd's, from the hello of its control socket, or why popd did not
// answer within versionTimeout; on a fleet, a line for each node. It is
// for information: the exit status is 0 whether popd answered or not.
func versionCmd(e *env, args []string) error {
	if _, err := parse(e.flags("version"), args, versionUsage, 0, 0); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, version.Get().Line("popadm"))
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(e.ctx, versionTimeout)
	defer cancel()
	e.ctx = ctx
	if f == nil {
		deadline, _ := ctx.Deadline()
		c, err := e.dial()
		v := ""
		switch {
		case err == nil:
			v = c.ServerVersion()
			c.Close()
		case !time.Now().Before(deadline): // whichever of the client's deadlines said so
			err = fmt.Errorf("no answer from %s within %v", e.control, versionTimeout)
		}
		fmt.Fprintln(e.stdout, popdVersion(v, err))
		return nil
	}
	for _, a := range onEach(e, f, func(_ context.Context, c *control.Client) (string, error) { return c.ServerVersion(), nil }) {
		fmt.Fprintf(e.stdout, "%s: %s\n", human.Clean(a.node.Name), popdVersion(a.v, a.err))
	}
	return nil
}

// popdVersion is the line for popd's version v, or why there is none.
func popdVersion(v string, err error) string {
	if err != nil {
		return "popd not reachable: " + nodeMessage(err)
	}
	if !strings.HasPrefix(v, "popd ") { // a version.Info's String has the name already
		v = "popd " + v
	}
	return human.Clean(v)
}
