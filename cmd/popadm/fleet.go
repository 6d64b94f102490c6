package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"popd/internal/control"
	"popd/internal/fleet"
	"popd/internal/human"
)

// One console for the fleet: with -fleet FILE (or $POPADM_FLEET) the
// commands run on every node of the fleet file at once. Every node is
// asked in parallel, each within nodeTimeout; a node that does not answer
// is said on standard error ("popadm: node pop2: ...") and the command
// goes on with the others, and then exits 3 (exitDown). A node that
// answers with an error (popd refused) makes the exit status 1.
//
//   - who, locks, penalties: one table with a NODE column first; in JSON
//     each object gets "node" (listing.runFleet);
//   - stats: a row per node, down ones too (fleetStats);
//   - events: the nodes' streams merged, each event with its node;
//   - kick ID: the node is NODE/ID, or the only node with session ID;
//     kick by selector (--user, --from …; the counts added up, none
//     anywhere is exit status 1: fleetKickSelected), reload, penalty
//     clear: on every node (penalty clear
//     says the nodes that had the source, and fails when none had:
//     fleetClearPenalty);
//   - unlock USER: on the node whose session holds the lock, else on one
//     that sees it;
//   - user changes: once, through the first node that answers (the users
//     file is shared storage); user del then ends the user's sessions on
//     the other nodes too; user list: the users of one node, with the
//     latest login seen on any.

// exitDown is the exit status when some node of the fleet did not answer
// and the command worked on the others.
const exitDown = 3

// nodeTimeout is how long a node has to answer a command, from connecting
// to the answer; sshTimeout is that over ssh, whose own handshake takes
// some of it. A change sent to one node (kick, unlock) has changeTimeout
// more once connected: unlocking waits for the session to end. A user
// change, whose password may be asked for once connected, has no limit.
const (
	nodeTimeout   = 2 * time.Second
	sshTimeout    = 5 * time.Second
	changeTimeout = 10 * time.Second
)

var (
	// errSaid is a failure already said on standard error: exit status 1.
	errSaid = errors.New("failed (said above)")
	// errNoNode: no node of the fleet answered (each said why).
	errNoNode = errors.New("no node of the fleet answered")
)

// theFleet loads the fleet the command runs on, or returns nil when it
// runs on one popd: -control wins over $POPADM_FLEET, and excludes -fleet.
func (e *env) theFleet() (*fleet.Fleet, error) {
	switch {
	case e.fleetSet && e.controlSet:
		return nil, &usageError{msg: "-control and -fleet exclude each other", usage: "popadm [-control PATH | -fleet FILE] COMMAND [ARGS]"}
	case e.controlSet || e.fleetPath == "":
		return nil, nil
	case e.fl == nil:
		f, err := fleet.Load(e.fleetPath)
		if err != nil {
			return nil, err
		}
		e.fl = f
	}
	return e.fl, nil
}

// timeout is how long n has to answer.
func timeout(n *fleet.Node) time.Duration {
	if _, _, _, ok := n.SSH(); ok {
		return sshTimeout
	}
	return nodeTimeout
}

// dialNode connects to a node's control socket, over ssh for an ssh://
// address ($POPADM_SSH names the program, for tests).
func (e *env) dialNode(ctx context.Context, n *fleet.Node) (*control.Client, error) {
	return fleet.Dialer{SSH: os.Getenv("POPADM_SSH")}.Dial(ctx, n)
}

// nodeError says on standard error why node failed, and records it for
// the exit status: down (3) unless popd answered with an error (1).
func (e *env) nodeError(node string, err error) {
	var ce *control.Error
	if errors.As(err, &ce) {
		e.refused = true
	} else {
		e.down = append(e.down, node)
	}
	fmt.Fprintf(e.stderr, "popadm: node %s: %s\n", human.Clean(node), nodeMessage(err))
}

// nodeMessage is why a node failed, for a person.
func nodeMessage(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return strings.TrimPrefix(message(err), "fleet: ")
}

// answer is what one node answered.
type answer[T any] struct {
	node *fleet.Node
	v    T
	err  error
}

// onEach runs do on a connection to every node at once, each within its
// timeout, and returns the answers in the fleet file's order.
func onEach[T any](e *env, f *fleet.Fleet, do func(context.Context, *control.Client) (T, error)) []answer[T] {
	out := make([]answer[T], len(f.Nodes))
	var wg sync.WaitGroup
	for i := range f.Nodes {
		n := &f.Nodes[i]
		out[i].node = n
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(e.ctx, timeout(n))
			defer cancel()
			c, err := e.dialNode(ctx, n)
			if err == nil {
				out[i].v, err = do(ctx, c)
				c.Close()
			}
			out[i].err = err
		})
	}
	wg.Wait()
	return out
}

// answered says why each node that failed did, and returns the answers of
// the others; an error when none answered, or when interrupted.
func answered[T any](e *env, as []answer[T]) ([]answer[T], error) {
	if err := e.ctx.Err(); err != nil {
		return nil, err
	}
	var ok []answer[T]
	for _, a := range as {
		if a.err != nil {
			e.nodeError(a.node.Name, a.err)
			continue
		}
		ok = append(ok, a)
	}
	switch {
	case len(ok) > 0:
		return ok, nil
	case e.refused:
		return nil, errSaid
	}
	return nil, errNoNode
}

// onNode makes one change on node n and prints what was done.
func (e *env) onNode(n *fleet.Node, do func(context.Context, *control.Client) (done string, err error)) error {
	c, err := e.dialFor(n)
	if err != nil {
		e.nodeError(n.Name, err)
		return errSaid
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(e.ctx, changeTimeout)
	defer cancel()
	done, err := do(ctx, c)
	if err != nil {
		if e.ctx.Err() != nil {
			return e.ctx.Err()
		}
		e.nodeError(n.Name, err)
		return errSaid
	}
	fmt.Fprintln(e.stdout, human.Clean(done))
	return nil
}

// dialFor connects to n within its timeout.
func (e *env) dialFor(n *fleet.Node) (*control.Client, error) {
	ctx, cancel := context.WithTimeout(e.ctx, timeout(n))
	defer cancel()
	return e.dialNode(ctx, n)
}

// onAll makes a change on every node and prints a line for each that did
// it: "pop1: reloaded".
func (e *env) onAll(f *fleet.Fleet, do func(context.Context, *control.Client) (done string, err error)) error {
	as, err := answered(e, onEach(e, f, do))
	if err != nil {
		return err
	}
	for _, a := range as {
		fmt.Fprintln(e.stdout, human.Clean(a.node.Name+": "+a.v))
	}
	return nil
}

// anyNode connects to the first node, in the fleet file's order, that
// answers.
func (e *env) anyNode(f *fleet.Fleet) (nodeClient, error) {
	for i := range f.Nodes {
		n := &f.Nodes[i]
		c, err := e.dialFor(n)
		if err == nil {
			return nodeClient{c, n.Name}, nil
		}
		if e.ctx.Err() != nil {
			return nodeClient{}, e.ctx.Err()
		}
		e.nodeError(n.Name, err)
	}
	return nodeClient{}, errNoNode
}

// nodeClient is a connection to a node of the fleet, named.
type nodeClient struct {
	*control.Client
	node string
}

// tagged is v, which encodes as a JSON object, with "node" first.
func tagged(node string, v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("%T is not a JSON object", v)
	}
	name, _ := json.Marshal(node)
	out := append([]byte(`{"node":`), name...)
	if string(b) != "{}" {
		out = append(out, ',')
	}
	return append(out, b[1:]...), nil
}
