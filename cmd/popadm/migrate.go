package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"text/tabwriter"

	"popd/internal/config"
	"popd/internal/human"
	"popd/internal/maildir"
	"popd/internal/userdb"
)

const migrateUsage = "popadm migrate check [--config FILE] [--users FILE] [--maildir TEMPLATE] [--pop3-uidl-format F] [--from dovecot|courier|qmail] [--json] USER...|--all"

// migrateCmd is "popadm migrate check": for each maildrop, which UIDLs
// stay what the previous POP3 server (Dovecot, Courier, qmail-pop3d) gave,
// so that clients that keep mail on the server download nothing again. It
// reads the users file and the maildirs only: no popd needed, nothing
// written. The exit status is 1 when any UIDL would change.
func migrateCmd(e *env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return &usageError{usage: migrateUsage, help: true}
		}
		return &usageError{msg: "want: migrate check", usage: migrateUsage}
	}
	fs := e.flags("migrate check")
	cfgPath := fs.String("config", "", "")
	usersPath := fs.String("users", "", "")
	template := fs.String("maildir", "", "")
	format := fs.String("pop3-uidl-format", "", "")
	from := fs.String("from", "", "")
	all := fs.Bool("all", false, "")
	asJSON := fs.Bool("json", false, "")
	names, err := parse(fs, args[1:], migrateUsage, 0, 1<<20)
	if err != nil {
		return err
	}
	switch *from {
	case maildir.FromAuto, maildir.FromDovecot, maildir.FromCourier, maildir.FromQmail:
	default:
		return &usageError{msg: fmt.Sprintf("--from %q: want dovecot, courier or qmail", human.Clean(*from)), usage: migrateUsage}
	}
	if *all == (len(names) > 0) {
		return &usageError{msg: "name users, or --all", usage: migrateUsage}
	}
	cfg := config.Default()
	if *cfgPath != "" {
		if err := cfg.Load(*cfgPath); err != nil {
			return err
		}
	}
	for _, o := range []struct{ flag, into *string }{{usersPath, &cfg.Users}, {template, &cfg.Maildir}, {format, &cfg.UIDLFormat}} {
		if *o.flag != "" {
			*o.into = *o.flag
		}
	}
	if err := maildir.CheckUIDLFormat(cfg.UIDLFormat); err != nil {
		return fmt.Errorf("pop3-uidl-format %q: %w", cfg.UIDLFormat, err)
	}
	users, err := userdb.Open(cfg.Users, slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	var list []userdb.User
	if *all {
		list = users.Users()
		slices.SortFunc(list, func(a, b userdb.User) int {
			if a.Name < b.Name {
				return -1
			}
			return 1
		})
	} else {
		for _, n := range names {
			u, ok := users.Lookup(n)
			if !ok {
				return fmt.Errorf("no user %q in %s", human.Clean(n), cfg.Users)
			}
			list = append(list, u)
		}
	}
	var rows []migrateRow
	changes := 0
	for _, u := range list {
		r := migrateRow{User: u.Name}
		loc, err := maildir.Locate(cfg.Maildir, u.Name, u.Home, u.Mail)
		if err == nil {
			r.Maildir = loc.Path
			r.Migration, err = maildir.Inspect(loc.Path, maildir.Options{UIDLFormat: cfg.UIDLFormat, Control: loc.Control}, *from)
		}
		if err != nil {
			r.Error = err.Error()
			changes++ // cannot tell: not a clean bill
		}
		changes += len(r.Changes)
		rows = append(rows, r)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		printMigration(e.stdout, rows, cfg.UIDLFormat)
	}
	if changes > 0 {
		return fmt.Errorf("%d UIDLs would change or could not be checked", changes)
	}
	return nil
}

// migrateRow is one maildrop's result.
type migrateRow struct {
	User    string `json:"user"`
	Maildir string `json:"maildir"`
	maildir.Migration
	Error string `json:"error,omitempty"`
}

// printMigration prints rows as a summary to paste into a ticket.
func printMigration(w io.Writer, rows []migrateRow, format string) {
	if format == "" {
		format = "%08Xu%08Xv (Dovecot 2.3's default)"
	}
	fmt.Fprintf(w, "popadm migrate check: %d maildrops, pop3-uidl-format %s\n\n", len(rows), format)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "USER\tFROM\tMESSAGES\tKEPT\tNEW\tCHANGE\t")
	var tot maildir.Migration
	for _, r := range rows {
		from := r.From
		if r.Error != "" {
			from = "error"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t\n", human.Clean(r.User), from, r.Messages, r.Kept, r.New, len(r.Changes))
		tot.Messages += r.Messages
		tot.Kept += r.Kept
		tot.New += r.New
		tot.Changes = append(tot.Changes, r.Changes...)
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%d\t%d\t\n", tot.Messages, tot.Kept, tot.New, len(tot.Changes))
	tw.Flush()
	fmt.Fprintln(w)
	bad := false
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: cannot check %s: %s\n", human.Clean(r.User), human.Clean(r.Maildir), human.Clean(r.Error))
			bad = true
		}
		for _, c := range r.Changes {
			fmt.Fprintf(w, "%s: %s: was %s, popd gives %s: %s\n", human.Clean(r.User), human.Clean(c.File),
				human.Clean(c.Was), human.Clean(c.Now), c.Why)
			bad = true
		}
	}
	if !bad {
		fmt.Fprintf(w, "Every UIDL the previous server gave is kept (%d of %d messages); %d messages it never listed get new UIDLs.\n",
			tot.Kept, tot.Messages, tot.New)
	}
}
