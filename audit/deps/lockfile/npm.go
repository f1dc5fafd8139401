package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

type npmLock struct {
	LockfileVersion int                       `json:"lockfileVersion"`
	Packages        map[string]*npmPackage    `json:"packages"`
	Dependencies    map[string]*npmDependency `json:"dependencies"`
}

// npmPackage is an entry of the "packages" object (lockfile v2 and v3).
type npmPackage struct {
	Name             string `json:"name"`
	Version          string `json:"version"`
	Resolved         string `json:"resolved"`
	Integrity        string `json:"integrity"`
	Dev              bool   `json:"dev"`
	Optional         bool   `json:"optional"`
	DevOptional      bool   `json:"devOptional"`
	Peer             bool   `json:"peer"`
	InBundle         bool   `json:"inBundle"`
	Link             bool   `json:"link"`
	HasInstallScript bool   `json:"hasInstallScript"`
}

// npmDependency is an entry of the "dependencies" object (lockfile v1).
type npmDependency struct {
	Version      string                    `json:"version"`
	Resolved     string                    `json:"resolved"`
	Integrity    string                    `json:"integrity"`
	Dev          bool                      `json:"dev"`
	Optional     bool                      `json:"optional"`
	Bundled      bool                      `json:"bundled"`
	Dependencies map[string]*npmDependency `json:"dependencies"`
}

var errNullJSON = errors.New("decoded null JSON value")

// ParseNPM reads an npm package-lock.json or npm-shrinkwrap.json of any
// lockfile version. Version 2 and 3 files are read from their "packages"
// object, which records every installed copy by its node_modules path;
// version 1 files from the nested "dependencies" object. Packages are
// reported once per name and version (or commit); the groups of several
// copies are merged so that a package any production copy needs is a
// production package.
//
// Memory: version 2 and 3 files are read in one streaming pass over data,
// each package decoded on its own, so that what is held besides data is
// the packages found and an index of line starts — not a map of every
// entry's JSON as well. Version 1 files, and files that do not decode,
// take the whole-document path.
func ParseNPM(filePath string, data []byte) (*File, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if f, ok := streamNPMPackages(filePath, data); ok {
		return f, nil
	}
	var lock *npmLock
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, jsonError(filePath, data, err)
	}
	if lock == nil {
		return nil, &SyntaxError{Path: filePath, Kind: KindNPM, Line: 1, Err: errNullJSON}
	}
	lines, err := npmKeyLines(data)
	if err != nil {
		return nil, jsonError(filePath, data, err)
	}
	f := &File{Path: filePath, Kind: KindNPM}
	if lock.Packages != nil && (lock.LockfileVersion >= 2 || len(lock.Dependencies) == 0) {
		readNPMPackages(f, lock.Packages, lines)
	} else {
		readNPMDependencies(f, lock.Dependencies, "", lines)
	}
	f.Packages = dedupe(f.Packages)
	return f, nil
}

// jsonError turns a decoding error into a *SyntaxError with a line.
func jsonError(filePath string, data []byte, err error) error {
	line := 0
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line = newLineIndex(data).line(int(se.Offset))
	case errors.As(err, &te):
		line = newLineIndex(data).line(int(te.Offset))
		err = fmt.Errorf("field %q: cannot use JSON %s as %s", te.Field, te.Value, te.Type)
	}
	return &SyntaxError{Path: filePath, Kind: KindNPM, Line: line, Err: err}
}

// npmEntry is one entry of the "packages" object with its line.
type npmEntry struct {
	key  string
	line int
	p    *npmPackage
}

// streamNPMPackages reads a version 2 or 3 file's "packages" object entry
// by entry. ok is false when the file must take the whole-document path:
// it is not valid JSON or not an object (for the error messages of that
// path), an entry does not decode, or the file is a version 1 file.
func streamNPMPackages(filePath string, data []byte) (f *File, ok bool) {
	if !json.Valid(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	idx := newLineIndex(data)
	var (
		version      int
		havePackages bool
		depCount     int
		entries      []npmEntry
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		switch tok {
		case "lockfileVersion":
			if err := dec.Decode(&version); err != nil {
				return nil, false
			}
		case "packages":
			if bytes.HasPrefix(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n:"), []byte("null")) {
				if err := skipValue(dec); err != nil {
					return nil, false
				}
				continue
			}
			havePackages = true
			err = walkObject(dec, func(key string, off int64) error {
				var p *npmPackage
				if err := dec.Decode(&p); err != nil {
					return err
				}
				entries = append(entries, npmEntry{key: key, line: idx.line(int(off)), p: p})
				return nil
			})
		case "dependencies":
			// Version 1's tree; a version 2 file repeats "packages" in
			// it. Only counted here.
			err = walkObject(dec, func(string, int64) error { depCount++; return skipValue(dec) })
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return nil, false
		}
	}
	if !havePackages || (version < 2 && depCount > 0) {
		return nil, false
	}
	f = &File{Path: filePath, Kind: KindNPM}
	readNPMEntries(f, entries)
	f.Packages = dedupe(f.Packages)
	return f, true
}

func readNPMPackages(f *File, pkgs map[string]*npmPackage, lines map[string]int) {
	entries := make([]npmEntry, 0, len(pkgs))
	for key, p := range pkgs {
		entries = append(entries, npmEntry{key: key, line: lines["p\x00"+key], p: p})
	}
	readNPMEntries(f, entries)
}

func readNPMEntries(f *File, entries []npmEntry) {
	f.Packages = slices.Grow(f.Packages, len(entries))
	for _, e := range entries {
		key, p, line := e.key, e.p, e.line
		if key == "" || p == nil || p.Link {
			// The root project is not a dependency; a link entry only
			// points at the folder entry that describes the package.
			continue
		}
		name := p.Name
		if name == "" {
			name = npmNameFromPath(key)
		}
		origin := classify(p.Resolved)
		if !strings.Contains(key, "node_modules/") {
			// A folder outside node_modules is a workspace member or a
			// file: dependency: local code, not a published package.
			origin = OriginLocal
		}
		if name == "" {
			f.Problems = append(f.Problems, Problem{Path: f.Path, Line: line, Entry: key, Reason: "cannot tell the package name"})
			continue
		}
		if p.Version == "" && origin == OriginRegistry {
			f.Problems = append(f.Problems, Problem{Path: f.Path, Line: line, Entry: key, Reason: "no version"})
			continue
		}
		var groups []string
		if p.Dev {
			groups = append(groups, GroupDev)
		}
		if p.Optional {
			groups = append(groups, GroupOptional)
		}
		if p.DevOptional {
			groups = append(groups, GroupDev, GroupOptional)
		}
		if p.Peer {
			groups = append(groups, GroupPeer)
		}
		if p.InBundle {
			groups = append(groups, GroupBundled)
		}
		f.Packages = append(f.Packages, Package{
			Name:          name,
			Version:       p.Version,
			Ecosystem:     EcosystemNPM,
			Groups:        sortedGroups(groups),
			Commit:        commitOf(p.Resolved),
			Line:          line,
			Origin:        origin,
			Resolved:      p.Resolved,
			Integrity:     p.Integrity,
			InstallScript: p.HasInstallScript,
		})
	}
	sortByLine(f.Packages)
	sortProblems(f.Problems)
}

func readNPMDependencies(f *File, deps map[string]*npmDependency, prefix string, lines map[string]int) {
	for key, d := range deps {
		if d == nil {
			continue
		}
		linesKey := prefix + "\x00" + key
		line := lines["d"+linesKey]
		if d.Dependencies != nil {
			readNPMDependencies(f, d.Dependencies, linesKey, lines)
		}
		name, version := key, d.Version
		if name == "" {
			f.Problems = append(f.Problems, Problem{Path: f.Path, Line: line, Reason: "cannot tell the package name"})
			continue
		}
		resolved := d.Resolved
		if alias, ok := strings.CutPrefix(version, "npm:"); ok {
			// "npm:<real name>@<version>": an alias of another package.
			i := strings.LastIndexByte(alias, '@')
			if i <= 0 || i == len(alias)-1 {
				f.Problems = append(f.Problems, Problem{Path: f.Path, Line: line, Entry: key, Reason: fmt.Sprintf("alias %q names no version", version)})
				continue
			}
			name, version = alias[:i], alias[i+1:]
		}
		origin := classify(resolved)
		commit := ""
		switch {
		case isLocalSpec(version):
			origin, resolved, version = OriginLocal, version, ""
		case isGitSpec(version) || commitOf(version) != "":
			// The version field holds the git specifier itself.
			origin, resolved = OriginGit, version
			commit, version = commitOf(version), ""
		default:
			commit = commitOf(resolved)
		}
		if version == "" && origin == OriginRegistry {
			f.Problems = append(f.Problems, Problem{Path: f.Path, Line: line, Entry: key, Reason: "no version"})
			continue
		}
		var groups []string
		if d.Dev {
			groups = append(groups, GroupDev)
		}
		if d.Optional {
			groups = append(groups, GroupOptional)
		}
		if d.Bundled {
			groups = append(groups, GroupBundled)
		}
		f.Packages = append(f.Packages, Package{
			Name:      name,
			Version:   version,
			Ecosystem: EcosystemNPM,
			Groups:    sortedGroups(groups),
			Commit:    commit,
			Line:      line,
			Origin:    origin,
			Resolved:  resolved,
			Integrity: d.Integrity,
		})
	}
	if prefix == "" {
		sortByLine(f.Packages)
		sortProblems(f.Problems)
		sortProblems(f.Problems)
	}
}

// npmNameFromPath returns the package name of a "packages" key: the part
// after the last node_modules/, or the folder's own name (with its scope)
// for a workspace folder.
func npmNameFromPath(key string) string {
	if i := strings.LastIndex(key, "node_modules/"); i >= 0 {
		return key[i+len("node_modules/"):]
	}
	base := path.Base(key)
	if scope := path.Base(path.Dir(key)); strings.HasPrefix(scope, "@") {
		return scope + "/" + base
	}
	if base == "." || base == "/" {
		return ""
	}
	return base
}

func sortByLine(pkgs []Package) {
	slices.SortStableFunc(pkgs, func(a, b Package) int { return a.Line - b.Line })
}

// sortProblems puts problems in file order: v1 lockfiles are walked through
// maps, whose order is random, and reports must not change between runs.
func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Entry, b.Entry)
	})
}

// dedupe merges packages with the same name and version (or commit),
// keeping the first line and merging groups.
func dedupe(pkgs []Package) []Package {
	type key struct{ name, version, commit string }
	seen := make(map[key]int, len(pkgs))
	out := pkgs[:0]
	for _, p := range pkgs {
		k := key{p.Name, p.Version, p.Commit}
		if p.Commit != "" {
			k.version = ""
		}
		if i, ok := seen[k]; ok {
			out[i].Groups = mergeGroups(out[i].Groups, p.Groups)
			out[i].InstallScript = out[i].InstallScript || p.InstallScript
			continue
		}
		seen[k] = len(out)
		out = append(out, p)
	}
	return out
}

// npmKeyLines returns the line of every key of interest in a
// package-lock.json: "p\x00<path>" for the "packages" object and
// "d\x00<name>\x00<name>…" for the nested "dependencies" objects.
func npmKeyLines(data []byte) (map[string]int, error) {
	idx := newLineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	lines := map[string]int{}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return lines, nil // the typed decode already rejected anything else
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch key {
		case "packages":
			err = walkObject(dec, func(k string, off int64) error {
				lines["p\x00"+k] = idx.line(int(off))
				return skipValue(dec)
			})
		case "dependencies":
			err = walkDeps(dec, idx, "d", lines)
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return nil, err
		}
	}
	return lines, nil
}

func walkDeps(dec *json.Decoder, idx lineIndex, prefix string, lines map[string]int) error {
	return walkObject(dec, func(name string, off int64) error {
		p := prefix + "\x00" + name
		lines[p] = idx.line(int(off))
		return walkObject(dec, func(field string, _ int64) error {
			if field == "dependencies" {
				return walkDeps(dec, idx, p, lines)
			}
			return skipValue(dec)
		})
	})
}

// walkObject reads an object, calling fn with each key and the offset just
// past it; fn must consume the value. A value that is not an object is
// skipped.
func walkObject(dec *json.Decoder, fn func(key string, off int64) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if d != '{' {
		return skipRest(dec, 1)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := tok.(string)
		if err := fn(k, dec.InputOffset()); err != nil {
			return err
		}
	}
	_, err = dec.Token() // '}'
	return err
}

// skipValue consumes one value.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return skipRest(dec, 1)
	}
	return nil
}

// skipRest consumes tokens until depth open containers are closed.
func skipRest(dec *json.Decoder, depth int) error {
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}
