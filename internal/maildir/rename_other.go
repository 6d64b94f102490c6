//go:build !linux

package maildir

// renameNoReplace renames oldname in the directory olddir to newname in
// newdir, failing with EEXIST when newname exists.
func renameNoReplace(olddir int, oldname string, newdir int, newname string) error {
	return linkUnlink(olddir, oldname, newdir, newname)
}
