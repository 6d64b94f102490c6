// Package nginx runs Debian's nginx with its mail module as a POP3 proxy
// for tests: the real thing, on loopback, with its own prefix directory.
package nginx

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// modulePaths are where Debian's libnginx-mod-mail puts the module.
var modulePaths = []string{
	"/usr/lib/nginx/modules/ngx_mail_module.so",
	"/usr/share/nginx/modules/ngx_mail_module.so",
}

// Available reports why nginx with the mail module cannot run here, or "".
func Available() string {
	if _, err := exec.LookPath("nginx"); err != nil {
		return "nginx is not installed (apt-get install nginx-light libnginx-mod-mail)"
	}
	if module() == "" {
		return "nginx's mail module is not installed (apt-get install libnginx-mod-mail)"
	}
	return ""
}

func module() string {
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Options are the mail proxy's settings.
type Options struct {
	// AuthHTTP is the auth_http address (host:port); the URL path is /auth.
	AuthHTTP string
	// ProxyProtocol sends a PROXY header to the backends.
	ProxyProtocol bool
	// Auth is pop3_auth's list; "plain" when empty.
	Auth string
	// AuthHeader, if set, is an auth_http_header line's name and value.
	AuthHeader [2]string
}

// Proxy is a running nginx.
type Proxy struct {
	Addr string // where clients connect
	Dir  string // its prefix: nginx.conf, error.log
	cmd  *exec.Cmd
}

// Start runs nginx as a POP3 proxy on a free loopback port until the test
// ends. It skips the test, saying why, when nginx or its mail module is
// not installed.
func Start(t testing.TB, opt Options) *Proxy {
	t.Helper()
	if why := Available(); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // nginx's workers run as nobody when started as root
	addr := freePort(t)
	auth := opt.Auth
	if auth == "" {
		auth = "plain"
	}
	header := ""
	if opt.AuthHeader[0] != "" {
		header = fmt.Sprintf("    auth_http_header %s %q;\n", opt.AuthHeader[0], opt.AuthHeader[1])
	}
	pp := "off"
	if opt.ProxyProtocol {
		pp = "on"
	}
	conf := fmt.Sprintf(`load_module %s;
daemon off;
master_process on;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/error.log info;
events { worker_connections 1024; }
mail {
    server_name mail.test;
    auth_http %s/auth;
    auth_http_timeout 10s;
%s    proxy_pass_error_message on;
    proxy_timeout 60s;
    server {
        listen %s;
        protocol pop3;
        pop3_auth %s;
        proxy_protocol %s;
    }
}
`, module(), dir, dir, opt.AuthHTTP, header, addr, auth, pp)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nginx", "-p", dir, "-c", confFile, "-e", filepath.Join(dir, "error.log"))
	out, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: addr, Dir: dir, cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("nginx's error.log:\n%s", p.Log())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s: %v\n%s", addr, err, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log is nginx's error log (and its stderr) so far.
func (p *Proxy) Log() string {
	var b strings.Builder
	for _, f := range []string{"stderr", "error.log"} {
		data, _ := os.ReadFile(filepath.Join(p.Dir, f))
		b.Write(data)
	}
	return b.String()
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
