package control

import (
	"context"
	"encoding/json"
)

// UserDetails is one user as the console's drill-down shows them: their
// line of the users list, how they last logged in, who holds their
// maildrop's lock, and their live sessions on this popd.
type UserDetails struct {
	User
	// LastLoginFrom and LastLoginMethod are the client's address and the
	// method of the last login (User.LastLogin), when one is known.
	LastLoginFrom   string `json:"last_login_from,omitempty"`
	LastLoginMethod string `json:"last_login_method,omitempty"`
	// Lock is the maildrop's lock, nil when it is not held. Its Session is
	// set when a session of this popd holds it.
	Lock     *Lock     `json:"lock,omitempty"`
	Sessions []Session `json:"sessions"`
}

// UserDetailer is a Daemon that gives one user's details (popd is one).
// The "user" method needs it.
type UserDetailer interface {
	// UserDetails is name's details; an unknown user is an *Error with
	// code "not-found".
	UserDetails(name string) (UserDetails, error)
}

// DeleteOptions say what deleting a user does besides.
type DeleteOptions struct {
	// PurgeMail removes their maildrop too. It ends their sessions first:
	// a session holds the maildrop's lock.
	PurgeMail bool `json:"purge_mail"`
	// KeepSessions leaves their live sessions to run to their end (no
	// new login is accepted). Without it, as without PurgeMail, they are
	// ended. A purge ends them anyway.
	KeepSessions bool `json:"keep_sessions,omitempty"`
}

// UserDeleter is a Daemon that deletes a user with DeleteOptions (popd is
// one); "user_del" with "keep_sessions" needs it.
type UserDeleter interface {
	DeleteUserWith(name string, opt DeleteOptions, by string) error
}

type userDelParams struct {
	Name string `json:"name"`
	DeleteOptions
}

// userDelShape is user_del's params, for the bad-request message.
const userDelShape = `{"name":string,"purge_mail"?:bool,"keep_sessions"?:bool}`

// userDel is the "user_del" method.
func userDel(c *conn, raw json.RawMessage) (any, error) {
	var p userDelParams
	if !decodeParams(raw, &p) || p.Name == "" {
		return nil, errBadParams
	}
	if !p.KeepSessions {
		return nil, c.s.d.DeleteUser(p.Name, p.PurgeMail, c.by)
	}
	ud, ok := c.s.d.(UserDeleter)
	if !ok {
		return nil, &Error{Code: CodeBadRequest, Message: "this popd cannot keep a deleted user's sessions"}
	}
	return nil, ud.DeleteUserWith(p.Name, p.DeleteOptions, c.by)
}

// userDetails is the "user" method.
func userDetails(c *conn, raw json.RawMessage) (any, error) {
	var p userParams
	if !decodeParams(raw, &p) || p.User == "" {
		return nil, errBadParams
	}
	ud, ok := c.s.d.(UserDetailer)
	if !ok {
		return nil, &Error{Code: CodeBadRequest, Message: "this popd does not give a user's details"}
	}
	d, err := ud.UserDetails(p.User)
	if err != nil {
		return nil, err
	}
	d.Sessions = orEmpty(d.Sessions)
	return d, nil
}

// UserDetails returns one user's details: their maildrop, lock, last
// login and live sessions (UserDetailer).
func (c *Client) UserDetails(ctx context.Context, name string) (UserDetails, error) {
	var v UserDetails
	return v, c.Call(ctx, "user", userParams{User: name}, &v)
}

// DeleteUserWith removes a user as opt says (admin).
func (c *Client) DeleteUserWith(ctx context.Context, name string, opt DeleteOptions) error {
	return c.Call(ctx, "user_del", userDelParams{Name: name, DeleteOptions: opt}, nil)
}
