package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// cramMD5 is CRAM-MD5 (RFC 2195).
type cramMD5 struct {
	state
	creds     Credentials
	nonce     func() string
	host      string
	now       func() time.Time // time.Now; tests fix it
	challenge []byte           // nil until sent
}

// cramDummySecret stands in for the secret of a user who has none, so that
// the work done does not tell.
const cramDummySecret = "popd-cram-md5-dummy-secret"

func newCRAMMD5(creds Credentials, nonce func() string, host string) *cramMD5 {
	return &cramMD5{creds: creds, nonce: nonce, host: host, now: time.Now}
}

func (m *cramMD5) Next(response []byte) ([]byte, bool, error) {
	if err := m.start(response); err != nil {
		return m.fail(err)
	}
	if m.challenge == nil {
		// RFC 2195 §2 / RFC 4422 §5: CRAM-MD5 is server-first; an initial
		// response is a protocol error.
		if response != nil {
			return m.fail(malformed("CRAM-MD5: initial response not allowed"))
		}
		// RFC 2195 §2: the challenge is a msg-id, "<random.timestamp@host>".
		n := m.nonce()
		if !validNonce(n) {
			return m.fail(errors.New("sasl: CRAM-MD5: invalid server nonce"))
		}
		m.challenge = []byte("<" + n + "." + strconv.FormatInt(m.now().Unix(), 10) + "@" + m.host + ">")
		return m.challenge, false, nil
	}
	// RFC 2195 §2: the response is the user name, a space, and the
	// HMAC-MD5 digest of the challenge keyed with the shared secret, in
	// lowercase hex. The name may itself contain spaces: cut at the last.
	i := bytes.LastIndexByte(response, ' ')
	if i <= 0 {
		return m.fail(malformed("CRAM-MD5: no user name"))
	}
	user, hexDigest := string(response[:i]), response[i+1:]
	m.attempted = user
	if !validIdentity(user) {
		return m.fail(malformed("CRAM-MD5: user name not UTF-8"))
	}
	digest := make([]byte, md5.Size)
	if len(hexDigest) != 2*md5.Size {
		return m.fail(malformed("CRAM-MD5: digest is not 32 hex digits"))
	}
	if _, err := hex.Decode(digest, hexDigest); err != nil {
		return m.fail(malformed("CRAM-MD5: digest is not 32 hex digits"))
	}
	secret, ok := m.creds.Plaintext(user)
	if !ok {
		// Do the same work for a user without a usable secret.
		secret = cramDummySecret
	}
	mac := hmac.New(md5.New, []byte(secret))
	mac.Write(m.challenge)
	match := hmac.Equal(mac.Sum(nil), digest)
	if !ok || !match {
		return m.fail(ErrAuthFailed)
	}
	return m.succeed(user)
}
