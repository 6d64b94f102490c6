package maildir

import (
	"encoding/binary"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// listFolder calls fn with the names of the regular files in the directory
// dirfd (read from its start, with an offset of its own) whose
// names do not start with ".", in directory order, a batch at a time; fn
// owns the batch. It reads the directory with getdents64 and takes the file
// type from the entries (an lstat only where the file system does not tell):
// os.File.ReadDir costs an allocation per entry and os.ReadDir sorts, and
// neither is needed for 100,000 messages.
func listFolder(dirfd int, fn func(names []string)) error {
	fd, err := reopen(dirfd)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	bp := direntBufs.Get().(*[direntBufSize]byte)
	defer direntBufs.Put(bp)
	buf := bp[:]
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		// One string for the whole batch; names are substrings of it.
		batch := string(buf[:n])
		var names []string
		for off := 0; off+19 < len(batch); {
			// struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen;
			// u8 d_type; char d_name[]; }
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen < 20 || off+reclen > len(batch) {
				return unix.EIO
			}
			typ := batch[off+18]
			name := batch[off+19 : off+reclen]
			if i := strings.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if name == "" || name[0] == '.' {
				continue
			}
			if typ == unix.DT_UNKNOWN {
				var st unix.Stat_t
				if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
					continue // gone already
				}
				if st.Mode&unix.S_IFMT == unix.S_IFREG {
					typ = unix.DT_REG
				}
			}
			if typ == unix.DT_REG {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			fn(names)
		}
	}
}

// direntBufs recycles listFolder's buffers. A buffer of its own would be
// on the stack (a constant-size make that does not escape): 64 KB that
// grew every session's goroutine stack to 128 KB at login — copied as it
// grew, and kept until the GC halved it back, GC after GC, while the
// session sat idle.
var direntBufs = sync.Pool{New: func() any { return new([direntBufSize]byte) }}

const direntBufSize = 64 << 10
