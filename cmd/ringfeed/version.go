package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is the release this binary was built from. A release build
// stamps it:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/ringfeed
//
// Left empty, the version comes from the build info: the module version
// for `go install github.com/ringfeed/ringfeed/cmd/ringfeed@v1.2.3`, or
// "(devel)" for a build in a checkout, with the VCS revision.
var version string

// versionLine is what --version prints: the version, the VCS revision and
// time when the build recorded them, and the Go version.
func versionLine() string {
	v := version
	var rev, when string
	modified := false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	line := "ringfeed " + v
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		line += " commit " + rev
		if modified {
			line += "+modified"
		}
		if when != "" {
			line += " " + when
		}
	}
	return line + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func printVersion(w io.Writer) { fmt.Fprintln(w, versionLine()) }
