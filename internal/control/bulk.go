package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Changes to many users or maildrops in one call: the console's "disable
// the tagged users", "unlock the tagged maildrops". Each name is done as
// the call for one does it (user_disable, unlock: the same checks, an
// event each naming who), and each has its own outcome: one that fails
// does not stop the others. They join the command table as the package
// starts.
//
//	users_set_disabled {"names":[string],"disabled":bool}
//	locks_unlock       {"users":[string]}
//
// both answer {"results":[{"name":"bob"},{"name":"eve","error":{...}}]},
// a result for each name, in the order given (a name given twice counts
// once).
func init() {
	methods["users_set_disabled"] = method{admin: true, params: `{"names":[string],"disabled":bool}`, call: usersSetDisabled}
	methods["locks_unlock"] = method{admin: true, params: `{"users":[string]}`, call: locksUnlock}
}

// NameResult is the outcome for one name of a call on many: Error is nil
// when it was done.
type NameResult struct {
	Name  string `json:"name"`
	Error *Error `json:"error,omitempty"`
}

// Err is the outcome as an error: nil, or the *Error.
func (r NameResult) Err() error {
	if r.Error == nil {
		return nil
	}
	return r.Error
}

// Failed are the results that failed.
func Failed(rs []NameResult) []NameResult {
	var out []NameResult
	for _, r := range rs {
		if r.Error != nil {
			out = append(out, r)
		}
	}
	return out
}

// ManyDisabler is a Daemon that enables or disables many users at once
// (popd is one: one write of the users file, then an event per user).
// Without it, users_set_disabled calls SetDisabled for each.
type ManyDisabler interface {
	// SetDisabledMany returns an error for each name, nil when done.
	SetDisabledMany(names []string, disabled bool, by string) []error
}

// ManyUnlocker is a Daemon that unlocks many maildrops at once (popd
// is one: the holders are ended together). Without it, locks_unlock
// calls Unlock for each.
type ManyUnlocker interface {
	// UnlockMany returns an error for each user, nil when done.
	UnlockMany(users []string, by string) []error
}

type namesParams struct {
	Names    []string `json:"names"`
	Disabled *bool    `json:"disabled"` // required: a missing field must not enable
}

type usersParams struct {
	Users []string `json:"users"`
}

type resultsResult struct {
	Results []NameResult `json:"results"`
}

// distinct checks a list of names (some, none empty) and drops repeats.
func distinct(names []string) ([]string, bool) {
	if len(names) == 0 {
		return nil, false
	}
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n == "" {
			return nil, false
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, true
}

// results pairs names with their errors, as wire *Errors.
func results(names []string, errs []error) resultsResult {
	out := resultsResult{Results: make([]NameResult, len(names))}
	for i, n := range names {
		out.Results[i].Name = n
		var err error
		if i < len(errs) {
			err = errs[i]
		}
		if err == nil {
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Code: CodeInternal, Message: err.Error()}
		}
		out.Results[i].Error = e
	}
	return out
}

func usersSetDisabled(c *conn, raw json.RawMessage) (any, error) {
	var p namesParams
	if !decodeParams(raw, &p) || p.Disabled == nil {
		return nil, errBadParams
	}
	names, ok := distinct(p.Names)
	if !ok {
		return nil, errBadParams
	}
	if m, ok := c.s.d.(ManyDisabler); ok {
		return results(names, m.SetDisabledMany(names, *p.Disabled, c.by)), nil
	}
	errs := make([]error, len(names))
	for i, n := range names {
		errs[i] = c.s.d.SetDisabled(n, *p.Disabled, c.by)
	}
	return results(names, errs), nil
}

func locksUnlock(c *conn, raw json.RawMessage) (any, error) {
	var p usersParams
	if !decodeParams(raw, &p) {
		return nil, errBadParams
	}
	users, ok := distinct(p.Users)
	if !ok {
		return nil, errBadParams
	}
	if m, ok := c.s.d.(ManyUnlocker); ok {
		return results(users, m.UnlockMany(users, c.by)), nil
	}
	errs := make([]error, len(users))
	for i, u := range users {
		errs[i] = c.s.d.Unlock(u, c.by)
	}
	return results(users, errs), nil
}

// namesBatch bounds the names sent in one call, so that the request stays
// well under MaxFrame.
const namesBatch = 32 << 10

// batches cuts names into lists that each fit in one request.
func batches(names []string) [][]string {
	var out [][]string
	for len(names) > 0 {
		size, i := 0, 0
		for i < len(names) && (i == 0 || size+len(names[i])+8 <= namesBatch) {
			size += len(names[i]) + 8 // quoted, escaped a little, a comma
			i++
		}
		out = append(out, names[:i])
		names = names[i:]
	}
	return out
}

// SetDisabledMany disables (or enables) the users of names (admin), as
// SetDisabled each, and returns each one's outcome, in order. err is for
// the call itself (popd refused it, or went away): the results then hold
// the names done before. Many names go in several calls.
func (c *Client) SetDisabledMany(ctx context.Context, names []string, disabled bool) ([]NameResult, error) {
	return c.many(ctx, names, func(batch []string) (string, any) {
		return "users_set_disabled", namesParams{Names: batch, Disabled: &disabled}
	})
}

// UnlockMany breaks the locks on the maildrops of users (admin), as
// Unlock each, and returns each one's outcome, in order.
func (c *Client) UnlockMany(ctx context.Context, users []string) ([]NameResult, error) {
	return c.many(ctx, users, func(batch []string) (string, any) {
		return "locks_unlock", usersParams{Users: batch}
	})
}

func (c *Client) many(ctx context.Context, names []string, call func(batch []string) (string, any)) ([]NameResult, error) {
	var out []NameResult
	for _, b := range batches(names) {
		method, params := call(b)
		var v resultsResult
		if err := c.Call(ctx, method, params, &v); err != nil {
			return out, err
		}
		out = append(out, v.Results...)
	}
	return out, nil
}

// ManyError says which names of a call on many failed, and why: `eve: no
// user "eve"; mallory: …`.
func ManyError(rs []NameResult) string {
	var parts []string
	for _, r := range Failed(rs) {
		parts = append(parts, fmt.Sprintf("%s: %s", r.Name, r.Error.Message))
	}
	return strings.Join(parts, "; ")
}
