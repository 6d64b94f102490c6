// Package demo sets up popd's self-contained demo: a users file with the
// user "demo" (password "demo") and a Maildir holding a few realistic
// messages, all inside one directory.
package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"popd/internal/config"
	"popd/internal/userdb"
)

// User and Password are the demo's credentials.
const (
	User     = "demo"
	Password = "demo"
)

// Paths points cfg at the demo directory: users file, maildir template,
// control socket and state (the last logins). It touches no file.
func Paths(dir string, cfg *config.Config) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	cfg.Users = filepath.Join(abs, "users")
	cfg.Maildir = filepath.Join(abs, "mail", "%u")
	cfg.Control = filepath.Join(abs, "control.sock")
	cfg.StateDir = abs
	return nil
}

// Setup prepares dir (creating it if needed) and points cfg at it (Paths).
// An existing users file is kept; an empty demo maildrop is filled again,
// so the demo always has mail.
func Setup(dir string, cfg *config.Config) error {
	if err := Paths(dir, cfg); err != nil {
		return err
	}
	abs := filepath.Dir(cfg.Users)
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	users := cfg.Users
	if _, err := os.Stat(users); os.IsNotExist(err) {
		hash, err := userdb.Hash("", Password)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("# popd demo users (Dovecot passwd-file format)\n%s:%s::::%s::\n", User, hash, filepath.Join(abs, "home", User))
		if err := os.WriteFile(users, []byte(line), 0o600); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return fill(filepath.Join(abs, "mail", User))
}

// fill delivers the demo messages into an empty Maildir the way an MTA does:
// written in tmp/, then renamed into new/.
func fill(md string) error {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o700); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(md, sub))
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") {
				return nil // not empty: leave it alone
			}
		}
	}
	host, _ := os.Hostname()
	host = strings.NewReplacer("/", "_", ":", "_").Replace(host)
	base := time.Now().Add(-time.Duration(len(Messages)) * time.Hour)
	for i, m := range Messages {
		t := base.Add(time.Duration(i) * time.Hour)
		name := fmt.Sprintf("%d.M%dP%d.%s", t.Unix(), t.Nanosecond()/1000, os.Getpid(), host)
		body := strings.ReplaceAll(m, "{{date}}", t.Format(time.RFC1123Z))
		tmp := filepath.Join(md, "tmp", name)
		if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := os.Rename(tmp, filepath.Join(md, "new", name)); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}

// Messages are the demo's mail, stored with LF line endings as MTAs write
// them; {{date}} becomes the delivery date.
var Messages = []string{
	`Return-Path: <postmaster@example.org>
From: popd <postmaster@example.org>
To: demo@example.org
Subject: Welcome to popd
Date: {{date}}
Message-ID: <welcome.1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello,

this maildrop is served by popd from a plain Maildir. Try:

  curl pop3://demo:demo@127.0.0.1:1110/        (list)
  curl pop3://demo:demo@127.0.0.1:1110/1       (read this message)

and watch the session live with popadm.
`,
	`From: =?UTF-8?Q?Ren=C3=A9e_M=C3=BCller?= <renee@example.net>
To: demo@example.org
Subject: =?UTF-8?Q?Caf=C3=A9_on_Friday=3F?=
Date: {{date}}
Message-ID: <cafe.2@example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Salut ! Un café vendredi à 10 h ? Ça me ferait plaisir.
Grüße, Renée
`,
	`From: build-bot <ci@example.com>
To: demo@example.org
Subject: Nightly build report
Date: {{date}}
Message-ID: <build.3@example.com>
Content-Type: text/plain; charset=us-ascii

Build #4711 passed.
.hidden-file-check: ok
..double-dot line: ok
.
The line above is a single dot; POP3 byte-stuffs it on the wire.
`,
	`From: Alice <alice@example.com>
To: demo@example.org
Subject: Photo from the trip
Date: {{date}}
Message-ID: <photo.4@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

The tiny picture you asked for is attached.

--b1
Content-Type: image/gif; name="dot.gif"
Content-Disposition: attachment; filename="dot.gif"
Content-Transfer-Encoding: base64

R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7
--b1--
`,
	`From: Newsletter <news@example.net>
To: demo@example.org
Subject: Your weekly digest
Date: {{date}}
Message-ID: <digest.5@example.net>
List-Unsubscribe: <mailto:unsubscribe@example.net>
Content-Type: text/plain; charset=us-ascii

1. POP3 turns 37.
2. Maildir: one file per message, no locking needed for delivery.
3. This message has no newline at the end.`,
}
