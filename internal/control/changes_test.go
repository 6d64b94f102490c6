package control_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
)

// changed is a sessions.changed event of the sessions ids.
func changed(ids ...string) control.Event {
	e := control.Event{Type: event.SessionsChanged}
	for _, id := range ids {
		e.Sessions = append(e.Sessions, event.SessionChange{ID: id, State: "transaction", LastCommand: "STAT"})
	}
	return e
}

// TestSessionSnapshot: "sessions" is the live sessions after the number
// of the last event published, of this run; one that is ending is left
// out (its session.closed says so).
func TestSessionSnapshot(t *testing.T) {
	d := controltest.NewDaemon()
	d.AddSession(control.Session{ID: "a-1", User: "alice", State: "transaction"})
	d.AddSession(control.Session{ID: "a-2", State: "closed"})
	d.AddSession(control.Session{ID: "a-3", State: "authorization"})
	path, srv := serve(t, d, "", nil)
	srv.Publish(control.Event{Type: event.SessionOpened, Session: "a-1"})
	srv.Publish(control.Event{Type: event.Login, Session: "a-1", User: "alice"})
	srv.Publish(changed("a-1")) // not numbered

	c := dial(t, path)
	_, start, changes, err := c.SubscribeSessions(t.Context(), control.Cursor{})
	if err != nil || !changes {
		t.Fatalf("SubscribeSessions: changes %v, %v", changes, err)
	}
	snap, err := c.SessionSnapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range snap.Sessions {
		ids = append(ids, s.ID)
	}
	if snap.Boot != start.Boot || snap.Seq != 2 || !slices.Equal(ids, []string{"a-1", "a-3"}) {
		t.Fatalf("snapshot boot %q seq %d sessions %q; want boot %q, seq 2, [a-1 a-3]", snap.Boot, snap.Seq, ids, start.Boot)
	}
}

// TestChangesOnlyToAskers: sessions.changed goes to the streams that
// asked for it, unnumbered, between the numbered events in the order
// published; it is not kept in the backlog, and a stream that did not
// ask never sees one.
func TestChangesOnlyToAskers(t *testing.T) {
	path, srv := serve(t, controltest.NewDaemon(), "", nil)
	c := dial(t, path)
	if srv.WantsChanges() {
		t.Fatal("WantsChanges with no subscriber")
	}
	plain, _, err := c.Subscribe(t.Context(), control.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	if srv.WantsChanges() {
		t.Fatal("WantsChanges with a subscriber that did not ask")
	}
	with, _, _, err := c.SubscribeSessions(t.Context(), control.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.WantsChanges() {
		t.Fatal("no WantsChanges with a subscriber that asked")
	}
	srv.Publish(control.Event{Type: event.SessionOpened, Session: "a-1"})
	srv.Publish(changed("a-1", "a-2"))
	srv.Publish(control.Event{Type: event.SessionClosed, Session: "a-1"})

	got := take(t, with, 3, nil)
	if got[0].Seq != 1 || got[1].Type != event.SessionsChanged || got[1].Seq != 0 || got[1].Boot != "" ||
		len(got[1].Sessions) != 2 || got[1].Sessions[1].ID != "a-2" || got[2].Seq != 2 {
		t.Fatalf("with changes: %+v", got)
	}
	if got := take(t, plain, 2, nil); got[0].Seq != 1 || got[1].Seq != 2 {
		t.Fatalf("without changes: %+v", got)
	}
	quiet(t, plain)

	// The backlog has the two numbered events only.
	c.SetEventBacklog(10)
	again, _, _, err := c.SubscribeSessions(t.Context(), control.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	if got := take(t, again, 2, nil); got[0].Seq != 1 || got[1].Seq != 2 {
		t.Fatalf("backlog: %+v", got)
	}
	quiet(t, again)
}

// subscribeChangesRaw opens an event stream with the changes on a raw
// connection, which reads only when the test does.
func subscribeChangesRaw(t *testing.T, path string) *raw {
	t.Helper()
	r, _ := dialRaw(t, path, true)
	r.send(`{"id":1,"method":"events","params":{"changes":true}}`)
	var resp control.Response
	r.read(&resp)
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	return r
}

// TestChangesYieldToEvents: a subscriber that does not read loses the
// changes once its queue is half full, and is told so (sessions.resync,
// with how many) before the next thing it gets; the events still fill the
// queue before any of them is dropped.
func TestChangesYieldToEvents(t *testing.T) {
	path, srv := serve(t, controltest.NewDaemon(), "", nil)
	slow := subscribeChangesRaw(t, path)
	// Until the queue and the socket's buffers are full: far more than
	// they hold, events and changes in turn.
	const n = 20_000
	for i := range n {
		srv.Publish(control.Event{Type: event.Delivered, User: "alice", Count: i + 1})
		srv.Publish(changed("a-1"))
	}
	// Read everything, while publishing numbered markers until one arrives
	// (the first are dropped while the queue is still full).
	type result struct {
		events, changes, lostChanges, lostEvents, resyncs, marker int
		err                                                       error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		slow.nc.SetDeadline(time.Now().Add(30 * time.Second))
		for {
			line, err := slow.r.ReadBytes('\n')
			if err == nil {
				var e control.Event
				if err = json.Unmarshal(line, &e); err == nil {
					switch e.Type {
					case event.SessionsResync:
						r.resyncs++
						r.lostChanges += e.Count
						continue
					case event.Dropped:
						r.lostEvents += e.Count
						continue
					case event.SessionsChanged:
						r.changes++
						continue
					case event.Delivered:
						r.events++
						continue
					}
					r.marker = e.Count
				}
			}
			r.err = err
			done <- r
			return
		}
	}()
	var r result
	for k := 1; ; k++ {
		srv.Publish(control.Event{Type: "marker", Count: k})
		select {
		case r = <-done:
		case <-time.After(10 * time.Millisecond):
			continue
		}
		break
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	events, changes, lostChanges, lostEvents, resyncs := r.events, r.changes, r.lostChanges, r.lostEvents-(r.marker-1), r.resyncs
	t.Logf("events %d (+%d lost), changes %d (+%d lost, %d notices)", events, lostEvents, changes, lostChanges, resyncs)
	if resyncs == 0 {
		t.Fatal("no sessions.resync")
	}
	if events+lostEvents != n || changes+lostChanges != n {
		t.Fatalf("events %d + %d lost, changes %d + %d lost: want %d each", events, lostEvents, changes, lostChanges, n)
	}
	if events < control.SubscriberQueue/2 || events <= changes {
		t.Fatalf("events %d, changes %d: the changes did not give way", events, changes)
	}
}

// TestSubscribeSessionsOlderPopd: a popd from before the changes refuses
// {"changes":true} (unknown params are a bad request); SubscribeSessions
// then subscribes without, and says so.
func TestSubscribeSessionsOlderPopd(t *testing.T) {
	path := ctlPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var asked []string
	var mu sync.Mutex
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				r := bufio.NewReader(nc)
				r.ReadBytes('\n') // the hello
				fmt.Fprintln(nc, `{"hello":"popd-control","version":1,"server":"0.1.0","role":"admin"}`)
				for {
					line, err := r.ReadBytes('\n')
					if err != nil {
						return
					}
					var req control.Request
					json.Unmarshal(line, &req)
					mu.Lock()
					asked = append(asked, req.Method+" "+string(req.Params))
					mu.Unlock()
					if strings.Contains(string(req.Params), "changes") {
						fmt.Fprintf(nc, `{"id":%d,"error":{"code":"bad-request","message":"bad params"}}`+"\n", req.ID)
						continue
					}
					fmt.Fprintf(nc, `{"id":%d,"result":{"subscribed":true,"boot":"b1","from":0}}`+"\n", req.ID)
					fmt.Fprintln(nc, `{"type":"login","session":"x-1","boot":"b1","seq":1}`)
				}
			}()
		}
	}()
	c := dial(t, path)
	ch, _, changes, err := c.SubscribeSessions(t.Context(), control.Cursor{})
	if err != nil || changes {
		t.Fatalf("changes %v, err %v", changes, err)
	}
	if e := take(t, ch, 1, nil); e[0].Type != event.Login {
		t.Fatalf("got %+v", e)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{`events {"changes":true}`, `events {}`}; !slices.Equal(asked, want) {
		t.Fatalf("asked %q, want %q", asked, want)
	}
}

// TestResyncWhenQuiet: a subscriber that lost changes hears of it even
// when popd then has nothing to say: the daemon's empty sessions.changed
// of a quiet second carries the notice, and nothing else reaches the
// wire; a subscriber that lost nothing gets nothing from it.
func TestResyncWhenQuiet(t *testing.T) {
	path, srv := serve(t, controltest.NewDaemon(), "", nil)
	slow := subscribeChangesRaw(t, path)
	// Changes only, far more than its queue and socket hold.
	const n = 20_000
	for range n {
		srv.Publish(changed("a-1"))
	}
	// One that subscribes now has lost nothing.
	c := dial(t, path)
	calm, _, _, err := c.SubscribeSessions(t.Context(), control.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	slow.nc.SetDeadline(time.Now().Add(10 * time.Second))
	count := func(stopAt func(control.Event) bool) (changes int, notices []control.Event) {
		for {
			slow.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			line, err := slow.r.ReadBytes('\n')
			if err != nil {
				return changes, notices
			}
			var e control.Event
			if err := json.Unmarshal(line, &e); err != nil {
				t.Fatal(err)
			}
			if e.Type == event.SessionsChanged {
				changes++
				if len(e.Sessions) == 0 {
					t.Fatal("an empty sessions.changed on the wire")
				}
			} else {
				notices = append(notices, e)
			}
			if stopAt != nil && stopAt(e) {
				return changes, notices
			}
		}
	}
	lost := func(ns []control.Event) (n int) {
		for _, e := range ns {
			if e.Type != event.SessionsResync {
				t.Fatalf("notice %+v", e)
			}
			n += e.Count
		}
		return n
	}
	// popd is quiet now: the slow one reads what it was sent. The last
	// changes were lost with nothing after them to carry the notice.
	got, notices := count(nil)
	told := lost(notices)
	if got+told >= n {
		t.Fatalf("before the quiet second: %d changes + %d told lost, of %d: nothing left to tell", got, told, n)
	}
	// A quiet second: the empty event brings the notice, and every change
	// is accounted for.
	srv.Publish(control.Event{Type: event.SessionsChanged})
	more, notices := count(func(e control.Event) bool { return e.Type == event.SessionsResync })
	if more != 0 || len(notices) != 1 || got+told+lost(notices) != n {
		t.Fatalf("after the quiet second: %d more changes, notices %+v; had %d + %d told lost, of %d", more, notices, got, told, n)
	}
	if extra, notices := count(nil); extra != 0 || len(notices) != 0 {
		t.Fatalf("then: %d changes, notices %+v", extra, notices)
	}
	// The calm one gets nothing from the empty event.
	quiet(t, calm)
}
