package userdb

import (
	"syscall"
	"time"
)

// changeTime is the inode's change time (st_ctim), to the nanosecond.
func changeTime(st *syscall.Stat_t) time.Time { return time.Unix(st.Ctim.Unix()) }
