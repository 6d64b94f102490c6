package daemon

import (
	"errors"
	"strings"

	"popd/internal/control"
	"popd/internal/event"
)

// Reload implements control.Daemon: the configuration (when there is a
// source for it), the users file and the certificate. The Live settings
// apply to new sessions and logins; changed Static ones are named in the
// log as needing a restart. A configuration that does not validate
// changes nothing.
func (d *daemon) Reload(by string) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
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
	if err := d.users.Reload(); err != nil {
		errs = append(errs, err)
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
