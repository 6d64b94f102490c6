package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrClosed is returned by calls on a Client that was closed, or that
// closed itself after an interrupted call or a broken connection.
var ErrClosed = errors.New("control: connection closed")

// Client is a connection to popd's control socket. Its methods are safe
// for concurrent use; calls are serialised (one request on the wire at a
// time, each waiting for its answer).
type Client struct {
	name  string // the socket's path or address, for errors
	nc    clientConn
	dec   *json.Decoder
	hello Hello
	// redial opens another Client to the same socket, for Events; nil
	// when there is no way to (NewClient).
	redial func(ctx context.Context) (*Client, error)

	mu     sync.Mutex // held for a whole call
	nextID int64
	err    error // why the connection is unusable; guarded by mu

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	backlog atomic.Int64 // past events Events asks for
}

// defaultHelloTimeout bounds Dial's hello exchange when ctx has no deadline.
const defaultHelloTimeout = 10 * time.Second

// Dial connects to the control socket at path and exchanges hellos. The
// errors say what went wrong: no socket ("popd is not running?"), a
// refusal (with popd's message, wrapping the *Error), a protocol version
// mismatch (wrapping an *Error with code "unsupported-version").
func Dial(ctx context.Context, path string) (*Client, error) {
	nc, err := Connect(ctx, path)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, nc, path)
	if err != nil {
		return nil, err
	}
	c.redial = func(ctx context.Context) (*Client, error) { return Dial(ctx, path) }
	return c, nil
}

// Connect opens a connection to the control socket at path and says
// nothing on it: for a program that passes the protocol on (popadm
// dial-stdio). Its errors are Dial's.
func Connect(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, dialError(path, err)
	}
	return nc, nil
}

// NewClient is Dial over rwc, a stream to a control socket that was
// opened some other way: the standard input and output of "ssh host
// popadm dial-stdio PATH". name (the socket's address) names it in errors.
// On an error rwc is closed. A stream without deadlines of its own (a
// net.Conn has them) is closed when a call's context ends before its
// answer, which closes the Client anyway. Events needs a second stream, so
// it fails on such a Client unless DialWith made it.
func NewClient(ctx context.Context, rwc io.ReadWriteCloser, name string) (*Client, error) {
	nc, ok := rwc.(clientConn)
	if !ok {
		nc = newStreamConn(rwc)
	}
	return newClient(ctx, nc, name)
}

// DialWith returns dial's Client, which calls dial again for each of its
// Events: how a Client made by NewClient gets its second connection.
func DialWith(ctx context.Context, dial func(context.Context) (*Client, error)) (*Client, error) {
	c, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	c.redial = dial
	return c, nil
}

// newClient exchanges hellos on nc, and closes it on an error.
func newClient(ctx context.Context, nc clientConn, name string) (*Client, error) {
	c := &Client{name: name, nc: nc, dec: json.NewDecoder(nc)}
	if err := c.handshake(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func dialError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("control: popd is not running? no control socket at %s", path)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("control: popd is not running? nothing answers on %s", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("control: no permission to use %s (popd's admin and monitor groups may)", path)
	}
	return fmt.Errorf("control: %w", err)
}

func (c *Client) handshake(ctx context.Context) error {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(defaultHelloTimeout)
	}
	c.nc.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	// A refused peer may find the connection closed before its hello is
	// written; what popd said first is still there to read.
	werr := writeFrame(c.nc, Hello{Hello: helloWord, Version: Version})
	var h struct {
		Hello
		Error *Error `json:"error"`
	}
	if err := c.dec.Decode(&h); err != nil {
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("control: %s: %w", c.name, ctx.Err())
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("control: %s: no hello from popd in time", c.name)
		case werr != nil:
			return fmt.Errorf("control: %s: %w", c.name, werr)
		case errors.Is(err, io.EOF):
			return fmt.Errorf("control: %s: closed without a hello", c.name)
		}
		return fmt.Errorf("control: %s: no hello: %w", c.name, err)
	}
	switch {
	case h.Error != nil:
		return fmt.Errorf("control: %s: %w", c.name, h.Error)
	case h.Hello.Hello != helloWord:
		return fmt.Errorf("control: %s does not speak the popd control protocol", c.name)
	case h.Version != Version:
		return fmt.Errorf("control: %s: %w", c.name, &Error{Code: CodeUnsupportedVersion,
			Message: fmt.Sprintf("popd speaks control protocol version %d, this program version %d; use the popadm that came with popd", h.Version, Version)})
	}
	c.hello = h.Hello
	c.nc.SetDeadline(time.Time{})
	return nil
}

// Role is the role popd gave this client: RoleAdmin or RoleMonitor.
func (c *Client) Role() string { return c.hello.Role }

// ServerVersion is popd's version, from its hello.
func (c *Client) ServerVersion() string { return c.hello.Server }

// Close closes the connection; a call in progress fails.
func (c *Client) Close() error {
	c.closed.Store(true)
	c.closeOnce.Do(func() { c.closeErr = c.nc.Close() })
	return c.closeErr
}

// Call sends one request and waits for its answer, decoding the result
// into result (which may be nil). Errors from popd are *Error. When ctx
// ends before the answer, or the connection fails, the Client is closed:
// later calls return an error wrapping ErrClosed.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	var raw json.RawMessage
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return fmt.Errorf("control: %s params: %w", method, err)
		}
		raw = b
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() && c.err == nil {
		c.err = ErrClosed
	}
	if c.err != nil {
		return c.err
	}

	// The deadline follows ctx; a cancel sets a past one, which stops a
	// read or write in progress.
	if dl, ok := ctx.Deadline(); ok {
		c.nc.SetDeadline(dl)
	} else {
		c.nc.SetDeadline(time.Time{})
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		c.nc.SetDeadline(time.Unix(1, 0))
	})
	defer func() {
		if !stop() {
			<-fired // not to race with the next call's SetDeadline
		}
	}()

	c.nextID++
	id := c.nextID
	if err := writeFrame(c.nc, Request{ID: id, Method: method, Params: raw}); err != nil {
		// popd may have closed the connection saying why first (it was
		// idle too long): that is still there to read, at once.
		c.nc.SetReadDeadline(time.Now().Add(time.Second))
		var last Response
		if c.dec.Decode(&last) == nil && last.ID == 0 && last.Error != nil {
			c.fail(ctx, method, last.Error)
			return last.Error
		}
		return c.fail(ctx, method, err)
	}
	var resp Response
	if err := c.dec.Decode(&resp); err != nil {
		return c.fail(ctx, method, err)
	}
	if resp.ID != id {
		if resp.Error != nil && resp.ID == 0 { // popd refused the frame and closes
			c.fail(ctx, method, resp.Error)
			return resp.Error
		}
		return c.fail(ctx, method, fmt.Errorf("answer %d to request %d", resp.ID, id))
	}
	if resp.Error != nil {
		return resp.Error
	}
	if result != nil && len(resp.Result) > 0 {
		if err := json.Unmarshal(resp.Result, result); err != nil {
			return fmt.Errorf("control: %s result: %w", method, err)
		}
	}
	return nil
}

// fail closes the connection after a call went wrong and returns why.
func (c *Client) fail(ctx context.Context, method string, err error) error {
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Only ctx sets deadlines; the timer of its own may not have fired yet.
		err = context.DeadlineExceeded
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		err = errors.New("popd closed the connection")
	case c.closed.Load():
		err = ErrClosed
	}
	c.err = fmt.Errorf("%w (after a failed %s)", ErrClosed, method)
	c.Close()
	if errors.Is(err, ErrClosed) {
		return err
	}
	return fmt.Errorf("control: %s: %w", method, err)
}

// Events opens a second connection, subscribes to popd's events on it,
// and returns them on a channel. The channel is closed when ctx is done or
// the connection ends (popd stopped, or the stream failed). Events of type
// EventDropped tell that this subscriber was too slow and lost Count
// events. Subscribe resumes a stream where another one ended.
func (c *Client) Events(ctx context.Context) (<-chan Event, error) {
	ch, _, err := c.Subscribe(ctx, Cursor{})
	return ch, err
}

// SetEventBacklog makes later Events streams start with up to n of the
// events popd published before (at most Backlog); 0, the default, streams
// only what happens from now on.
func (c *Client) SetEventBacklog(n int) { c.backlog.Store(int64(n)) }

// Sessions lists the live POP3 sessions ("who").
func (c *Client) Sessions(ctx context.Context) ([]Session, error) {
	var v []Session
	return v, c.Call(ctx, "who", nil, &v)
}

// Stats returns popd's counters.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	var v Stats
	return v, c.Call(ctx, "stats", nil, &v)
}

// Users lists the users with their maildrops.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var v []User
	return v, c.Call(ctx, "users", nil, &v)
}

// Locks lists the held maildrop locks.
func (c *Client) Locks(ctx context.Context) ([]Lock, error) {
	var v []Lock
	return v, c.Call(ctx, "locks", nil, &v)
}

// Penalties lists the sources slowed down by failed logins.
func (c *Client) Penalties(ctx context.Context) ([]Penalty, error) {
	var v []Penalty
	return v, c.Call(ctx, "penalties", nil, &v)
}

// Kick ends the session id without UPDATE (admin).
func (c *Client) Kick(ctx context.Context, id string) error {
	return c.Call(ctx, "kick", idParams{ID: id}, nil)
}

// KickUser ends every session of user and returns how many (admin).
func (c *Client) KickUser(ctx context.Context, user string) (int, error) {
	var v kickedResult
	err := c.Call(ctx, "kick_user", userParams{User: user}, &v)
	return v.Kicked, err
}

// AddUser adds a user to the users file (admin).
func (c *Client) AddUser(ctx context.Context, name, password string) error {
	return c.Call(ctx, "user_add", passwordParams{Name: name, Password: password}, nil)
}

// SetPassword changes a user's password (admin).
func (c *Client) SetPassword(ctx context.Context, name, password string) error {
	return c.Call(ctx, "user_passwd", passwordParams{Name: name, Password: password}, nil)
}

// DeleteUser removes a user, and their mail when purgeMail (admin).
func (c *Client) DeleteUser(ctx context.Context, name string, purgeMail bool) error {
	return c.Call(ctx, "user_del", deleteParams{Name: name, PurgeMail: purgeMail}, nil)
}

// SetDisabled disables or enables a user (admin).
func (c *Client) SetDisabled(ctx context.Context, name string, disabled bool) error {
	return c.Call(ctx, "user_disable", disableParams{Name: name, Disabled: &disabled}, nil)
}

// Unlock breaks the lock on a user's maildrop (admin).
func (c *Client) Unlock(ctx context.Context, user string) error {
	return c.Call(ctx, "unlock", userParams{User: user}, nil)
}

// ClearPenalty forgets the failed logins of source, an address or prefix
// (admin).
func (c *Client) ClearPenalty(ctx context.Context, source string) error {
	return c.Call(ctx, "penalty_clear", sourceParams{Source: source}, nil)
}

// Reload makes popd read its users file and certificate again (admin).
func (c *Client) Reload(ctx context.Context) error {
	return c.Call(ctx, "reload", nil, nil)
}
