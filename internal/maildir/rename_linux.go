package maildir

import (
	"golang.org/x/sys/unix"
)

// renameNoReplace renames oldname in the directory olddir to newname in
// newdir, failing with EEXIST when newname exists. File systems without
// RENAME_NOREPLACE (NFS) get link and unlink.
func renameNoReplace(olddir int, oldname string, newdir int, newname string) error {
	err := unix.Renameat2(olddir, oldname, newdir, newname, unix.RENAME_NOREPLACE)
	switch err {
	case unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP:
		return linkUnlink(olddir, oldname, newdir, newname)
	}
	return err
}
