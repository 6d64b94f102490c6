package control

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Selector picks live sessions by what they are, so that popd decides
// which match when it gets the request, not a console from a list it
// fetched a moment ago. Every criterion given must hold (they are ANDed);
// at least one must be given.
type Selector struct {
	// IDs are the sessions' ids; none: any.
	IDs []string `json:"ids,omitempty"`
	// User is the logged-in user's name, exactly.
	User string `json:"user,omitempty"`
	// Users are logged-in users' names, exactly: any of them (the
	// sessions of the users a console disabled together).
	Users []string `json:"users,omitempty"`
	// From is the client's address or a prefix of them, in CIDR notation:
	// "192.0.2.7", "192.0.2.0/24", "2001:db8::/48". The address is the
	// client's as popd knows it (from the PROXY header behind a proxy).
	From string `json:"from,omitempty"`
	// State is an RFC 1939 state: "authorization", "transaction" or
	// "update" (SessionStates).
	State string `json:"state,omitempty"`
	// IdleOver picks the sessions idle longer than this (Session.Idle).
	IdleOver time.Duration `json:"idle_over_ns,omitempty"`
}

// SessionStates are the states a Selector may name, as Session.State
// says them.
var SessionStates = []string{"authorization", "transaction", "update"}

// StateNamed is the state that name is the beginning of ("trans",
// "auth"), in any case.
func StateNamed(name string) (string, bool) {
	name = strings.ToLower(name)
	for _, s := range SessionStates {
		if name != "" && strings.HasPrefix(s, name) {
			return s, true
		}
	}
	return "", false
}

// ParseFrom reads a Selector's From: an address is the prefix of that one
// address; a prefix is masked ("192.0.2.7/24" is 192.0.2.0/24).
func ParseFrom(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, &Error{Code: CodeInvalid, Message: fmt.Sprintf("not an address or a prefix: %q", s)}
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Empty says whether the selector gives no criterion.
func (s Selector) Empty() bool {
	return len(s.IDs) == 0 && s.User == "" && len(s.Users) == 0 && s.From == "" && s.State == "" && s.IdleOver == 0
}

// String is the selector as people read it: "user bob, from 192.0.2.0/24".
func (s Selector) String() string {
	var parts []string
	parts = appendListed(parts, s.IDs, "session", "%d sessions by id")
	if s.User != "" {
		parts = append(parts, "user "+s.User)
	}
	parts = appendListed(parts, s.Users, "user", "%d users")
	if s.From != "" {
		from := s.From
		if p, err := ParseFrom(s.From); err == nil {
			from = p.String()
			if p.IsSingleIP() {
				from = p.Addr().String()
			}
		}
		parts = append(parts, "from "+from)
	}
	if s.State != "" {
		parts = append(parts, "in "+s.State)
	}
	if s.IdleOver > 0 {
		parts = append(parts, "idle over "+s.IdleOver.String())
	}
	return strings.Join(parts, ", ")
}

// appendListed appends "noun a" or "nouns a, b" for up to six names, else
// many with their number; nothing for none.
func appendListed(parts, names []string, noun, many string) []string {
	switch n := len(names); {
	case n == 0:
		return parts
	case n == 1:
		return append(parts, noun+" "+names[0])
	case n <= 6:
		return append(parts, noun+"s "+strings.Join(names, ", "))
	default:
		return append(parts, fmt.Sprintf(many, n))
	}
}

// Matcher checks the selector and returns what decides whether a session
// matches it; the error, an *Error with code "invalid", says what is wrong.
func (s Selector) Matcher() (func(Session) bool, error) {
	invalid := func(format string, args ...any) error {
		return &Error{Code: CodeInvalid, Message: fmt.Sprintf(format, args...)}
	}
	if s.Empty() {
		return nil, invalid("the selector picks nothing: give ids, user, users, from, state or idle_over")
	}
	var from netip.Prefix
	if s.From != "" {
		var err error
		if from, err = ParseFrom(s.From); err != nil {
			return nil, err
		}
	}
	if s.State != "" && !slices.Contains(SessionStates, s.State) {
		return nil, invalid("no state %q (states: %s)", s.State, strings.Join(SessionStates, ", "))
	}
	if slices.Contains(s.Users, "") {
		return nil, invalid("users has an empty name")
	}
	if s.IdleOver < 0 {
		return nil, invalid("idle_over is negative")
	}
	ids := make(map[string]bool, len(s.IDs))
	for _, id := range s.IDs {
		ids[id] = true
	}
	users := make(map[string]bool, len(s.Users))
	for _, u := range s.Users {
		users[u] = true
	}
	return func(x Session) bool {
		switch {
		case len(ids) > 0 && !ids[x.ID],
			len(users) > 0 && !users[x.User],
			s.User != "" && x.User != s.User,
			s.State != "" && x.State != s.State,
			s.IdleOver > 0 && x.Idle <= s.IdleOver:
			return false
		case s.From != "":
			a, ok := remoteAddr(x.Remote)
			return ok && from.Contains(a)
		}
		return true
	}, nil
}

// remoteAddr is the address of a Session's Remote ("192.0.2.7:1100",
// "[2001:db8::1]:1100"), IPv4-mapped ones as IPv4.
func remoteAddr(remote string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(remote)
	return a.Unmap(), err == nil
}

// Kicked is what kick_select answers: the sessions that matched, kicked
// unless it was a dry run.
type Kicked struct {
	Count  int      `json:"count"` // len(IDs)
	IDs    []string `json:"ids"`
	DryRun bool     `json:"dry_run,omitempty"`
}

// SessionKicker is a Daemon that kicks the sessions a Selector picks, as
// Kick does each (popd is one). The "kick_select" method needs it.
type SessionKicker interface {
	// KickSelected kicks every session that sel picks, or with dryRun
	// only lists them, and returns their ids. An invalid selector is an
	// *Error with code "invalid".
	KickSelected(sel Selector, dryRun bool, by string) ([]string, error)
}

type selectParams struct {
	Selector
	DryRun bool `json:"dry_run,omitempty"`
}

// selectParamsShape is the params' shape, for the bad-request message.
const selectParamsShape = `{"ids"?:[string],"user"?:string,"users"?:[string],"from"?:string,"state"?:string,"idle_over_ns"?:int,"dry_run"?:bool}`

// kickSelect is the "kick_select" method.
func kickSelect(c *conn, raw json.RawMessage) (any, error) {
	var p selectParams
	if !decodeParams(raw, &p) {
		return nil, errBadParams
	}
	k, ok := c.s.d.(SessionKicker)
	if !ok {
		return nil, &Error{Code: CodeBadRequest, Message: "this popd does not kick by selector"}
	}
	ids, err := k.KickSelected(p.Selector, p.DryRun, c.by)
	return Kicked{Count: len(ids), IDs: orEmpty(ids), DryRun: p.DryRun}, err
}

// KickSelect kicks the sessions sel picks (admin), or with dryRun only
// says which popd would kick: popd decides, as the request arrives.
func (c *Client) KickSelect(ctx context.Context, sel Selector, dryRun bool) (Kicked, error) {
	var v Kicked
	err := c.Call(ctx, "kick_select", selectParams{Selector: sel, DryRun: dryRun}, &v)
	return v, err
}
