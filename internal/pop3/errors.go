package pop3

import "errors"

// Error is a negative response that knows its wire form. Code is an RFC 2449
// §8 extended response code such as "IN-USE" or "SYS/TEMP" (empty for none);
// Text is what the client reads. Text must never carry raw client input, file
// paths or internal error strings.
type Error struct {
	Code string
	Text string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return "-ERR " + e.Text
	}
	return "-ERR [" + e.Code + "] " + e.Text
}

// Errors a Backend returns from Login.
var (
	// ErrAuth is the one answer to bad credentials, whether the user exists
	// or not (RFC 3206 §4 AUTH). The Backend should also take about the same
	// time for both.
	ErrAuth = &Error{Code: "AUTH", Text: "invalid user name or password"}
	// ErrInUse: the maildrop is locked by another session (RFC 2449 §8.1.1).
	ErrInUse = &Error{Code: "IN-USE", Text: "maildrop is locked by another session"}
	// ErrTemp is a transient server-side failure (RFC 3206 §5 SYS/TEMP).
	ErrTemp = &Error{Code: "SYS/TEMP", Text: "temporary server failure, try again later"}
	// ErrPerm is a permanent server-side failure (RFC 3206 §5 SYS/PERM).
	ErrPerm = &Error{Code: "SYS/PERM", Text: "the maildrop cannot be opened, contact the administrator"}
)

// protocol-level negative responses.
var (
	errUnknownCommand = &Error{Text: "unknown command"}
	errWrongState     = &Error{Text: "command not valid in this state"}
	errLineTooLong    = &Error{Text: "line too long (limit is 255 octets including CRLF)"}
	errNoSuchMessage  = &Error{Text: "no such message"}
	errDeleted        = &Error{Text: "message is deleted"}
	errVanished       = &Error{Code: "SYS/TEMP", Text: "message is no longer in the maildrop"}
	errUnreadable     = &Error{Code: "SYS/TEMP", Text: "message cannot be read now, try again later"}
	errSyntax         = &Error{Text: "syntax error"}
	errUserFirst      = &Error{Text: "send USER first"}
	errRPOP           = &Error{Text: "RPOP is not supported: it trusts the client's port; use USER and PASS"}
	errNotRemoved     = &Error{Code: "SYS/TEMP", Text: "some deleted messages not removed"}
)

// wireError is what the client sees for err: its own wire form when it is an
// *Error, else a generic SYS/TEMP that hides the details.
func wireError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return ErrTemp
}
