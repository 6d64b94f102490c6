package main

import (
	"context"
	"slices"

	"popd/internal/control"
	"popd/internal/human"
)

// sessionsByAge lists popd's sessions in the order who shows them: by
// when each connected, then by ID — the same order on every run, whatever
// order popd's registry gives them in. The ID settles sessions that
// connected in the same instant: a boot's ids count up ("k3f9-9" before
// "k3f9-10").
func sessionsByAge(c *control.Client, ctx context.Context) ([]control.Session, error) {
	ss, err := c.Sessions(ctx)
	slices.SortFunc(ss, func(a, b control.Session) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return human.Natural(a.ID, b.ID)
	})
	return ss, err
}
