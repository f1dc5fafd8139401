package lockfile

import (
	"bytes"
	"errors"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// StdlibName is the package name under which the Go standard library is
// reported, as the Go vulnerability database names it.
const StdlibName = "stdlib"

// ParseGoMod reads a go.mod. Every required module is reported with its
// version (without the "v" prefix); a replace directive that applies to a
// requirement reports the replacement instead, and a replacement by a
// directory is a local package with no version. The standard library is
// reported as StdlibName at the version of the toolchain directive, or of
// the go directive when there is none — a minimum, not the toolchain that
// builds the module (see the package deps for how that is matched).
//
// goSum is the content of the go.sum beside the file, or nil. Modules that
// declare go 1.17 or later list every module of the build in go.mod, so
// goSum is read only for older modules, whose indirect dependencies only
// go.sum names.
func ParseGoMod(filePath string, data, goSum []byte) (*File, error) {
	mf, err := modfile.Parse(filePath, data, nil)
	if err != nil {
		line := 0
		var list modfile.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			line = list[0].Pos.Line
			err = list[0].Err
		}
		return nil, &SyntaxError{Path: filePath, Kind: KindGo, Line: line, Err: err}
	}
	f := &File{Path: filePath, Kind: KindGo}

	excluded := map[module.Version]bool{}
	for _, e := range mf.Exclude {
		excluded[e.Mod] = true
	}
	exact := map[module.Version]*modfile.Replace{}
	wildcard := map[string]*modfile.Replace{}
	for _, r := range mf.Replace {
		if r.Old.Version == "" {
			wildcard[r.Old.Path] = r
		} else {
			exact[r.Old] = r
		}
	}
	for _, r := range mf.Require {
		line := r.Syntax.Start.Line
		if excluded[r.Mod] {
			// The go command skips an excluded version for the next one up,
			// which go.mod does not name: the version in use is unknown.
			f.Problems = append(f.Problems, Problem{Path: filePath, Line: line, Entry: r.Mod.String(),
				Reason: "required version is excluded, so the version in use is unknown"})
			continue
		}
		rep := exact[r.Mod]
		if rep == nil {
			rep = wildcard[r.Mod.Path]
		}
		if rep == nil {
			f.Packages = append(f.Packages, Package{
				Name:      r.Mod.Path,
				Version:   strings.TrimPrefix(r.Mod.Version, "v"),
				Ecosystem: EcosystemGo,
				Line:      line,
			})
			continue
		}
		p := Package{
			Name:      rep.New.Path,
			Version:   strings.TrimPrefix(rep.New.Version, "v"),
			Ecosystem: EcosystemGo,
			Line:      rep.Syntax.Start.Line,
			Replaces:  r.Mod.String(),
		}
		if rep.New.Version == "" {
			p.Origin, p.Resolved = OriginLocal, rep.New.Path
		}
		f.Packages = append(f.Packages, p)
	}

	goVersion := ""
	if mf.Go != nil {
		goVersion = mf.Go.Version
	}
	if goSum != nil && (goVersion == "" || semver.Compare("v"+goVersion, "v1.17") < 0) {
		readGoSum(f, strings.TrimSuffix(filePath, ".mod")+".sum", goSum)
	}

	switch {
	case mf.Toolchain != nil && strings.HasPrefix(mf.Toolchain.Name, "go"):
		v := strings.TrimPrefix(mf.Toolchain.Name, "go")
		v, _, _ = strings.Cut(v, "-") // custom toolchain suffix
		f.Packages = append(f.Packages, Package{Name: StdlibName, Version: v, Ecosystem: EcosystemGo, Line: mf.Toolchain.Syntax.Start.Line})
	case mf.Go != nil:
		f.Packages = append(f.Packages, Package{Name: StdlibName, Version: mf.Go.Version, Ecosystem: EcosystemGo, Line: mf.Go.Syntax.Start.Line})
	}
	f.Packages = dedupe(f.Packages)
	return f, nil
}

// readGoSum adds the modules go.sum holds source hashes for.
func readGoSum(f *File, sumPath string, data []byte) {
	have := map[string]bool{}
	for _, p := range f.Packages {
		have[p.Name+"@"+p.Version] = true
	}
	n := 0
	for raw := range bytes.Lines(data) {
		n++
		t := strings.TrimSpace(string(raw))
		if t == "" {
			continue
		}
		fields := strings.Fields(t)
		if len(fields) != 3 || !strings.HasPrefix(fields[1], "v") || !strings.Contains(fields[2], ":") {
			// The line itself is never repeated: a go.sum swapped for another
			// file would publish that file's lines in the report.
			f.Problems = append(f.Problems, Problem{Path: sumPath, Line: n, Reason: "not a go.sum line"})
			continue
		}
		if strings.HasSuffix(fields[1], "/go.mod") {
			continue // only the go.mod was needed, not the code
		}
		if err := module.Check(fields[0], fields[1]); err != nil {
			f.Problems = append(f.Problems, Problem{Path: sumPath, Line: n, Reason: "invalid module path or version"})
			continue
		}
		v := strings.TrimPrefix(fields[1], "v")
		if have[fields[0]+"@"+v] {
			continue
		}
		have[fields[0]+"@"+v] = true
		f.Packages = append(f.Packages, Package{Name: fields[0], Version: v, Ecosystem: EcosystemGo, Line: n, Integrity: fields[2]})
	}
}
