package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// poplibUTF8Script is a real RFC 6856 client: Python's poplib has utf8(),
// and sends commands in UTF-8. One session never says UTF8 and is refused
// the message with UTF-8 headers; the next says UTF8 first and gets it.
const poplibUTF8Script = `
import base64, json, poplib, sys
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {}
p = poplib.POP3(host, port, timeout=20)
out["capa"] = {k.upper(): v for k, v in p.capa().items()}
p.user(user)
p.pass_(pw)
out["list"] = [l.decode() for l in p.list()[1]]
try:
    p.retr(2)
    out["legacy"] = "sent"
except poplib.error_proto as e:
    out["legacy"] = e.args[0].decode()
p.quit()

p = poplib.POP3(host, port, timeout=20)
out["utf8"] = p.utf8().decode()
p.user(user)
p.pass_(pw)
resp, lines, octets = p.retr(2)
out["body"] = base64.b64encode(b"".join(l + b"\r\n" for l in lines)).decode()
out["octets"] = octets
p.quit()
json.dump(out, sys.stdout)
`

func TestPythonPoplibUTF8(t *testing.T) {
	t.Parallel()
	py := need(t, "python3")
	e := utf8Env(t)
	// The decomposed spellings: the server prepares both.
	out := runPython(t, py, poplibUTF8Script, e.addr, joseNFD, josePassNFD)
	var got struct {
		Capa   map[string][]string
		List   []string
		Legacy string
		UTF8   string
		Body   []byte // base64 in the JSON
		Octets int
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if args, ok := got.Capa["UTF8"]; !ok || len(args) != 1 || args[0] != "USER" {
		t.Errorf("poplib capa: UTF8 %q, %v", args, ok)
	}
	if len(got.List) != len(utf8Mail) {
		t.Errorf("poplib list %q", got.List)
	}
	if got.Legacy != needsUTF8 {
		t.Errorf("RETR without UTF8: %q", got.Legacy)
	}
	if !strings.HasPrefix(got.UTF8, "+OK") {
		t.Errorf("UTF8: %q", got.UTF8)
	}
	if string(got.Body) != utf8Mail[1].wire || got.Octets != len(utf8Mail[1].wire) {
		t.Errorf("RETR in UTF-8 mode: %q (%d octets), want %q", got.Body, got.Octets, utf8Mail[1].wire)
	}
}
