package daemon

import (
	"fmt"
	"net/netip"

	"popd/internal/control"
	"popd/internal/event"
)

// The failed-login penalties, for the control API: listed with the user
// names each source tried, and cleared by an administrator — logged, and
// published as a penalty.cleared event that says by whom.

// Penalties implements control.Daemon.
func (d *daemon) Penalties() []control.Penalty {
	var out []control.Penalty
	for _, p := range d.srv.Penalties() {
		out = append(out, control.Penalty(p))
	}
	return out
}

// ClearPenalty implements control.Daemon. src is an address (which stands
// for its source: an IPv6 one for its /48) or a prefix as listed; a source
// without a penalty is "not-found".
func (d *daemon) ClearPenalty(src, by string) error {
	p, err := parseSource(src)
	if err != nil {
		return err
	}
	was, ok := d.srv.ClearPenalty(p)
	if !ok {
		return notFound("no penalty for %s", src)
	}
	d.log.Info("penalty cleared", "source", was.Source, "failures", was.Failures, "by", by)
	d.publish(event.Event{Type: event.PenaltyCleared, Remote: was.Source, Count: was.Failures, By: by})
	return nil
}

// parseSource reads an address or a prefix.
func parseSource(src string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(src); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(src)
	if err != nil {
		return netip.Prefix{}, &control.Error{Code: control.CodeInvalid, Message: fmt.Sprintf("not an address or prefix: %q", src)}
	}
	return netip.PrefixFrom(a.WithZone(""), a.BitLen()), nil
}
