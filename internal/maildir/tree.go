package maildir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrUnsafe means the maildir cannot be used safely: its path goes through
// a symbolic link that someone other than the administrator made, or its
// new/ or cur/ is not a directory of its own (a symbolic link, a file). The
// POP3 answer is "-ERR [SYS/PERM]"; the log says which part is wrong.
var ErrUnsafe = errors.New("maildir: unsafe maildir")

// tree is an opened maildir: its root and folders as open directories, so
// that every later step works relative to what was checked when it was
// opened (openat, renameat, unlinkat), and a folder swapped for a symbolic
// link during a session cannot redirect it.
type tree struct {
	path   string // for messages only
	root   int
	folder [2]int // by folder: cur, new
	owner  uint32 // uid of the maildir's owner
	id     dirID  // the root's device and inode
}

// checkLinks refuses a message file that is a hard link to a file of
// someone other than the maildir's owner: where fs.protected_hardlinks is
// off, a user can link any file of the same file system (another user's
// mail, /etc/shadow) into their new/, and popd, running as root, would
// serve it. A file with one name, or the owner's own file under two names
// (a crash between link and unlink), is a message.
func (t *tree) checkLinks(st *unix.Stat_t) error {
	if st.Nlink > 1 && st.Uid != t.owner {
		return fmt.Errorf("%w: a hard link to a file of uid %d in a maildir of uid %d", ErrUnsafe, st.Uid, t.owner)
	}
	return nil
}

// dirFlags open a directory without following a symbolic link in its last
// component and without blocking (were it a FIFO, O_DIRECTORY fails first).
const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK

// maxLinks is how many symbolic links a path may go through (Linux's own
// limit for a path lookup).
const maxLinks = 40

// openTree opens the maildir at path and its new/ and cur/ folders. With
// create, missing directories (the maildir, new/, cur/, tmp/) are made with
// mode 0700.
//
// Symbolic links. A user may be able to write into their own maildir, and
// popd reads and deletes files as root or as the mail user, so nothing a
// user places may point it elsewhere:
//   - new/ and cur/ must be directories, never links: a link there (to
//     another user's folder, to a root-only directory) makes the maildir
//     unusable (ErrUnsafe), it is not followed.
//   - On the path to the maildir, a link is followed only when it belongs to
//     root or to the user popd runs as, i.e. when the administrator made it
//     (/var/mail -> /srv/mail, or a maildir moved to another disk). A link
//     owned by anyone else (alice's ~/Maildir -> /home/bob/Maildir) is
//     refused with ErrUnsafe. This is the rule of Linux's
//     fs.protected_symlinks, applied to every component, and needs no
//     setting: to allow a link, the administrator owns it (chown -h).
func openTree(path string, create bool) (*tree, error) {
	root, err := openDirPath(path, create)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(root, &st); err != nil {
		unix.Close(root)
		return nil, err
	}
	t := &tree{path: path, root: root, folder: [2]int{-1, -1}, owner: st.Uid,
		id: dirID{uint64(st.Dev), uint64(st.Ino)}}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if sub == "tmp" {
			if create { // not ours to use; made for the MTA when missing
				unix.Mkdirat(root, sub, 0o700)
			}
			continue
		}
		fd, err := openSubdir(root, sub, create)
		if err == unix.ENOTDIR {
			err = errors.New("not a directory (a symbolic link or a file)")
		}
		if err != nil {
			t.close()
			return nil, fmt.Errorf("%w: %s/%s: %w", ErrUnsafe, path, sub, err)
		}
		switch sub {
		case "cur":
			t.folder[folderCur] = fd
		case "new":
			t.folder[folderNew] = fd
		}
	}
	return t, nil
}

func (t *tree) close() {
	for _, fd := range append(t.folder[:], t.root) {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// openDirPath opens the directory at path, following only the symbolic
// links that root or popd's own user owns (see openTree), and making the
// missing directories when create is set.
func openDirPath(path string, create bool) (int, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return -1, fmt.Errorf("maildir: %w", err)
	}
	// Most paths have no link at all: one openat2 that refuses any link
	// opens them as the walk below would, in one system call instead of
	// two a component. Anything else — a link, a missing directory, a
	// kernel without openat2 (before 5.6), an error — takes the walk,
	// which follows the links it may and says which component is wrong.
	if fd, err := openNoLinks(abs); err == nil {
		return fd, nil
	}
	fd, err := unix.Open("/", dirFlags, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	comps := strings.Split(abs, "/")
	links := 0
	walked := "" // for messages
	for len(comps) > 0 {
		c := comps[0]
		comps = comps[1:]
		if c == "" || c == "." {
			continue
		}
		// Missing directories are made only for the rest of the path as it
		// was given, not inside a link's target.
		next, err := openSubdir(fd, c, create)
		if err == unix.ENOTDIR {
			var st unix.Stat_t
			if unix.Fstatat(fd, c, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				if st.Uid != 0 && st.Uid != uint32(os.Geteuid()) {
					unix.Close(fd)
					return -1, fmt.Errorf("%w: %s is a symbolic link owned by uid %d; popd follows only links owned by root or by the user it runs as",
						ErrUnsafe, walked+"/"+c, st.Uid)
				}
				if links++; links > maxLinks {
					unix.Close(fd)
					return -1, &os.PathError{Op: "open", Path: path, Err: unix.ELOOP}
				}
				target, err := readlinkat(fd, c)
				if err != nil {
					unix.Close(fd)
					return -1, &os.PathError{Op: "readlink", Path: walked + "/" + c, Err: err}
				}
				comps = append(strings.Split(target, "/"), comps...)
				if strings.HasPrefix(target, "/") {
					unix.Close(fd)
					if fd, err = unix.Open("/", dirFlags, 0); err != nil {
						return -1, &os.PathError{Op: "open", Path: "/", Err: err}
					}
					walked = ""
				}
				continue
			}
		}
		unix.Close(fd)
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: walked + "/" + c, Err: err}
		}
		fd = next
		walked += "/" + c
	}
	return fd, nil
}

// openNoLinks opens the directory at the absolute path abs as the walk of
// openDirPath does when it meets no link: every component a directory,
// none a symbolic link (ELOOP then).
func openNoLinks(abs string) (int, error) {
	how := unix.OpenHow{Flags: dirFlags, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	for {
		fd, err := unix.Openat2(unix.AT_FDCWD, abs, &how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}

// openSubdir opens the directory name in dirfd, never through a link
// (ENOTDIR for a link), and makes it when it is missing and create is set.
func openSubdir(dirfd int, name string, create bool) (int, error) {
	for try := 0; ; try++ {
		fd, err := unix.Openat(dirfd, name, dirFlags, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ENOENT && create && try == 0:
			if err := unix.Mkdirat(dirfd, name, 0o700); err != nil && err != unix.EEXIST {
				return -1, err
			}
			continue
		case err == unix.ELOOP:
			err = unix.ENOTDIR
		}
		return fd, err
	}
}

func readlinkat(dirfd int, name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		if len(buf) >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, 2*len(buf))
	}
}

// reopen is a new open file description of the directory fd, with its own
// read offset, for listing it again.
func reopen(fd int) (int, error) {
	for {
		nfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return nfd, err
		}
	}
}

// fileFlags open a file in a maildir that a user may have placed: never
// through a link, never blocking on a FIFO or a device, never becoming a
// controlling terminal.
const fileFlags = unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY

// openRegular opens name in dirfd with fileFlags and checks that it is a
// regular file; a FIFO, a device, a socket or a link is refused with an
// error saying what it is.
func openRegular(dirfd int, name string, mode int) (*regFile, unix.Stat_t, error) {
	var st unix.Stat_t
	// Look before opening: opening a device node can have effects of its
	// own. The fstat after the open tells whether it is still that file.
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, st, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, st, errNotRegular(fileType(st.Mode))
	}
	return openNoFollow(dirfd, name, mode)
}

// openNoFollow is openRegular without the look before opening, for message
// files: listed as regular files a moment ago, in folders where only the
// mail system and the user write (who cannot make device nodes), and opened
// often.
func openNoFollow(dirfd int, name string, mode int) (*regFile, unix.Stat_t, error) {
	fd, st, err := openFd(dirfd, name, mode)
	if err != nil {
		return nil, st, err
	}
	return &regFile{fd: fd}, st, nil
}

// openFd is openNoFollow returning the descriptor: an *os.File costs three
// to six more system calls (fcntl, epoll_ctl) to open and close, which
// counts when every RETR opens a file, and every login the lock and a UID
// source or two (regFile).
func openFd(dirfd int, name string, mode int) (int, unix.Stat_t, error) {
	var st unix.Stat_t
	var fd int
	var err error
	for {
		fd, err = unix.Openat(dirfd, name, mode|fileFlags, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.ELOOP {
		return -1, st, errNotRegular("a symbolic link")
	}
	if err != nil {
		return -1, st, err
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, st, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, st, errNotRegular(fileType(st.Mode))
	}
	return fd, st, nil
}

// fdReader reads a regular file by its descriptor (see openFd).
type fdReader int

func (fd fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(int(fd), p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// regFile is a regular file opened by openRegular or openNoFollow: what
// popd does with the lock, the UID sources and the index, straight on the
// descriptor (see openFd).
type regFile struct{ fd int }

func (f *regFile) Read(p []byte) (int, error) { return fdReader(f.fd).Read(p) }

// ReadAt reads len(p) bytes at off, or fewer with io.EOF at the end.
func (f *regFile) ReadAt(p []byte, off int64) (int, error) { return f.all(unix.Pread, p, off, io.EOF) }

// WriteAt writes all of p at off.
func (f *regFile) WriteAt(p []byte, off int64) (int, error) {
	return f.all(unix.Pwrite, p, off, io.ErrShortWrite)
}

// all calls op (pread, pwrite) until it has done all of p, or fails; none
// is the error when op does nothing.
func (f *regFile) all(op func(int, []byte, int64) (int, error), p []byte, off int64, none error) (int, error) {
	n := 0
	for n < len(p) {
		k, err := op(f.fd, p[n:], off+int64(n))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return n, err
		case k == 0:
			return n, none
		}
		n += k
	}
	return n, nil
}

func (f *regFile) Fd() uintptr { return uintptr(f.fd) }

// Close closes the descriptor once; a second Close must not close
// another file that got the same number meanwhile.
func (f *regFile) Close() error {
	if f.fd < 0 {
		return os.ErrClosed
	}
	fd := f.fd
	f.fd = -1
	return unix.Close(fd)
}

type errNotRegular string

func (e errNotRegular) Error() string { return "not a regular file but " + string(e) }

func fileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFLNK:
		return "a symbolic link"
	}
	return "a special file"
}

// listNames is every name in the directory dirfd (but . and ..), for the
// maildir root, which is small.
func listNames(dirfd int) []string {
	fd, err := reopen(dirfd)
	if err != nil {
		return nil
	}
	d := os.NewFile(uintptr(fd), ".")
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	return names
}
