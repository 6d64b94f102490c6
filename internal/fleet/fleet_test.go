package fleet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"popd/internal/fleet"
)

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fleet.toml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const three = `
[[node]]
name = "pop1"
pop3 = "127.0.0.11:110"
control = "/run/popd/pop1.sock"

[[node]]
name = "pop2"
pop3 = "127.0.0.12:110"
control = "ssh://admin@10.0.0.12:2222/run/popd/control.sock"
proxy = true

[[node]]
name = "pop3"
pop3 = "[::1]:1110"
control = "ssh://10.0.0.13/run/popd/control.sock"
`

func TestLoad(t *testing.T) {
	f, err := fleet.Load(write(t, three))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Nodes) != 3 || f.Nodes[1].Name != "pop2" || !f.Nodes[1].Proxy || f.Nodes[2].AddrPort().Port() != 1110 {
		t.Fatalf("%+v", f.Nodes)
	}
	if _, _, _, ok := f.Nodes[0].SSH(); ok {
		t.Error("a path is not ssh://")
	}
	dest, port, path, ok := f.Nodes[1].SSH()
	if !ok || dest != "admin@10.0.0.12" || port != "2222" || path != "/run/popd/control.sock" {
		t.Errorf("SSH() = %q %q %q %v", dest, port, path, ok)
	}
	if dest, port, _, _ := f.Nodes[2].SSH(); dest != "10.0.0.13" || port != "" {
		t.Errorf("SSH() = %q %q", dest, port)
	}
}

func TestLoadRefuses(t *testing.T) {
	node := func(name, pop3, control string) string {
		return fmt.Sprintf("[[node]]\nname = %q\npop3 = %q\ncontrol = %q\n", name, pop3, control)
	}
	for content, want := range map[string]string{
		"":                                  "no [[node]]",
		node("a", "mail.example:110", "/s"): "want IP:port",
		node("a", "127.0.0.1", "/s"):        "want IP:port",
		node("", "127.0.0.1:110", "/s"):     "want a word",
		node("a b", "127.0.0.1:110", "/s"):  "want a word",
		node("a", "127.0.0.1:110", ""):      "no control socket",
		node("a", "127.0.0.1:110", "/s") + node("a", "127.0.0.2:110", "/t"): "named twice",
		node("a", "127.0.0.1:110", "ssh://host"):                            "ssh://[user@]host",
		node("a", "127.0.0.1:110", "/s") + "colour = \"red\"\n":             "unknown keys",
		"[[node]\n": "fleet:",
	} {
		_, err := fleet.Load(write(t, content))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", content, err, want)
		}
	}
}

// TestHome: every user has one home while the nodes are up; when a node
// is down only its users move, each to the same node wherever it is
// computed, and they go back when it is up again. The users spread over
// the nodes.
func TestHome(t *testing.T) {
	f, err := fleet.Load(write(t, three))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	down := map[string]bool{"pop2": true}
	upExcept := func(n *fleet.Node) bool { return !down[n.Name] }
	for i := range 3000 {
		user := fmt.Sprintf("user%d", i)
		home, ok := f.Home(user, nil)
		if !ok {
			t.Fatal("no home")
		}
		count[home.Name]++
		if again, _ := f.Home(user, func(*fleet.Node) bool { return true }); again != home {
			t.Fatalf("%s: home %s, then %s", user, home.Name, again.Name)
		}
		other, _ := f.Home(user, upExcept)
		if home.Name != "pop2" && other != home {
			t.Fatalf("%s moved from %s to %s when pop2 went down", user, home.Name, other.Name)
		}
		if other.Name == "pop2" {
			t.Fatalf("%s sent to a node that is down", user)
		}
	}
	for name, n := range count {
		if n < 800 || n > 1200 {
			t.Errorf("%s is home to %d of 3000 users", name, n)
		}
	}
	if _, ok := f.Home("x", func(*fleet.Node) bool { return false }); ok {
		t.Error("a home with every node down")
	}
}
