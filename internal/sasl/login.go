package sasl

// loginMech is LOGIN (draft-murchison-sasl-login-00): the server asks for the
// user name, then for the password, each sent as is.
type loginMech struct {
	state
	creds Credentials
	step  int // 0: nothing yet; 1: "Username:" sent; 2: "Password:" sent
	name  string
}

// The prompts, exactly as deployed servers send them: some clients compare
// them, although the draft says the client should ignore them.
var (
	loginUsername = []byte("Username:")
	loginPassword = []byte("Password:")
)

func (m *loginMech) Next(response []byte) ([]byte, bool, error) {
	if err := m.start(response); err != nil {
		return m.fail(err)
	}
	switch m.step {
	case 0:
		m.step = 1
		if response == nil {
			return loginUsername, false, nil
		}
		// draft-murchison-sasl-login §2.1: the initial response, if any,
		// is the user name.
		fallthrough
	case 1:
		name := string(response)
		if name == "" || !validIdentity(name) {
			return m.fail(malformed("LOGIN: empty or invalid user name"))
		}
		m.name, m.step, m.attempted = name, 2, name
		return loginPassword, false, nil
	default:
		if err := m.creds.Verify(m.name, string(response)); err != nil {
			return m.fail(authFailed(err))
		}
		return m.succeed(m.name)
	}
}
