// Package accounts is what popd and popadm share about user accounts: the
// one mapping of userdb's errors to the control API's, and the editing of
// a users file directly, without popd (popadm user … -users FILE), so that
// the first users can be made before popd starts.
package accounts

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"popd/internal/control"
	"popd/internal/userdb"
)

// ControlError gives userdb's errors their control code: no such user is
// control.CodeNotFound, a user who exists already control.CodeConflict, a
// bad name or password control.CodeInvalid. The message is userdb's
// without its "userdb: " prefix, since an operator reads it. nil and other
// errors are returned as they are.
func ControlError(err error) error {
	var code control.ErrorCode
	switch {
	case err == nil:
		return nil
	case errors.Is(err, userdb.ErrUnknownUser):
		code = control.CodeNotFound
	case errors.Is(err, userdb.ErrUserExists):
		code = control.CodeConflict
	case errors.Is(err, userdb.ErrInvalidName), errors.Is(err, userdb.ErrInvalidPassword):
		code = control.CodeInvalid
	default:
		return err
	}
	return &control.Error{Code: code, Message: strings.TrimPrefix(err.Error(), "userdb: ")}
}

// File is a users file edited in place, the way popd edits it (userdb:
// under an flock, replaced atomically), so that popadm and a running popd
// may both edit it. Its errors are those of ControlError.
type File struct {
	db *userdb.File
}

// OpenFile loads the users file at path. With create, a missing file is
// first created empty, mode 0600; an existing one is never truncated.
// Lines that cannot be used are logged to log, which may be nil.
func OpenFile(path string, create bool, log *slog.Logger) (*File, error) {
	if create {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			err = f.Close()
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("accounts: %w", err)
		}
	}
	db, err := userdb.Open(path, log)
	if err != nil {
		return nil, err
	}
	return &File{db: db}, nil
}

// List returns the users, sorted by name; only Name, Scheme and Disabled
// are set (the file knows nothing of maildrops). It is never nil, so that
// it encodes as a JSON array.
func (f *File) List() []control.User {
	us := f.db.Users()
	out := make([]control.User, len(us))
	for i, u := range us {
		out[i] = control.User{Name: u.Name, Scheme: u.Scheme, Disabled: u.Disabled}
	}
	return out
}

// Add adds a user with the password, hashed in userdb.DefaultScheme.
func (f *File) Add(name, password string) error {
	return ControlError(f.db.Add(name, password))
}

// SetPassword changes a user's password.
func (f *File) SetPassword(name, password string) error {
	return ControlError(f.db.SetPassword(name, password))
}

// SetDisabled refuses (disabled) or allows a user's logins.
func (f *File) SetDisabled(name string, disabled bool) error {
	return ControlError(f.db.SetDisabled(name, disabled))
}

// Delete removes a user. Their mail is not touched: only popd knows where
// it is.
func (f *File) Delete(name string) error {
	return ControlError(f.db.Delete(name))
}
