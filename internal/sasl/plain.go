package sasl

import "bytes"

// plainMech is PLAIN (RFC 4616).
type plainMech struct {
	state
	creds Credentials
	asked bool // the empty challenge was sent
}

func (m *plainMech) Next(response []byte) ([]byte, bool, error) {
	if err := m.start(response); err != nil {
		return m.fail(err)
	}
	// RFC 4616 §2: the client sends its message as the initial response or
	// after an empty challenge.
	if response == nil && !m.asked {
		m.asked = true
		return []byte{}, false, nil
	}
	// RFC 4616 §2:
	//	message   = [authzid] UTF8NUL authcid UTF8NUL passwd
	//	authcid   = 1*SAFE ; MUST accept up to 255 octets
	//	passwd    = 1*SAFE ; MUST accept up to 255 octets
	f := bytes.Split(response, []byte{0})
	if len(f) != 3 {
		return m.fail(malformed("PLAIN: not three NUL-separated fields"))
	}
	authzid, authcid, passwd := string(f[0]), string(f[1]), string(f[2])
	m.attempted = authcid
	if authcid == "" || passwd == "" {
		return m.fail(malformed("PLAIN: empty authentication identity or password"))
	}
	if !validIdentity(authzid) || !validIdentity(authcid) {
		return m.fail(malformed("PLAIN: identity not UTF-8"))
	}
	// RFC 4616 §2: with an authzid, the server checks that authcid may act
	// as it; popd lets users act only as themselves.
	if authzid != "" && authzid != authcid {
		return m.fail(ErrAuthz)
	}
	if err := m.creds.Verify(authcid, passwd); err != nil {
		return m.fail(authFailed(err))
	}
	return m.succeed(authcid)
}
