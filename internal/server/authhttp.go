package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"popd/internal/event"
	"popd/internal/fleet"
	"popd/internal/pop3"
	"popd/internal/userdb"
)

// nginx's mail proxy asks an HTTP server, for every login, whether the
// credentials are good and where to proxy the session
// (https://nginx.org/en/docs/mail/ngx_mail_auth_http_module.html): a GET
// whose headers say it all (Auth-Method, Auth-User, Auth-Pass, Auth-Salt,
// Auth-Protocol, Auth-Login-Attempt, Client-IP), answered in headers
// only (Auth-Status, Auth-Server, Auth-Port, Auth-Pass, Auth-Wait);
// nginx ignores the status line and the body.
//
// A failure's Auth-Status is shown to the client after "-ERR ". With
// Auth-Wait: n, nginx waits n seconds before it does, and lets the
// client try again; without it, nginx closes the connection. nginx keeps
// memory for every attempt of a session until it ends, so its docs ask
// for no Auth-Wait "after 10-20 attempts" (Auth-Login-Attempt counts
// them).
const (
	// authHTTPMaxAttempts caps the attempts per connection: the low end
	// of nginx's 10-20. Below it, max-auth-failures rules, as it does for
	// a direct session.
	authHTTPMaxAttempts = 10
	// authHTTPMaxHeaderBytes bounds a request's header. nginx's is a few
	// hundred bytes: a name, a password (escaped: at most three times its
	// 1024 bytes), and a client certificate of a few KiB with
	// auth_http_pass_client_cert.
	authHTTPMaxHeaderBytes = 16 << 10
	// maxProxiedPassword is the longest {PLAIN} password handed back to
	// nginx for APOP and CRAM-MD5: nginx reads the whole response header
	// into 1024 bytes, and the rest of it takes about 150.
	maxProxiedPassword = 768
)

// The Auth-Status values of failures other than bad credentials
// (pop3.ErrAuth) or no node up (pop3.ErrTemp).
var (
	// errProxyRequest: a request that nginx would not send, or a login
	// that cannot be proxied. Nothing the client can change.
	errProxyRequest = &pop3.Error{Code: "SYS/PERM", Text: "this login cannot be proxied, contact the administrator"}
	// errProxyMethod: nginx offered a method popd does not check
	// (external): as for an AUTH mechanism popd does not offer.
	errProxyMethod = &pop3.Error{Text: "unsupported authentication mechanism"}
)

// AuthHTTP returns the handler of nginx's auth_http requests: it checks the
// credentials against the users file as a direct login would (the same
// schemes, penalties and log lines, keyed by the client's address from
// Client-IP), and sends a good login to the user's home node: by
// fleet.Home over the nodes for which up is true. Methods: plain (Auth-Pass
// is the password), apop (Auth-Salt is the greeting's timestamp, Auth-Pass
// the digest) and cram-md5 (Auth-Salt is the challenge, Auth-Pass the
// response). apop and cram-md5 need -apop and a {PLAIN} user; the answer
// then gives nginx the password (Auth-Pass), for it logs in to the node
// with USER and PASS.
//
// A failure is answered with Auth-Wait set to the source's penalty delay
// (at least 1 s), for nginx to wait: the handler itself waits only as long
// as the slowest password check of late, so that the time does not tell
// which names exist. Up to max-auth-failures attempts (10 at most) it asks
// nginx for the next one; then nginx closes. With no node up, the answer is
// "[SYS/TEMP]" without Auth-Wait: nginx says so and closes, and the client
// tries again later.
//
// With a key (auth-http-key), a request must carry it in AuthHTTPKeyHeader
// (nginx: auth_http_header), or it is refused (403) unanswered: without
// one, whoever reaches the endpoint can try passwords under any Client-IP.
func (s *Server) AuthHTTP(f *fleet.Fleet, up func(*fleet.Node) bool, key []byte) http.Handler {
	return &authHTTP{s: s, fleet: f, up: up, key: key}
}

// AuthHTTPKeyHeader carries the auth-http-key in nginx's requests:
// auth_http_header X-Popd-Key "...";
const AuthHTTPKeyHeader = "X-Popd-Key"

// minAuthHTTPKey is the shortest key ReadAuthHTTPKey takes.
const minAuthHTTPKey = 16

// ReadAuthHTTPKey reads the auth-http-key file: the key on its first line
// (at least 16 characters, printable, no quote, as it goes into nginx.conf
// between quotes), in a file neither group nor others may read.
func ReadAuthHTTPKey(path string) ([]byte, error) {
	data, err := readSecretFile("auth-http-key", path, "the key of the auth_http endpoint", 4096)
	if err != nil {
		return nil, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	key := strings.TrimSpace(line)
	if len(key) < minAuthHTTPKey || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
		return nil, fmt.Errorf("server: auth-http-key %s: want a key of at least %d printable characters, without quotes or backslashes, on the first line (e.g. openssl rand -hex 32)", path, minAuthHTTPKey)
	}
	return []byte(key), nil
}

// NewAuthHTTPServer returns an HTTP server for h (an AuthHTTP handler)
// with the request header bounded and every phase timed out.
func NewAuthHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    authHTTPMaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second, // the check, and the wait of a failure
		IdleTimeout:       30 * time.Second, // nginx sends HTTP/1.0, one request a connection
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

type authHTTP struct {
	s     *Server
	fleet *fleet.Fleet
	up    func(*fleet.Node) bool
	key   []byte // auth-http-key; nil for none
}

// authRequest is what nginx asks.
type authRequest struct {
	method  string // plain, apop or cram-md5
	user    string
	pass    string     // the password, or the APOP or CRAM-MD5 digest
	salt    string     // the APOP timestamp or the CRAM-MD5 challenge
	attempt int        // of this connection, from 1
	client  netip.Addr // Client-IP
}

func (h *authHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["Date"] = nil // nginx reads 1024 bytes of response header
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if h.key != nil && subtle.ConstantTimeCompare([]byte(r.Header.Get(AuthHTTPKeyHeader)), h.key) != 1 {
		h.s.log.Warn("auth_http: request without the right "+AuthHTTPKeyHeader+" refused", "from", r.RemoteAddr)
		answer(w, http.StatusForbidden, errProxyRequest)
		return
	}
	start := time.Now()
	req, err := parseAuthRequest(r.Header)
	if err != nil {
		h.s.log.Warn("auth_http: request refused", "from", r.RemoteAddr, "err", err)
		reply := errProxyRequest
		if errors.Is(err, errUnsupportedMethod) {
			reply = errProxyMethod
		}
		answer(w, http.StatusBadRequest, reply)
		return
	}
	u, secret, ok := h.check(req)
	if !ok {
		h.fail(w, r, req, start)
		return
	}
	// The credentials were right, whatever comes next (as in backend.open).
	h.s.be.penalties.clearFor(sourceIP(req.client), u.Name)
	if req.method != "plain" && len(secret) > maxProxiedPassword {
		h.s.log.Error("auth_http: the password is too long to hand to nginx; use plain", "user", u.Name, "method", req.method)
		answer(w, http.StatusOK, errProxyRequest)
		return
	}
	node, ok := h.fleet.Home(u.Name, h.up)
	if !ok {
		h.s.log.Warn("auth_http: no fleet node is up; login refused for now", "user", u.Name, "remote", req.client.String())
		answer(w, http.StatusOK, pop3.ErrTemp)
		return
	}
	ap := node.AddrPort()
	hdr := w.Header()
	hdr.Set("Auth-Status", "OK")
	hdr.Set("Auth-Server", ap.Addr().WithZone("").String()) // nginx wants a bare IP
	hdr.Set("Auth-Port", strconv.Itoa(int(ap.Port())))
	if req.method != "plain" {
		hdr.Set("Auth-Pass", secret)
	}
	w.WriteHeader(http.StatusOK)
	h.s.log.Info("proxied login", "user", u.Name, "method", req.method, "remote", req.client.String(), "node", node.Name)
}

// check checks the credentials; secret is the password itself, for apop
// and cram-md5.
func (h *authHTTP) check(req authRequest) (u userdb.User, secret string, ok bool) {
	b := h.s.be
	switch req.method {
	case "plain":
		u, err := b.checkPassword(req.user, req.pass)
		return u, "", err == nil
	case "apop":
		u, ok = b.checkAPOP(req.user, req.salt, strings.ToLower(req.pass))
	case "cram-md5":
		u, ok = b.checkCRAM(req.user, req.salt, req.pass)
	}
	if ok && !b.settings().apop {
		h.s.log.Warn("auth_http: apop and cram-md5 need -apop; login refused", "user", u.Name, "method", req.method)
		ok = false
	}
	if !ok {
		return userdb.User{}, "", false
	}
	secret, _ = u.Plaintext()
	return u, secret, true
}

// fail answers a failed login as backend.failed would, but leaves the
// penalty's wait to nginx (Auth-Wait).
func (h *authHTTP) fail(w http.ResponseWriter, r *http.Request, req authRequest, start time.Time) {
	b := h.s.be
	delay, note := b.penalize(sourceIP(req.client), req.user)
	name, remote := pop3.LogName(req.user), req.client.String()
	pop3.LogFailedLogin(h.s.log, pop3.ErrAuth.Code, remote, req.method, req.user, "via", "auth_http")
	h.s.emit(event.Event{Type: event.LoginFailed, User: name, Remote: remote, Reason: pop3.ErrAuth.Code, Method: req.method})
	b.announce(note) // after the failure it is for
	after := b.checks.slowest()
	if f := b.onFailure.Load(); f != nil {
		(*f)(req.user, after)
	}
	wait(r.Context(), start.Add(after))
	if req.attempt < h.maxAttempts() {
		w.Header().Set("Auth-Wait", strconv.Itoa(max(1, int(math.Ceil(delay.Seconds())))))
	}
	answer(w, http.StatusOK, pop3.ErrAuth)
}

// maxAttempts is the attempt of a connection after which nginx is to
// close it: max-auth-failures, as a direct session hangs up then, and
// never more than nginx's docs allow.
func (h *authHTTP) maxAttempts() int {
	return min(max(h.s.pop3.Load().MaxAuthFailures, 1), authHTTPMaxAttempts)
}

// answer sends e as the Auth-Status: its wire form, without the "-ERR "
// that nginx puts before it.
func answer(w http.ResponseWriter, code int, e *pop3.Error) {
	w.Header().Set("Auth-Status", strings.TrimPrefix(e.Error(), "-ERR "))
	w.WriteHeader(code)
}

// errUnsupportedMethod: an Auth-Method popd does not check.
var errUnsupportedMethod = errors.New("unsupported Auth-Method")

// parseAuthRequest reads nginx's request headers. Every one it needs must
// be there, once. nginx URL-escapes Auth-User and Auth-Pass (space, "%",
// control characters).
func parseAuthRequest(hdr http.Header) (authRequest, error) {
	var req authRequest
	h := headers{h: hdr}
	if p := h.get("Auth-Protocol"); h.err == nil && p != "pop3" {
		return req, fmt.Errorf("Auth-Protocol %q: popd serves pop3", pop3.LogName(p))
	}
	switch req.method = h.get("Auth-Method"); req.method {
	case "plain":
	case "apop", "cram-md5":
		req.salt = h.get("Auth-Salt")
	default:
		if h.err == nil {
			return req, fmt.Errorf("%w %q (popd checks plain, apop and cram-md5)", errUnsupportedMethod, pop3.LogName(req.method))
		}
	}
	var err error
	if req.user, err = url.PathUnescape(h.get("Auth-User")); err != nil {
		return req, errors.New("Auth-User: bad escape")
	}
	if req.pass, err = url.PathUnescape(h.get("Auth-Pass")); err != nil {
		return req, errors.New("Auth-Pass: bad escape") // never the password itself
	}
	attempt := h.get("Auth-Login-Attempt")
	client := h.get("Client-IP")
	if h.err != nil {
		return req, h.err
	}
	if req.attempt, err = strconv.Atoi(attempt); err != nil || req.attempt < 1 {
		return req, fmt.Errorf("Auth-Login-Attempt %q: want a number from 1", pop3.LogName(attempt))
	}
	if req.client, err = netip.ParseAddr(client); err != nil {
		return req, fmt.Errorf("Client-IP %q: want an IP address", pop3.LogName(client))
	}
	return req, nil
}

// headers reads request headers and keeps the first error.
type headers struct {
	h   http.Header
	err error
}

// get returns the value of the header name, which must be given once.
func (h *headers) get(name string) string {
	if h.err != nil {
		return ""
	}
	switch v := h.h.Values(name); len(v) {
	case 1:
		return v[0]
	case 0:
		h.err = fmt.Errorf("no %s header", name)
	default:
		h.err = fmt.Errorf("%s header given %d times", name, len(v))
	}
	return ""
}
