// Command floor is the least a POP3 server written in Go can do for the
// benchmarks of internal/server, to measure what a session costs this
// machine before any server's own work: bench/floor.sh runs them against
// it and against popd, on the same fixture, and divides each server's CPU
// by the sessions and messages.
//
// It answers every line "+OK" (STAT with a fixed count) and closes after
// QUIT. With -maildirs DIR it also does, for a login of USER, the file
// work that no maildrop lock and listing can do without, with raw system
// calls: at PASS it takes the lock as popd does, renaming a spare file
// (DIR/USER/.floor.spare, made once) to DIR/USER/floor.lock with
// RENAME_NOREPLACE, and lists DIR/USER/new and DIR/USER/cur (open,
// getdents, close: no stat); at QUIT it renames the lock back. RETR n
// sends the n-th file of that listing as it is on disk: open, one read
// (a short read is taken as the end, as it is for a local file), close,
// and one write with "+OK" before and "." after — no CRLF conversion, no
// dot-stuffing. It checks no password, writes nothing in the lock, keeps
// nothing between sessions, and holds the maildrop against no other
// server: it is a yardstick, not a server.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"path/filepath"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address")
	maildirs := flag.String("maildirs", "", "with the maildrop file work: the `directory` of the users' maildirs")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c, *maildirs)
	}
}

func serve(c net.Conn, maildirs string) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	reply := func(s string) bool {
		w.WriteString(s)
		return w.Flush() == nil
	}
	if !reply("+OK floor\r\n") {
		return
	}
	var user, spare, lock string
	var files []string // with -maildirs: new/ and cur/, for RETR
	buf := make([]byte, 64*1024)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		cmd, arg, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
		switch string(bytes.ToUpper(cmd)) {
		case "USER":
			user = string(arg)
		case "PASS":
			if maildirs != "" {
				md := filepath.Join(maildirs, user)
				spare, lock = filepath.Join(md, ".floor.spare"), filepath.Join(md, "floor.lock")
				err := unix.Renameat2(unix.AT_FDCWD, spare, unix.AT_FDCWD, lock, unix.RENAME_NOREPLACE)
				if err == unix.ENOENT { // the first session: make the spare
					if fd, err := unix.Open(lock, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o600); err == nil {
						unix.Close(fd)
					}
				} else if err != nil {
					reply("-ERR [IN-USE] " + err.Error() + "\r\n")
					return
				}
				files = files[:0]
				for _, sub := range []string{"new", "cur"} {
					files = list(filepath.Join(md, sub), buf, files)
				}
				sort.Strings(files)
			}
		case "STAT":
			if !reply("+OK 10 1024000\r\n") {
				return
			}
			continue
		case "RETR":
			n, err := strconv.Atoi(string(arg))
			if err != nil || n < 1 || n > len(files) {
				if !reply("-ERR no such message\r\n") {
					return
				}
				continue
			}
			if _, err := c.Write(retr(files[n-1], buf)); err != nil {
				return
			}
			continue
		case "QUIT":
			if lock != "" {
				unix.Rename(lock, spare)
			}
			reply("+OK bye\r\n")
			return
		}
		if !reply("+OK\r\n") {
			return
		}
	}
}

// list appends the names in dir (with dir) to names: open, getdents until
// the end, close.
func list(dir string, buf []byte, names []string) []string {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return names
	}
	defer unix.Close(fd)
	var found []string
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil || n <= 0 {
			break
		}
		_, _, found = unix.ParseDirent(buf[:n], -1, found[:0])
		for _, f := range found {
			names = append(names, dir+"/"+f)
		}
	}
	return names
}

// retr is the response to RETR of the file: "+OK", the file, ".".
func retr(path string, buf []byte) []byte {
	out := append(buf[:0], "+OK\r\n"...)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return append(out, "-ERR\r\n"...)
	}
	for {
		space := cap(out) - 3 - len(out) // files up to 64 KB: the benchmarks' 6 KB
		k, err := unix.Read(fd, out[len(out):len(out)+space])
		if err != nil || k <= 0 {
			break
		}
		out = out[:len(out)+k]
		if k < space {
			break // a short read: the end of a local file
		}
	}
	unix.Close(fd)
	return append(out, ".\r\n"...)
}
