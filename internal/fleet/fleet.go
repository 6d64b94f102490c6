// Package fleet describes several popd nodes that serve one site behind a
// proxy (nginx's mail module): the fleet file, and which node is a user's
// home.
//
// The fleet file is TOML, one [[node]] table per node:
//
//	[[node]]
//	name = "pop1"                  # unique; shown in the console's NODE column
//	pop3 = "10.0.0.11:110"         # where the proxy connects (an IP address)
//	control = "/run/popd/pop1.sock" # its control socket, or
//	# control = "ssh://admin@10.0.0.11:22/run/popd/control.sock"
//	proxy = true                   # the node wants a PROXY header (-proxy-from)
//
// A user's home node is chosen by rendezvous hashing (highest random
// weight) of the user name over the nodes that are up: every node ranks
// the same way for a user, so a user stays on one node while it is up,
// goes to the next one when it is down, and back home when it returns,
// and adding or removing a node moves only the users whose home it is.
package fleet

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"net/url"
	"strings"

	"github.com/BurntSushi/toml"
)

// Node is one popd of the fleet.
type Node struct {
	Name string `toml:"name"`
	// POP3 is the node's POP3 address, IP and port: nginx's Auth-Server
	// must be an IP address.
	POP3 string `toml:"pop3"`
	// Control is the node's control socket: a path, or
	// ssh://[user@]host[:port]/path.
	Control string `toml:"control"`
	// Proxy tells that the node expects a PROXY protocol header from the
	// address the health checks come from.
	Proxy bool `toml:"proxy"`

	addr netip.AddrPort
}

// AddrPort is POP3 parsed.
func (n *Node) AddrPort() netip.AddrPort { return n.addr }

// SSH splits an ssh:// control address into the ssh destination
// ([user@]host), port ("" for ssh's default) and the socket's path on the
// far side; ok is false for a local path.
func (n *Node) SSH() (dest, port, path string, ok bool) {
	if !strings.HasPrefix(n.Control, "ssh://") {
		return "", "", "", false
	}
	u, err := url.Parse(n.Control)
	if err != nil {
		return "", "", "", false
	}
	dest = u.Hostname()
	if u.User != nil {
		dest = u.User.Username() + "@" + dest
	}
	return dest, u.Port(), u.Path, true
}

// Fleet is the nodes of a fleet file, in its order.
type Fleet struct {
	Nodes []Node `toml:"node"`
}

// Load reads and checks a fleet file. Unknown keys are an error, and so
// is every node that cannot work: no name, two nodes of one name, a POP3
// address that is not IP:port, no control socket or a bad ssh:// address.
func Load(path string) (*Fleet, error) {
	var f Fleet
	md, err := toml.DecodeFile(path, &f)
	if err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("fleet: %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", path, err)
	}
	return &f, nil
}

func (f *Fleet) check() error {
	if len(f.Nodes) == 0 {
		return errors.New("no [[node]]")
	}
	seen := map[string]bool{}
	for i := range f.Nodes {
		n := &f.Nodes[i]
		switch {
		case n.Name == "" || strings.ContainsAny(n.Name, " \t\r\n/"):
			return fmt.Errorf("node %d: name %q: want a word", i+1, n.Name)
		case seen[n.Name]:
			return fmt.Errorf("node %q: named twice", n.Name)
		case n.Control == "":
			return fmt.Errorf("node %q: no control socket", n.Name)
		}
		seen[n.Name] = true
		ap, err := netip.ParseAddrPort(n.POP3)
		if err != nil {
			return fmt.Errorf("node %q: pop3 %q: want IP:port (nginx's Auth-Server is an IP address)", n.Name, n.POP3)
		}
		n.addr = ap
		if strings.HasPrefix(n.Control, "ssh://") {
			if dest, _, p, ok := n.SSH(); !ok || dest == "" || p == "" || p == "/" {
				return fmt.Errorf("node %q: control %q: want ssh://[user@]host[:port]/path/to/socket", n.Name, n.Control)
			}
		}
	}
	return nil
}

// Node returns the node named name.
func (f *Fleet) Node(name string) (*Node, bool) {
	for i := range f.Nodes {
		if f.Nodes[i].Name == name {
			return &f.Nodes[i], true
		}
	}
	return nil, false
}

// Home returns the home node of user among the nodes for which up is
// true (all, when up is nil), by rendezvous hashing; ok is false when no
// node is up.
func (f *Fleet) Home(user string, up func(*Node) bool) (*Node, bool) {
	var best *Node
	var bestW uint64
	for i := range f.Nodes {
		n := &f.Nodes[i]
		if up != nil && !up(n) {
			continue
		}
		if w := weight(n.Name, user); best == nil || w > bestW {
			best, bestW = n, w
		}
	}
	return best, best != nil
}

// weight is the rendezvous weight of (node, user): a 64-bit FNV-1a of
// both, with a separator no name contains, mixed (splitmix64's finalizer)
// so that similar names do not give similar weights.
func weight(node, user string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(node))
	h.Write([]byte{0})
	h.Write([]byte(user))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
