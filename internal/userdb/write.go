package userdb

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Editing. Every edit runs under an flock on "<file>.lock" (taken by every
// popd and popadm process), re-reads the file, applies itself to what is on
// disk now, and replaces the file atomically: a temporary file in the same
// directory with the original's mode (and owner, when running as root),
// fsynced, renamed over the original, then the directory fsynced. (Not
// running as root, the new file is owned by the editing user.) Lines the
// edit does not touch, comments and blank lines included, are kept byte for
// byte.
//
// A hand edit (an editor does not take the flock) is never overwritten: if
// the file differs from what was last loaded, it is reloaded and the edit
// applied to the new content; if it changes between that read and the
// rename, the edit starts again. The window left is the rename itself.

// maxEditAttempts bounds the retries when the file keeps changing under an
// edit.
const maxEditAttempts = 5

// errNoChange tells edit that there is nothing to write.
var errNoChange = errors.New("userdb: no change")

// edit applies change to the current content of the file and writes the
// result. change gets the lines (see line) and the table parsed from them;
// it returns the new lines, errNoChange, or an error to return.
func (f *File) edit(change func(lines []line, t *table) ([]line, error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	// Write through a symlink, not over it.
	target, err := filepath.EvalSymlinks(f.path)
	if err != nil {
		return fmt.Errorf("userdb: %w", err)
	}
	_, id, err := readFile(target)
	if err != nil {
		return err
	}
	unlock, err := lockExclusive(target+".lock", id)
	if err != nil {
		return err
	}
	defer unlock()

	for range maxEditAttempts {
		data, id, err := readFile(target)
		if err != nil {
			return err
		}
		t := f.tab.Load()
		var lines []line
		if bytes.Equal(data, t.raw) {
			lines = quietLines(data)
		} else {
			t, lines = parse(data, f.log)
			f.store(t)
			f.log.Info("userdb: file changed on disk; reloaded before editing", "path", f.path, "users", len(t.sorted))
		}
		newLines, err := change(lines, t)
		if err == errNoChange {
			return nil
		}
		if err != nil {
			return err
		}
		newData := joinLines(newLines)
		err = writeAtomic(target, newData, id)
		if err == errFileChanged {
			continue
		}
		if err != nil {
			return err
		}
		nt, _ := parse(newData, discard)
		f.store(nt)
		return nil
	}
	return errNotWritten
}

var discard = slog.New(slog.DiscardHandler)

// quietLines returns the lines of data with their user names, without
// logging (the table for data was already built, and logged, earlier).
func quietLines(data []byte) []line {
	_, lines := parse(data, discard)
	return lines
}

var errFileChanged = errors.New("userdb: file changed during edit")

// writeAtomic replaces path with data, unless path no longer is the file
// read as id (then errFileChanged, nothing changed).
func writeAtomic(path string, data []byte, id fileID) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("userdb: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("userdb: write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Chmod(id.mode.Perm()); err != nil {
		return fmt.Errorf("userdb: %w", err)
	}
	if err = chownLike(tmp, id); err != nil {
		return fmt.Errorf("userdb: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("userdb: sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("userdb: %w", err)
	}
	// Last look before replacing: was the file edited by hand meanwhile?
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("userdb: %w", err)
	}
	if !identify(fi).same(id) {
		return errFileChanged
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("userdb: %w", err)
	}
	if err := syncDir(dir); err != nil {
		// The new file is in place; only its durability is in doubt.
		return fmt.Errorf("userdb: sync directory %s: %w", dir, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lineEnding returns the line ending the file uses ("\n" for a new file).
func lineEnding(lines []line) string {
	for _, l := range lines {
		if strings.HasSuffix(l.eol, "\n") {
			return l.eol
		}
	}
	return "\n"
}

// setField returns text with its colon-separated field i (0 = name, 1 =
// password, ..., 7 = extra fields) set to val, adding empty fields as
// needed. The extra fields keep any ":" of their own.
func setField(text string, i int, val string) string {
	f := strings.SplitN(text, ":", 8)
	for len(f) <= i {
		f = append(f, "")
	}
	f[i] = val
	if val == "" && i == len(f)-1 {
		// Drop the empty fields at the end that an earlier edit may have
		// added, so that disabling and enabling again gives the line back.
		for len(f) > 2 && f[len(f)-1] == "" {
			f = f[:len(f)-1]
		}
	}
	return strings.Join(f, ":")
}

// Add appends a line for a new user, "name:{BLF-CRYPT}$2y$10$...", with the
// password hashed in DefaultScheme. It returns an error wrapping
// ErrInvalidName or ErrInvalidPassword for a name or password that cannot be
// stored, and ErrUserExists when the file already has the user (even one
// whose password cannot be checked).
func (f *File) Add(name, password string) error {
	h, err := hashFor(name, password)
	if err != nil {
		return err
	}
	err = f.edit(func(lines []line, t *table) ([]line, error) {
		if _, ok := t.users[name]; ok {
			return nil, ErrUserExists
		}
		eol := lineEnding(lines)
		if n := len(lines); n > 0 && lines[n-1].eol == "" {
			lines[n-1].eol = eol
		}
		return append(lines, line{text: name + ":" + h, eol: eol, name: name}), nil
	})
	if err == nil {
		f.log.Info("userdb: user added", "user", name, "path", f.path)
	}
	return err
}

// SetPassword replaces the user's password field with the password hashed
// in DefaultScheme, whatever scheme it had. The rest of the line is kept.
// It returns ErrUnknownUser when there is no such user.
func (f *File) SetPassword(name, password string) error {
	h, err := hashFor(name, password)
	if err != nil {
		return err
	}
	err = f.edit(func(lines []line, t *table) ([]line, error) {
		u, ok := t.users[name]
		if !ok {
			return nil, ErrUnknownUser
		}
		l := &lines[u.line-1]
		l.text = setField(l.text, 1, h)
		return lines, nil
	})
	if err == nil {
		f.log.Info("userdb: password changed", "user", name, "path", f.path)
	}
	return err
}

// Delete removes every line for the user (duplicates too, so that no
// shadowed entry comes back). It returns ErrUnknownUser when there is none.
func (f *File) Delete(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	err := f.edit(func(lines []line, t *table) ([]line, error) {
		if _, ok := t.users[name]; !ok {
			return nil, ErrUnknownUser
		}
		out := lines[:0]
		for _, l := range lines {
			if l.name != name {
				out = append(out, l)
			}
		}
		return out, nil
	})
	if err == nil {
		f.log.Info("userdb: user deleted", "user", name, "path", f.path)
	}
	return err
}

// SetDisabled disables or enables the user through the extra fields.
// Disabling adds the word "popd_disabled" (Dovecot ignores it, so IMAP is not
// affected). Enabling removes every "popd_disabled" and "nologin" word, so
// that the user is no longer Disabled; note that "nologin" also refuses
// the user in Dovecot. When the user already is in the asked state, the file
// is not written. Every other byte of the extra fields (userdb_mail and the
// like) is kept.
// It returns ErrUnknownUser when there is no such user.
func (f *File) SetDisabled(name string, disable bool) error {
	if err := ValidName(name); err != nil {
		return err
	}
	changed := false
	err := f.edit(func(lines []line, t *table) ([]line, error) {
		u, ok := t.users[name]
		if !ok {
			return nil, ErrUnknownUser
		}
		if changed = u.Disabled != disable; !changed {
			return nil, errNoChange
		}
		l := &lines[u.line-1]
		l.text = setField(l.text, 7, setDisabledField(u.Extra, disable))
		return lines, nil
	})
	if err == nil && changed {
		f.log.Info("userdb: user state changed", "user", name, "disabled", disable, "path", f.path)
	}
	return err
}

// hashFor checks a user name and hashes the password in DefaultScheme,
// for a line about to be written.
func hashFor(name, password string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	return Hash(DefaultScheme, password)
}
