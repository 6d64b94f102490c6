package server

import (
	"bufio"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"popd/internal/testutil"
)

// FuzzSession sends arbitrary bytes to a logged-in session over TCP, then
// QUIT. Whatever the input, the server must answer every line with +OK,
// -ERR or a listing, end the connection, and delete nothing unless the
// input marked a message with DELE.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"STAT\r\nLIST\r\nLIST 1\r\nUIDL\r\nUIDL 2\r\nRETR 1\r\nTOP 2 1\r\nLAST\r\nNOOP\r\nRSET\r\nCAPA\r\n",
		"DELE 1\r\nRSET\r\n", "LIST 0\r\nLIST -1\r\nLIST 1x\r\nLIST 4294967297\r\nTOP 1\r\n",
		"USER x\r\nPASS y\r\nRPOP z\r\n", "\r\n\n\r\x00\xff", strings.Repeat("A", 300) + "\r\nNOOP\r\n",
		"retr 2\nlist\n", "TOP 1 99999999\r\n", "QUIT\r\nSTAT\r\n",
	} {
		f.Add(seed)
	}
	fe := newEnv(f, []account{{"fuzz", "pw", "PLAIN"}}, nil)
	md := fe.maildir("fuzz")
	f.Fuzz(func(t *testing.T, input string) {
		e := *fe
		e.t = t
		if len(e.files("fuzz")) < 2 {
			os.RemoveAll(md)
			e.deliver("fuzz", "Subject: one\n\n.dot\nbody\n")
			e.deliver("fuzz", "Subject: two\n\nno newline")
		}
		before := len(e.files("fuzz"))
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		go func() {
			io.WriteString(conn, "USER fuzz\r\nPASS pw\r\n"+input+"\r\nQUIT\r\n")
		}()
		r := bufio.NewReader(conn)
		for {
			l, err := r.ReadString('\n')
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reading: %v (did the server hang?)", err)
			}
			if !strings.HasSuffix(l, "\r\n") {
				t.Fatalf("line without CRLF: %q", l)
			}
		}
		deleted := strings.Contains(strings.ToUpper(input), "DELE")
		if after := len(e.files("fuzz")); after != before && !deleted {
			t.Fatalf("%d messages became %d without DELE", before, after)
		}
		testutil.Eventually(t, 5*time.Second, "condition", func() bool { return len(e.srv.Sessions()) == 0 })
	})
}
