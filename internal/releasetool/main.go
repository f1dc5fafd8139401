// Command releasetool builds Rampart's release artefacts: static,
// reproducible binaries for every supported platform, a CycloneDX SBOM
// generated from the modules compiled into them, and SHA256SUMS. It is what
// scripts/release.sh runs, and what CI runs on every change (build only,
// nothing is published).
//
// Reproducible means that the same commit built with the same Go toolchain
// gives the same bytes on any machine: cgo off (static, no C toolchain),
// -trimpath (no local paths), no VCS stamping and an empty build id, and
// every stamped value — version, commit, date — taken from the commit, not
// the clock (SOURCE_DATE_EPOCH overrides the date).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target is one platform of the release.
type Target struct{ OS, Arch string }

func (t Target) String() string { return t.OS + "/" + t.Arch }

// Targets are the platforms every release ships.
var Targets = []Target{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "arm64"}, {"windows", "amd64"}}

// Stamp is what the binaries report in `rampart version`.
type Stamp struct {
	Version string
	Commit  string
	Date    time.Time
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("releasetool", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "dist", "output `directory` (emptied first)")
	version := fs.String("version", "", "release `version`, e.g. v1.2.3 (default: devel-<short commit>)")
	targets := fs.String("targets", "", "comma-separated `os/arch` list (default: every release target)")
	pkg := fs.String("pkg", "./cmd/rampart", "main `package` to build")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "releasetool: error: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	sel, err := selectTargets(*targets)
	if err != nil {
		fmt.Fprintf(stderr, "releasetool: error: %v\n", err)
		return 2
	}
	stamp, err := currentStamp(ctx, *version, os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		fmt.Fprintf(stderr, "releasetool: error: %v\n", err)
		return 1
	}
	if err := release(ctx, *out, *pkg, stamp, sel, stdout); err != nil {
		fmt.Fprintf(stderr, "releasetool: error: %v\n", err)
		return 1
	}
	return 0
}

func selectTargets(list string) ([]Target, error) {
	if list == "" {
		return Targets, nil
	}
	var out []Target
	for _, s := range strings.Split(list, ",") {
		i := slices.IndexFunc(Targets, func(t Target) bool { return t.String() == strings.TrimSpace(s) })
		if i < 0 {
			return nil, fmt.Errorf("unknown target %q (release targets: %v)", s, Targets)
		}
		out = append(out, Targets[i])
	}
	return out, nil
}

// currentStamp takes the commit and its date from git; epoch, when set, is
// the date (SOURCE_DATE_EPOCH, seconds).
func currentStamp(ctx context.Context, version, epoch string) (Stamp, error) {
	var s Stamp
	commit, err := git(ctx, "rev-parse", "HEAD")
	if err != nil {
		return s, fmt.Errorf("reading the commit: %w", err)
	}
	s.Commit = commit
	if epoch != "" {
		sec, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return s, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", epoch)
		}
		s.Date = time.Unix(sec, 0).UTC()
	} else {
		d, err := git(ctx, "log", "-1", "--format=%ct", "HEAD")
		if err != nil {
			return s, fmt.Errorf("reading the commit date: %w", err)
		}
		sec, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			return s, fmt.Errorf("commit date %q: %w", d, err)
		}
		s.Date = time.Unix(sec, 0).UTC()
	}
	s.Version = version
	if s.Version == "" {
		s.Version = "devel-" + s.Commit[:min(12, len(s.Commit))]
	}
	if strings.ContainsAny(s.Version, " \t\n'\"/\\") {
		return s, fmt.Errorf("version %q may not contain spaces, quotes or slashes", s.Version)
	}
	return s, nil
}

func git(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), bytes.TrimSpace(ee.Stderr))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// BinaryName is the file name of the binary for t.
func BinaryName(s Stamp, t Target) string {
	name := fmt.Sprintf("rampart_%s_%s_%s", s.Version, t.OS, t.Arch)
	if t.OS == "windows" {
		name += ".exe"
	}
	return name
}

// release builds every target into out, then the SBOM and SHA256SUMS.
func release(ctx context.Context, out, pkg string, s Stamp, targets []Target, log io.Writer) error {
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var bins []string
	for _, t := range targets {
		path := filepath.Join(out, BinaryName(s, t))
		start := time.Now()
		if err := build(ctx, pkg, path, s, t); err != nil {
			return err
		}
		if err := checkStatic(path, t); err != nil {
			return err
		}
		fmt.Fprintf(log, "built %s (%s)\n", path, time.Since(start).Round(time.Millisecond))
		bins = append(bins, path)
	}
	info, err := buildinfo.ReadFile(bins[0])
	if err != nil {
		return fmt.Errorf("reading build info of %s: %w", bins[0], err)
	}
	sbom, err := CycloneDX(info, s)
	if err != nil {
		return err
	}
	sbomPath := filepath.Join(out, "rampart.cdx.json")
	if err := os.WriteFile(sbomPath, sbom, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrote %s (%s)\n", sbomPath, "CycloneDX 1.5")
	sums, err := Checksums(append(bins, sbomPath))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "SHA256SUMS"), sums, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrote %s\n", filepath.Join(out, "SHA256SUMS"))
	return nil
}

// build compiles pkg for t: static, trimmed, stamped from s.
func build(ctx context.Context, pkg, path string, s Stamp, t Target) error {
	ldflags := strings.Join([]string{
		"-s", "-w", "-buildid=",
		"-X", "main.version=" + s.Version,
		"-X", "main.commit=" + s.Commit,
		"-X", "main.date=" + s.Date.Format(time.RFC3339),
	}, " ")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", path, pkg)
	env := slices.DeleteFunc(os.Environ(), func(e string) bool {
		for _, k := range []string{"CGO_ENABLED=", "GOOS=", "GOARCH=", "GOFLAGS=", "GOAMD64=", "GOARM64="} {
			if strings.HasPrefix(e, k) {
				return true
			}
		}
		return false
	})
	cmd.Env = append(env, "CGO_ENABLED=0", "GOOS="+t.OS, "GOARCH="+t.Arch, "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", t, err, stderr.Bytes())
	}
	return nil
}

// checkStatic fails when a Linux binary asks for a dynamic loader or
// shared libraries: the container image has neither.
func checkStatic(path string, t Target) error {
	if t.OS != "linux" {
		return nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (has an ELF interpreter)", path)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		return fmt.Errorf("%s needs shared libraries %v", path, libs)
	}
	return nil
}

// Checksums returns SHA256SUMS for files, in the format `sha256sum --check`
// reads, sorted by name.
func Checksums(files []string) ([]byte, error) {
	var lines []string
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		lines = append(lines, hex.EncodeToString(h.Sum(nil))+"  "+filepath.Base(p))
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}
