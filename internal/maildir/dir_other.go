//go:build !linux

package maildir

import (
	"io"
	"os"
)

// listFolder calls fn with the names of the regular files in the directory
// dirfd whose names do not start with ".", in directory order (os.ReadDir
// would sort), a batch at a time; fn owns the batch.
func listFolder(dirfd int, fn func(names []string)) error {
	fd, err := reopen(dirfd)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), ".")
	defer d.Close()
	for {
		ents, err := d.ReadDir(4096)
		var names []string
		for _, e := range ents {
			name := e.Name()
			if name == "" || name[0] == '.' || !e.Type().IsRegular() {
				continue
			}
			names = append(names, name)
		}
		if len(names) > 0 {
			fn(names)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
