package daemon

import (
	"errors"
	"fmt"
	"strings"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/sdnotify"
)

// Reload implements control.Daemon: the configuration (when there is a
// source for it), the users file and the certificate. The Live settings
// apply to new sessions and logins; changed Static ones are named in the
// log as needing a restart. A configuration that does not validate
// changes nothing.
func (d *daemon) Reload(by string) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	d.notify(sdnotify.Reloading(), "STATUS=reloading")
	defer func() { d.notify("READY=1", "STATUS="+d.status()) }()
	if d.source != nil {
		cfg, err := d.source()
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			return &control.Error{Code: control.CodeInvalid, Message: "configuration not reloaded: " + err.Error()}
		}
		if restart := d.config().Static.Changed(cfg.Static); len(restart) > 0 {
			d.log.Warn("configuration reloaded; these changes need a restart", "settings", strings.Join(restart, ", "))
		}
		cfg.Static = d.config().Static // what is in force
		d.cfg.Store(&cfg)
		d.srv.Apply(cfg.Live)
	}
	var errs []error
	uerr := d.users.Reload()
	d.metrics.usersReloaded(uerr)
	if uerr != nil {
		errs = append(errs, uerr)
	}
	d.srv.UsersChanged()
	if err := d.srv.ReloadCertificate(); err != nil {
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	d.log.Info("reload", "by", by, "err", err)
	if err == nil {
		d.publish(event.Event{Type: event.UsersReloaded, Count: len(d.users.Users()), By: by})
	}
	return err
}

// status is the one line systemctl status shows: what popd serves.
func (d *daemon) status() string {
	cfg := d.config()
	var parts []string
	if cfg.ServesPOP3() {
		parts = append(parts, "POP3 on "+cfg.Listen)
	}
	if cfg.ListenTLS != "" {
		parts = append(parts, "POP3S on "+cfg.ListenTLS)
	}
	if cfg.AuthHTTP != "" {
		parts = append(parts, "auth_http on "+cfg.AuthHTTP)
	}
	return fmt.Sprintf("serving %s; %d users", strings.Join(parts, ", "), len(d.users.Users()))
}
