package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time by the release build:
//
//	-ldflags "-X main.version=v1.2.3 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// When they are empty, the module's build information fills them in: the
// module version for `go install …@v1.2.3`, and the VCS revision and commit
// time that `go build` stamps in a checkout.
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildInfo is what `rampart version` reports.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// currentBuild combines the link-time stamps with the binary's build
// information; a stamp given at link time wins.
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true" && commit == ""
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

func buildVersion() string { return currentBuild().Version }

func runVersion(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("version", "version [--json]", "Print rampart's version, the commit and date it was built from, and the Go toolchain.")
	asJSON := fs.Bool("json", false, "print one JSON object: version, commit, date, go_version, os, arch")
	if done, code := c.parseFlags(fs, args); done {
		return code
	}
	if done, code := c.noArgs(fs); done {
		return code
	}
	b := currentBuild()
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(b); err != nil {
			return c.errorf(exitFindings, "writing version: %v", err)
		}
		return exitOK
	}
	rev := b.Commit
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if b.Modified {
		rev += "+dirty"
	}
	fmt.Fprintf(c.stdout, "rampart %s (commit %s, built %s) %s %s/%s\n", b.Version, rev, b.Date, b.GoVersion, b.OS, b.Arch)
	return exitOK
}
