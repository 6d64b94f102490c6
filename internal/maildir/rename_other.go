//go:build !linux

package maildir

// renameNoReplace renames oldpath to newpath, failing with an error matching
// fs.ErrExist when newpath exists.
func renameNoReplace(oldpath, newpath string) error {
	return linkUnlink(oldpath, newpath)
}
