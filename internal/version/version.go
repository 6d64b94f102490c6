// Package version says which popd this is: the version, the commit and the
// Go that built it. A release build sets them with
//
//	go build -ldflags "-X popd/internal/version.version=1.2.3 -X popd/internal/version.commit=abc1234"
//
// (contrib/deb/build.sh does); a plain go build or go install takes what
// the Go toolchain recorded (debug.ReadBuildInfo: the module version, the VCS
// revision and whether the tree was modified).
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Set at link time (-X); empty when not.
var (
	version string
	commit  string
)

// base is the version of a build that nothing else names: a tree between
// releases.
const base = "0.2.0-dev"

// Info is one build's identity.
type Info struct {
	Version string // "1.2.3", "0.2.0-dev"
	Commit  string // a VCS revision, shortened to 12 digits; "" when unknown
	Dirty   bool   // built from a tree with uncommitted changes
	Go      string // "go1.26.8"
}

// Get returns this binary's identity.
func Get() Info {
	in := Info{Version: version, Commit: commit}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		in.Go = bi.GoVersion
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = strings.TrimPrefix(bi.Main.Version, "v") // go install popd@v1.2.3
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Commit == "" {
					in.Commit = s.Value
				}
			case "vcs.modified":
				in.Dirty = in.Dirty || (s.Value == "true" && commit == "")
			}
		}
	}
	if in.Version == "" {
		in.Version = base
	}
	if len(in.Commit) > 12 {
		in.Commit = in.Commit[:12]
	}
	return in
}

// String is the one-line form: "popd 1.2.3 (commit abc1234, go1.26.8)".
func (in Info) String() string { return in.Line("popd") }

// Line is the one-line form for program prog.
func (in Info) Line(prog string) string {
	var extra []string
	if in.Commit != "" {
		c := "commit " + in.Commit
		if in.Dirty {
			c += "+modified"
		}
		extra = append(extra, c)
	}
	if in.Go != "" {
		extra = append(extra, in.Go)
	}
	if len(extra) == 0 {
		return prog + " " + in.Version
	}
	return fmt.Sprintf("%s %s (%s)", prog, in.Version, strings.Join(extra, ", "))
}
