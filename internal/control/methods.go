package control

import (
	"bytes"
	"encoding/json"
	"errors"
)

// method is one entry of the command table.
type method struct {
	admin  bool   // needs RoleAdmin
	stream bool   // the connection becomes an event stream after the answer
	params string // the params' shape, for the bad-request message; "" for none
	call   func(c *conn, params json.RawMessage) (any, error)
}

// errBadParams makes the dispatcher answer "bad-request" with the method's
// params shape.
var errBadParams = errors.New("control: bad params")

// methods is the command table. The dispatcher (conn.handle) checks the
// role and, for methods without params, that none were given.
var methods = map[string]method{
	"who": {call: func(c *conn, _ json.RawMessage) (any, error) {
		return orEmpty(c.s.d.Sessions()), nil
	}},
	"stats": {call: func(c *conn, _ json.RawMessage) (any, error) {
		seq := c.s.lastSeq() // before: Sessions counts what the events up to it said
		st := c.s.d.Stats()
		st.Seq = seq
		if st.Version == "" {
			st.Version = c.s.cfg.Version
		}
		return st, nil
	}},
	"history": {call: func(c *conn, _ json.RawMessage) (any, error) {
		return history(c), nil
	}},
	"users": {call: func(c *conn, _ json.RawMessage) (any, error) {
		us, err := c.s.d.Users()
		return orEmpty(us), err
	}},
	"user": {params: `{"user":string}`, call: userDetails},
	"locks": {call: func(c *conn, _ json.RawMessage) (any, error) {
		ls, err := c.s.d.Locks()
		return orEmpty(ls), err
	}},
	"penalties": {call: func(c *conn, _ json.RawMessage) (any, error) {
		return orEmpty(c.s.d.Penalties()), nil
	}},
	"sessions": {call: sessionSnapshot}, // changes.go
	"events": {stream: true, params: `{"backlog"?:int,"changes"?:bool} or {"boot":string,"seq":int,"changes"?:bool}`, call: func(c *conn, raw json.RawMessage) (any, error) {
		var p eventsParams
		if !decodeParams(raw, &p) || p.Backlog < 0 || p.Boot == "" && p.Seq != 0 {
			return nil, errBadParams
		}
		c.events = p
		return subscribedResult{Subscribed: true}, nil // completed by subscribe
	}},

	"kick": {admin: true, params: `{"id":string}`, call: func(c *conn, raw json.RawMessage) (any, error) {
		var p idParams
		if !decodeParams(raw, &p) || p.ID == "" {
			return nil, errBadParams
		}
		return nil, c.s.d.Kick(p.ID, c.by)
	}},
	"kick_user": {admin: true, params: `{"user":string}`, call: func(c *conn, raw json.RawMessage) (any, error) {
		var p userParams
		if !decodeParams(raw, &p) || p.User == "" {
			return nil, errBadParams
		}
		n, err := c.s.d.KickUser(p.User, c.by)
		return kickedResult{Kicked: n}, err
	}},
	"kick_select": {admin: true, params: selectParamsShape, call: kickSelect},
	"user_add": {admin: true, params: `{"name":string,"password":string}`, call: func(c *conn, raw json.RawMessage) (any, error) {
		var p passwordParams
		if !decodeParams(raw, &p) || p.Name == "" || p.Password == "" {
			return nil, errBadParams
		}
		return nil, c.s.d.AddUser(p.Name, p.Password, c.by)
	}},
	"user_passwd": {admin: true, params: `{"name":string,"password":string}`, call: func(c *conn, raw json.RawMessage) (any, error) {
		var p passwordParams
		if !decodeParams(raw, &p) || p.Name == "" || p.Password == "" {
			return nil, errBadParams
		}
		return nil, c.s.d.SetPassword(p.Name, p.Password, c.by)
	}},
	"user_del": {admin: true, params: userDelShape, call: userDel},
	"user_disable": {admin: true, params: `{"name":string,"disabled":bool}`, call: func(c *conn, raw json.RawMessage) (any, error) {
		var p disableParams
		if !decodeParams(raw, &p) || p.Name == "" || p.Disabled == nil {
			return nil, errBadParams
		}
		return nil, c.s.d.SetDisabled(p.Name, *p.Disabled, c.by)
	}},
	"unlock": {admin: true, params: `{"user":string}`, call: func(c *conn, raw json.RawMessage) (any, error) {
		var p userParams
		if !decodeParams(raw, &p) || p.User == "" {
			return nil, errBadParams
		}
		return nil, c.s.d.Unlock(p.User, c.by)
	}},
	"penalty_clear": {admin: true, params: `{"source":string}`, call: func(c *conn, raw json.RawMessage) (any, error) {
		var p sourceParams
		if !decodeParams(raw, &p) || p.Source == "" {
			return nil, errBadParams
		}
		return nil, c.s.d.ClearPenalty(p.Source, c.by)
	}},
	"reload": {admin: true, call: func(c *conn, _ json.RawMessage) (any, error) {
		return nil, c.s.d.Reload(c.by)
	}},
}

// decodeParams decodes a JSON object into p, refusing unknown fields (a
// misspelt "purge_mail" must not be ignored). Absent params or null are {}.
func decodeParams(raw json.RawMessage, p any) bool {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	if raw[0] != '{' {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(p) == nil
}

// orEmpty makes a nil list encode as [] rather than null.
func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
