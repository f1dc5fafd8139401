package lockfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

type pnpmResolution struct {
	Integrity string `yaml:"integrity"`
	Tarball   string `yaml:"tarball"`
	Commit    string `yaml:"commit"`
	Repo      string `yaml:"repo"`
	Type      string `yaml:"type"`
	Directory string `yaml:"directory"`
}

type pnpmPackage struct {
	Resolution    pnpmResolution `yaml:"resolution"`
	Name          string         `yaml:"name"`
	Version       string         `yaml:"version"`
	Dev           bool           `yaml:"dev"`
	RequiresBuild bool           `yaml:"requiresBuild"`
}

var errPnpmNotMap = errors.New("top level is not a mapping")

// ParsePnpm reads a pnpm-lock.yaml. The lockfile version decides how the
// keys of "packages" spell a package: "/name/1.0.0_peer" (5.x),
// "/name@1.0.0(peer)" (6.x) or "name@1.0.0" (9.x); "name" and "version"
// fields, present for git, tarball and directory packages, take priority.
// A key that cannot be read is reported as a Problem ("invalid dependency
// path") and the other entries are still returned. Lockfile 9 no longer
// records dev or optional flags per package, so its packages carry no
// groups.
func ParsePnpm(filePath string, data []byte) (*File, error) {
	f := &File{Path: filePath, Kind: KindPnpm}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // an empty file
		}
		return nil, yamlError(filePath, err)
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &SyntaxError{Path: filePath, Kind: KindPnpm, Line: root.Line, Err: errPnpmNotMap}
	}
	var version float64
	var packages *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "lockfileVersion":
			ver, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64)
			if err != nil || v.Kind != yaml.ScalarNode {
				return nil, &SyntaxError{Path: filePath, Kind: KindPnpm, Line: v.Line, Err: fmt.Errorf("lockfileVersion %q is not a number", v.Value)}
			}
			version = ver
		case "packages":
			packages = v
		}
	}
	if packages == nil || packages.Kind != yaml.MappingNode {
		return f, nil
	}
	for i := 0; i+1 < len(packages.Content); i += 2 {
		k, v := packages.Content[i], packages.Content[i+1]
		readPnpmPackage(f, version, k, v)
	}
	return f, nil
}

func yamlError(filePath string, err error) error {
	line := 0
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	// yaml.v3 spells positions as "yaml: line N: …".
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			if l, err2 := strconv.Atoi(n); err2 == nil {
				line = l
				msg = strings.TrimSpace(tail)
			}
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return &SyntaxError{Path: filePath, Kind: KindPnpm, Line: line, Err: errors.New(msg)}
}

func readPnpmPackage(f *File, version float64, k, v *yaml.Node) {
	key := k.Value
	var p pnpmPackage
	if v.Kind == yaml.MappingNode {
		if err := v.Decode(&p); err != nil {
			f.Problems = append(f.Problems, Problem{Path: f.Path, Line: k.Line, Entry: key, Reason: "cannot read entry: " + shortReason(yamlError(f.Path, err).(*SyntaxError).Err.Error())})
			return
		}
	}
	name, ver, err := pnpmNameVersion(key, version)
	if err != nil {
		f.Problems = append(f.Problems, Problem{Path: f.Path, Line: k.Line, Entry: key, Reason: err.Error()})
		return
	}
	if p.Name != "" {
		name = p.Name
	}
	if p.Version != "" {
		ver = p.Version
	}
	res := p.Resolution
	origin := OriginRegistry
	resolved := res.Tarball
	switch {
	case res.Type == "git" || res.Commit != "":
		origin, resolved = OriginGit, res.Repo
	case res.Type == "directory" || res.Directory != "" || strings.HasPrefix(key, "file:") || strings.HasPrefix(key, "link:"):
		origin = OriginLocal
		if resolved == "" {
			resolved = res.Directory
		}
	case strings.HasPrefix(res.Tarball, "file:"):
		origin = OriginLocal
	case res.Tarball != "":
		origin = classify(res.Tarball)
	}
	if name == "" || ver == "" {
		if origin == OriginLocal {
			// A local package without a name cannot be installed and is
			// never matched against advisories.
			return
		}
		f.Problems = append(f.Problems, Problem{Path: f.Path, Line: k.Line, Entry: key, Reason: "cannot tell the package name and version"})
		return
	}
	commit := res.Commit
	if c := commitOf(res.Tarball); c != "" && strings.HasPrefix(res.Tarball, "https://codeload.github.com/") {
		commit = c
	}
	var groups []string
	if p.Dev {
		groups = []string{GroupDev}
	}
	f.Packages = append(f.Packages, Package{
		Name:          name,
		Version:       ver,
		Ecosystem:     EcosystemNPM,
		Groups:        groups,
		Commit:        commit,
		Line:          k.Line,
		Origin:        origin,
		Resolved:      resolved,
		Integrity:     res.Integrity,
		InstallScript: p.RequiresBuild,
	})
}

// pnpmNameVersion reads the name and version a "packages" key spells. It
// returns empty strings, and no error, for keys that carry neither (file:
// and git keys, whose entries have "name" and "version" fields).
func pnpmNameVersion(key string, lockVersion float64) (name, version string, err error) {
	if strings.HasPrefix(key, "file:") || strings.HasPrefix(key, "link:") {
		return "", "", nil
	}
	if lockVersion >= 9 {
		k, _, _ := strings.Cut(key, "(") // peer suffix
		start := 0
		if strings.HasPrefix(k, "@") {
			start = 1
		}
		i := strings.IndexByte(k[start:], '@')
		if i < 0 {
			return "", "", fmt.Errorf("invalid dependency path: %s", key)
		}
		name, version = k[:start+i], k[start+i+1:]
		if !startsWithDigit(version) {
			version = "" // a URL or other specifier; the fields say
		}
		return name, version, nil
	}
	// Peer suffixes "(…)" may hold slashes of scoped names: drop them first.
	k, _, _ := strings.Cut(key, "(")
	parts := strings.Split(k, "/")
	if len(parts) < 2 {
		return "", "", fmt.Errorf("invalid dependency path: %s", key)
	}
	parts = parts[1:]
	if strings.HasPrefix(parts[0], "@") && len(parts) > 1 {
		name, parts = parts[0]+"/"+parts[1], parts[2:]
	} else {
		name, parts = parts[0], parts[1:]
	}
	if len(parts) > 0 {
		version = parts[0]
	} else {
		// 6.x: "/name@version".
		if i := strings.LastIndexByte(name, '@'); i > 0 {
			name, version = name[:i], name[i+1:]
		}
	}
	if !startsWithDigit(version) {
		return "", "", nil
	}
	version, _, _ = strings.Cut(version, "_")
	return name, version, nil
}

func startsWithDigit(s string) bool {
	return s != "" && '0' <= s[0] && s[0] <= '9'
}
