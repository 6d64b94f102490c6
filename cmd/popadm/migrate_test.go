package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"popd/internal/testutil/site"
)

// TestMigrateCheck: popadm migrate check, offline, on maildirs Dovecot
// served: what is kept, what is new, what would change and why, and the
// exit status.
func TestMigrateCheck(t *testing.T) {
	st := site.New(t, []site.Account{{Name: "alice", Pass: "a", Scheme: "PLAIN"}, {Name: "bob", Pass: "b", Scheme: "PLAIN"}})
	a := st.Deliver(t, "alice", "one\n")
	b := st.Deliver(t, "alice", "two\n")
	st.Deliver(t, "alice", "three\n") // after Dovecot's last look: new
	os.WriteFile(filepath.Join(st.Maildir("alice"), "dovecot-uidlist"),
		[]byte("3 V1700000000 N3 G3085f01b8e2a5a6582190000d9ba4bf0\n1 :"+a+"\n2 Pkept-as-is :"+b+"\n"), 0o600)
	st.Deliver(t, "bob", "qmail\n") // no list: its file name, as qmail-pop3d
	args := []string{"migrate", "check", "--users", st.Cfg.Users, "--maildir", st.Cfg.Maildir}

	r := run(t, append(args, "--all")...)
	r.want(t, 0, `(?s)alice +dovecot +3 +2 +1 +0.*bob +qmail +1 +1 +0 +0.*total +4 +3 +1 +0.*Every UIDL the previous server gave is kept`)

	// %m cannot be computed for Maildir: Dovecot's UIDLs are not known.
	r = run(t, append(args, "--pop3-uidl-format", "%m", "alice")...)
	r.want(t, 1, `alice: (new|cur)/.*: was \?, popd gives .*%m is mbox-only`)

	// popd already showed another UIDL for a message (popd-uidls).
	os.WriteFile(filepath.Join(st.Maildir("alice"), "popd-uidls"),
		[]byte("popd-uidls 1\n"+a+"\tshown-before\nend 1\n"), 0o600)
	r = run(t, append(args, "--json", "alice")...)
	var rows []migrateRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || r.code != 1 {
		t.Fatalf("exit %d, %v: %s", r.code, err, r.stdout)
	}
	if c := rows[0].Changes; len(c) != 1 || c[0].Now != "shown-before" || !strings.Contains(c[0].Why, "popd already showed") {
		t.Errorf("changes %+v", c)
	}

	r = run(t, append(args, "--from", "mbox", "alice")...)
	r.want(t, 2, "")
	r = run(t, append(args, "nobody")...)
	r.want(t, 1, "")
	r = run(t, args...)
	r.want(t, 2, "")
}
