package control

import (
	"bufio"
	"errors"
	"io"
	"os/user"
	"strings"
	"testing"
)

func TestRole(t *testing.T) {
	supplementary := map[uint32][]uint32{2001: {50}, 2002: {60}, 2003: {60, 50}, 2004: {7}}
	r := rules{selfUID: 1000, adminGID: 50, monitorGID: 60,
		groups: func(uid uint32) []uint32 { return supplementary[uid] }}
	tests := []struct {
		name     string
		uid, gid uint32
		want     string
	}{
		{"root", 0, 0, RoleAdmin},
		{"root whatever its gid", 0, 12345, RoleAdmin},
		{"popd's own uid", 1000, 1000, RoleAdmin},
		{"primary gid is the admin group", 2000, 50, RoleAdmin},
		{"primary gid is the monitor group", 2000, 60, RoleMonitor},
		{"supplementary admin group", 2001, 100, RoleAdmin},
		{"supplementary monitor group", 2002, 100, RoleMonitor},
		{"in both groups: admin wins", 2003, 100, RoleAdmin},
		{"monitor by gid, admin by supplementary", 2001, 60, RoleAdmin},
		{"other groups only", 2004, 7, ""},
		{"nobody", 65534, 65534, ""},
	}
	for _, tt := range tests {
		got, ok := r.role(tt.uid, tt.gid)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: role(%d, %d) = %q, %v; want %q", tt.name, tt.uid, tt.gid, got, ok, tt.want)
		}
	}

	// Without groups configured, only root and popd's uid get in, and
	// nobody's groups are looked up.
	none := rules{selfUID: 1000, adminGID: -1, monitorGID: -1,
		groups: func(uint32) []uint32 { t.Error("groups looked up"); return nil }}
	for _, uid := range []uint32{2000, 2001, 65534} {
		if role, ok := none.role(uid, 50); ok {
			t.Errorf("uid %d got %q without groups configured", uid, role)
		}
	}
	if role, _ := none.role(1000, 1000); role != RoleAdmin {
		t.Errorf("own uid: %q", role)
	}
}

func TestLookupGroup(t *testing.T) {
	if gid, err := lookupGroup(""); gid != -1 || err != nil {
		t.Errorf(`"": %d, %v`, gid, err)
	}
	if g, err := user.LookupGroupId("0"); err == nil {
		if gid, err := lookupGroup(g.Name); gid != 0 || err != nil {
			t.Errorf("%s: %d, %v", g.Name, gid, err)
		}
	}
	if gid, err := lookupGroup("424242"); gid != 424242 || err != nil {
		t.Errorf("numeric gid: %d, %v", gid, err)
	}
	if _, err := lookupGroup("no-such-group-popd"); err == nil || !strings.HasPrefix(err.Error(), "control: unknown group") {
		t.Errorf("unknown group: %v", err)
	}
}

func TestDescribePeer(t *testing.T) {
	if u, err := user.LookupId("0"); err == nil {
		if got, want := describePeer(0), "uid 0 ("+u.Username+")"; got != want {
			t.Errorf("describePeer(0) = %q, want %q", got, want)
		}
	}
	if got := describePeer(424242); got != "uid 424242" {
		t.Errorf("describePeer(424242) = %q", got)
	}
}

func TestReadFrame(t *testing.T) {
	max := strings.Repeat("x", MaxFrame)
	tests := []struct {
		in   string
		want []string
		err  error
	}{
		{"{}\n", []string{"{}"}, io.EOF},
		{"{}\r\n\n \r\n{\"a\":1}\n", []string{"{}", `{"a":1}`}, io.EOF},
		{max + "\n", []string{max}, io.EOF},
		{max + "\r\n", []string{max}, io.EOF},
		{max + "x\n", nil, errFrameTooLong},
		{max + "xx", nil, errFrameTooLong},
		{"{}", nil, io.ErrUnexpectedEOF},
		{"", nil, io.EOF},
	}
	for i, tt := range tests {
		r := bufio.NewReaderSize(strings.NewReader(tt.in), MaxFrame+2)
		var got []string
		var err error
		for {
			var line []byte
			if line, err = readFrame(r); err != nil {
				break
			}
			got = append(got, string(line))
		}
		if !errors.Is(err, tt.err) || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%d: got %d lines, %v; want %d lines, %v", i, len(got), err, len(tt.want), tt.err)
		}
	}
}

func TestDecodeParams(t *testing.T) {
	var p deleteParams
	for _, in := range []string{"", "null", "{}", `{"name":"a"}`, `{"name":"a","purge_mail":true}`} {
		if !decodeParams([]byte(in), &p) {
			t.Errorf("%q refused", in)
		}
	}
	for _, in := range []string{`[]`, `"x"`, `{"name":"a","purge":true}`, `{"name":1}`, `{`} {
		if decodeParams([]byte(in), &p) {
			t.Errorf("%q accepted", in)
		}
	}
}
