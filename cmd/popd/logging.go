package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"

	"popd/internal/config"
)

// newLogger logs to w (stderr) in cfg's format. When w is the journal
// (systemd sets $JOURNAL_STREAM to its device and inode), each line
// starts with its syslog priority (<6> …), which journald turns into the
// entry's PRIORITY, and the text format leaves out time=, which the
// journal records itself — journalctl -p warning then works, and the
// MESSAGE starts with level= (contrib/fail2ban's filter expects either).
func newLogger(cfg config.Config, w *os.File) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	var out io.Writer = w
	if toJournal(w) {
		out = priorityWriter{w}
		if cfg.LogFormat != "json" {
			opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{}
				}
				return a
			}
		}
	}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}

// toJournal reports whether f is the stream $JOURNAL_STREAM names
// ("device:inode"), as systemd.exec(5) says to check.
func toJournal(f *os.File) bool {
	dev, ino, ok := strings.Cut(os.Getenv("JOURNAL_STREAM"), ":")
	if !ok {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return dev == strconv.FormatUint(uint64(st.Dev), 10) && ino == strconv.FormatUint(st.Ino, 10)
}

// priorityWriter prefixes each record — slog's handlers write one per
// Write — with the syslog priority of its level (sd-daemon(3)).
type priorityWriter struct{ w io.Writer }

var priorities = []struct {
	text, json, prefix string
}{
	{"level=ERROR", `"level":"ERROR"`, "<3>"},
	{"level=WARN", `"level":"WARN"`, "<4>"},
	{"level=INFO", `"level":"INFO"`, "<6>"},
	{"level=DEBUG", `"level":"DEBUG"`, "<7>"},
}

func (p priorityWriter) Write(b []byte) (int, error) {
	head := b[:min(len(b), 80)]
	prefix := "<6>"
	for _, pr := range priorities {
		if bytes.Contains(head, []byte(pr.text)) || bytes.Contains(head, []byte(pr.json)) {
			prefix = pr.prefix
			break
		}
	}
	if _, err := p.w.Write(append([]byte(prefix), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}
