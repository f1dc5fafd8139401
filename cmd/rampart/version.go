package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; when it
// is empty the module version from the build info is used.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

func runVersion(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("version", "version", "Print rampart's version and the Go toolchain it was built with.")
	if done, code := c.parseFlags(fs, args); done {
		return code
	}
	if done, code := c.noArgs(fs); done {
		return code
	}
	fmt.Fprintf(c.stdout, "rampart %s %s %s/%s\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
