package main

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"popd/internal/control"
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
		return compareIDs(a.ID, b.ID)
	})
	return ss, err
}

// compareIDs orders session ids: by what comes before the number at their
// end, then by that number.
func compareIDs(a, b string) int {
	pa, na := splitID(a)
	pb, nb := splitID(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	if c := cmp.Compare(len(na), len(nb)); c != 0 {
		return c
	}
	return strings.Compare(na, nb)
}

// splitID cuts the number off the end of an id: "k3f9-12" is "k3f9-", "12".
func splitID(id string) (string, string) {
	i := len(id)
	for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
		i--
	}
	return id[:i], id[i:]
}
