package control_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
)

// "user" gives one user's details, to monitors too; its params are
// checked like every method's.
func TestUserDetails(t *testing.T) {
	d := controltest.NewDaemon()
	since := time.Date(2025, 3, 14, 11, 0, 0, 0, time.UTC)
	d.PutUser(control.User{Name: "alice", Scheme: "BLF-CRYPT", Messages: 3, Octets: 3000, Locked: true, LastLogin: since}, "pw")
	d.PutUser(control.User{Name: "bob"}, "pw")
	d.PutUser(control.User{Name: "carol"}, "pw")
	d.AddSession(control.Session{ID: "7", User: "alice", Locked: true, Since: since})
	d.AddSession(control.Session{ID: "8", User: "bob"})
	d.AddLock(control.Lock{User: "alice", Session: "7", Owner: "popd session 7", Since: since})
	path, _ := serve(t, d, "", func(s *control.Server) {
		control.SetRoleFunc(s, func(uint32, uint32) (string, bool) { return control.RoleMonitor, true })
	})
	c := dial(t, path)
	got, err := c.UserDetails(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "alice" || got.Messages != 3 || !got.LastLogin.Equal(since) || got.Lock == nil || got.Lock.Session != "7" ||
		len(got.Sessions) != 1 || got.Sessions[0].ID != "7" {
		t.Fatalf("alice's details: %+v", got)
	}
	if got, err := c.UserDetails(t.Context(), "dave"); !hasErrCode(err, control.CodeNotFound) {
		t.Fatalf("an unknown user: %+v, %v", got, err)
	}

	r, _ := dialRaw(t, path, true)
	for i, req := range []string{
		`{"id":1,"method":"user"}`,
		`{"id":2,"method":"user","params":{"user":""}}`,
		`{"id":3,"method":"user","params":{"name":"alice"}}`,
		`{"id":4,"method":"user","params":["alice"]}`,
	} {
		r.send(req)
		r.expectError(int64(i+1), "bad-request")
	}
	// Carol has no session: [] rather than null.
	r.send(`{"id":5,"method":"user","params":{"user":"carol"}}`)
	var resp struct {
		ID     int64
		Result map[string]any
	}
	r.read(&resp)
	if s, ok := resp.Result["sessions"].([]any); !ok || len(s) != 0 {
		t.Errorf("carol's sessions: %#v", resp.Result["sessions"])
	}
}

// user_del takes keep_sessions; a monitor may not delete.
func TestUserDelKeepSessions(t *testing.T) {
	d := controltest.NewDaemon()
	d.PutUser(control.User{Name: "alice"}, "pw")
	d.PutUser(control.User{Name: "bob"}, "pw")
	path, _ := serve(t, d, "", nil)
	c := dial(t, path)
	if err := c.DeleteUserWith(t.Context(), "alice", control.DeleteOptions{KeepSessions: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(t.Context(), "bob", true); err != nil {
		t.Fatal(err)
	}
	calls := d.Calls()
	if len(calls) != 2 || !strings.HasPrefix(calls[0], "user_del alice purge=false keep_sessions=true by ") ||
		!strings.HasPrefix(calls[1], "user_del bob purge=true by ") {
		t.Fatalf("calls %q", calls)
	}

	mon, _ := serve(t, controltest.NewDaemon(), "", func(s *control.Server) {
		control.SetRoleFunc(s, func(uint32, uint32) (string, bool) { return control.RoleMonitor, true })
	})
	if err := dial(t, mon).DeleteUserWith(t.Context(), "alice", control.DeleteOptions{KeepSessions: true}); !hasErrCode(err, control.CodeForbidden) {
		t.Fatalf("a monitor deleting: %v", err)
	}
}

func hasErrCode(err error, code control.ErrorCode) bool {
	var ce *control.Error
	return errors.As(err, &ce) && ce.Code == code
}
