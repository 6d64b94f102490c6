package userdb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// maxFileSize bounds what Open and Reload read, so that a wrong path (a
// device, a log file) fails instead of eating memory.
const maxFileSize = 256 << 20

// File is a passwd-file loaded in memory. Its methods are safe for
// concurrent use: Verify and Lookup read an immutable snapshot that Reload
// and the editing methods replace atomically.
type File struct {
	// OnReload, when set before Watch is called, is called by Watch after
	// each reload that changed the table (err == nil) or failed (err != nil,
	// the previous table kept); n is the number of users loaded now. It
	// runs on Watch's goroutine.
	OnReload func(n int, err error)
	// PollInterval, when set before Watch is called, is how often Watch
	// looks at the file itself besides the inotify watch, which does not
	// see writes made on another NFS client. Zero means DefaultPollInterval;
	// negative, no polling.
	PollInterval time.Duration

	path string
	log  *slog.Logger

	mu  sync.Mutex // serialises Reload and edits within this process
	tab atomic.Pointer[table]
	gen atomic.Uint64 // tables stored: see Generation

	// Test hooks: addWatch starts the inotify watch of dir (nil: w.Add);
	// reads counts the times reload read the file.
	addWatch func(w *fsnotify.Watcher, dir string) error
	reads    atomic.Int64
}

// Open reads and parses the passwd-file at path. A missing or unreadable
// file is an error; bad lines are not: they are logged (with their line
// number, never their content) and skipped, and users whose password cannot
// be checked are logged and kept, refused by Verify. log may be nil.
func Open(path string, log *slog.Logger) (*File, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &File{path: path, log: log}
	data, _, err := readFile(path)
	if err != nil {
		return nil, err
	}
	t, _ := parse(data, log.With("path", path))
	f.store(t)
	log.Info("userdb: loaded", "path", path, "users", len(t.sorted))
	return f, nil
}

// store makes t the table.
func (f *File) store(t *table) {
	f.tab.Store(t)
	f.gen.Add(1)
}

// Generation changes whenever the table does (a reload that changed it,
// an edit): a caller that derives something from every user need not
// derive it again while it stays the same.
func (f *File) Generation() uint64 { return f.gen.Load() }

// Path returns the path given to Open.
func (f *File) Path() string { return f.path }

// Lookup returns the user called name (compared exactly).
func (f *File) Lookup(name string) (User, bool) {
	u, ok := f.tab.Load().users[name]
	if !ok {
		return User{}, false
	}
	return u.clone(), true
}

// Users returns every user, sorted by name.
func (f *File) Users() []User {
	t := f.tab.Load()
	us := make([]User, len(t.sorted))
	for i, u := range t.sorted {
		us[i] = u.clone()
	}
	return us
}

// Verify checks name and password and returns the user when they are good.
// Errors, checked in this order:
//
//   - the name fails ValidName: an error wrapping ErrInvalidName, at once;
//   - no such user: ErrUnknownUser, after spending the time of a BLF-CRYPT
//     cost-10 check, so that timing does not tell which names exist;
//   - the user's password cannot be checked (User.Usable is false):
//     ErrUnsupportedScheme, after spending the same time;
//   - the password does not match, or is longer than MaxPasswordLen:
//     ErrBadPassword;
//   - the user is disabled: ErrDisabled (only ever after a right password).
//
// On error the returned User is the zero value. None of the errors says
// anything about the password; none of them is for the client to see.
func (f *File) Verify(name, password string) (User, error) {
	if err := ValidName(name); err != nil {
		return User{}, err
	}
	u, ok := f.tab.Load().users[name]
	switch {
	case !ok:
		spendDummy(password)
		return User{}, ErrUnknownUser
	case !u.sec.ok:
		spendDummy(password)
		return User{}, ErrUnsupportedScheme
	case len(password) > MaxPasswordLen:
		// SHA-crypt's work grows with the square of the length.
		spendDummy(password)
		return User{}, ErrBadPassword
	case !u.sec.verify(password):
		return User{}, ErrBadPassword
	case u.Disabled:
		return User{}, ErrDisabled
	}
	return u.clone(), nil
}

// Reload reads the file again and, when its content changed, replaces the
// table. On error (the file is missing, unreadable or too large) the old
// table stays and the error is returned. Lines that do not parse are no
// error: they are logged and skipped, as at Open.
func (f *File) Reload() error {
	_, _, err := f.reload()
	return err
}

// reload is Reload that also tells whether the table changed and the
// identity of the file it read (the zero fileID on error).
func (f *File) reload() (changed bool, id fileID, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads.Add(1)
	data, id, err := readFile(f.path)
	if err != nil {
		return false, fileID{}, err
	}
	if bytes.Equal(data, f.tab.Load().raw) {
		return false, id, nil
	}
	t, _ := parse(data, f.log.With("path", f.path))
	f.store(t)
	f.log.Info("userdb: reloaded", "path", f.path, "users", len(t.sorted))
	return true, id, nil
}

// readFile reads the regular file at path and returns its content and
// identity as seen by fstat on the same descriptor.
func readFile(path string) ([]byte, fileID, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fileID{}, fmt.Errorf("userdb: %w", err)
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return nil, fileID{}, fmt.Errorf("userdb: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fileID{}, fmt.Errorf("userdb: %s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(fd, maxFileSize+1))
	if err != nil {
		return nil, fileID{}, fmt.Errorf("userdb: read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fileID{}, fmt.Errorf("userdb: %s: larger than %d bytes", path, maxFileSize)
	}
	return data, identify(fi), nil
}

var errNotWritten = errors.New("userdb: the file kept changing while being edited; nothing written")
