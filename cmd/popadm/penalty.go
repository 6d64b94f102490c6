package main

import (
	"context"
	"errors"
	"fmt"

	"popd/internal/control"
	"popd/internal/fleet"
	"popd/internal/human"
)

// fleetClearPenalty clears a source's penalty on every node that has one:
// a source is penalised on the nodes it tried, not on every node. A line
// for each node that cleared it; the nodes that had none say nothing,
// unless none had one: then it is an error (exit 1).
func fleetClearPenalty(e *env, f *fleet.Fleet, source string) error {
	as := onEach(e, f, func(ctx context.Context, c *control.Client) (string, error) {
		return "cleared the penalty of " + source, c.ClearPenalty(ctx, source)
	})
	if err := e.ctx.Err(); err != nil {
		return err
	}
	cleared := 0
	for _, a := range as {
		var ce *control.Error
		switch {
		case a.err == nil:
			cleared++
			fmt.Fprintln(e.stdout, human.Clean(a.node.Name+": "+a.v))
		case errors.As(a.err, &ce) && ce.Code == control.CodeNotFound:
		default:
			e.nodeError(a.node.Name, a.err)
		}
	}
	switch {
	case cleared > 0:
		return nil
	case len(e.down) == len(as):
		return errNoNode
	case len(e.down) > 0:
		return fmt.Errorf("no penalty for %s on the nodes that answered", source)
	case e.refused:
		return errSaid
	}
	return fmt.Errorf("no penalty for %s on any node", source)
}
