package lockfile

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
)

// yarnBlock is one entry of a yarn.lock: a header line naming the
// descriptors it resolves, and its indented properties.
type yarnBlock struct {
	header string
	line   int
	props  map[string]string
}

var errYarnIndent = errors.New("indented line before any entry")

// ParseYarn reads a yarn.lock, classic (v1) or Berry (v2 and later). Both
// are read line by line: an unindented header naming the descriptors an
// entry resolves, then its two-space indented fields. Berry's root
// workspace ("name@workspace:.") is the project itself and is left out;
// other workspaces are reported as local packages.
func ParseYarn(filePath string, data []byte) (*File, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	f := &File{Path: filePath, Kind: KindYarn}
	var blocks []*yarnBlock
	var cur *yarnBlock
	n := 0
	for raw := range bytes.Lines(data) {
		n++
		line := strings.TrimRight(string(raw), "\r\n")
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			if !strings.HasSuffix(t, ":") {
				f.Problems = append(f.Problems, Problem{Path: filePath, Line: n, Reason: "entry header does not end with ':'"})
				cur = &yarnBlock{line: n, props: map[string]string{}} // swallow its fields
				continue
			}
			cur = &yarnBlock{header: strings.TrimSuffix(t, ":"), line: n, props: map[string]string{}}
			blocks = append(blocks, cur)
			continue
		}
		if cur == nil {
			return nil, &SyntaxError{Path: filePath, Kind: KindYarn, Line: n, Err: errYarnIndent}
		}
		if !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "   ") {
			continue // nested maps (dependencies, bin…) are not needed
		}
		key, value := splitYarnField(t)
		if key != "" {
			cur.props[key] = value
		}
	}
	for _, b := range blocks {
		if b.header == "__metadata" || b.header == "\"__metadata\"" {
			continue
		}
		readYarnBlock(f, b)
	}
	return f, nil
}

// splitYarnField splits a field line: `version "1.0.0"` (v1) or
// `version: 1.0.0` (Berry), keys and values possibly quoted.
func splitYarnField(t string) (key, value string) {
	if strings.HasPrefix(t, "\"") {
		end := strings.IndexByte(t[1:], '"')
		if end < 0 {
			return "", ""
		}
		key = t[1 : end+1]
		t = t[end+2:]
	} else {
		i := strings.IndexAny(t, ": ")
		if i < 0 {
			return t, ""
		}
		key, t = t[:i], t[i:]
	}
	t = strings.TrimPrefix(t, ":")
	t = strings.TrimSpace(t)
	return key, unquote(t)
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

func readYarnBlock(f *File, b *yarnBlock) {
	first, _, _ := strings.Cut(b.header, ",")
	first = strings.Trim(strings.TrimSpace(first), `"'`)
	name, spec := splitDescriptor(first)
	if name == "" {
		f.Problems = append(f.Problems, Problem{Path: f.Path, Line: b.line, Reason: "cannot tell the package name"})
		return
	}
	resolution, berry := b.props["resolution"]
	resolved := resolution
	if !berry {
		resolved = b.props["resolved"]
	}
	if berry {
		if _, rspec := splitDescriptor(resolution); rspec == "workspace:." {
			return // the project itself
		}
	}
	version := b.props["version"]
	origin := yarnOrigin(spec, resolved, berry)
	if version == "" && origin != OriginLocal {
		f.Problems = append(f.Problems, Problem{Path: f.Path, Line: b.line, Entry: name, Reason: "no version"})
		return
	}
	integrity := b.props["integrity"]
	if integrity == "" {
		integrity = b.props["checksum"]
	}
	if integrity == "" && !berry {
		// Classic yarn without an integrity field pins only the SHA-1 in
		// the URL fragment.
		if _, frag, ok := strings.Cut(resolved, "#"); ok && len(frag) == 40 && isHex(frag) {
			integrity = "sha1:" + frag
		}
	}
	f.Packages = append(f.Packages, Package{
		Name:      name,
		Version:   version,
		Ecosystem: EcosystemNPM,
		Commit:    commitOf(resolved),
		Line:      b.line,
		Origin:    origin,
		Resolved:  resolved,
		Integrity: integrity,
	})
}

// splitDescriptor splits "name@spec" (name possibly scoped) and resolves
// npm aliases ("alias@npm:real@range" names the real package).
func splitDescriptor(d string) (name, spec string) {
	start := 0
	if strings.HasPrefix(d, "@") {
		start = 1
	}
	i := strings.IndexByte(d[start:], '@')
	if i < 0 {
		return d, ""
	}
	name, spec = d[:start+i], d[start+i+1:]
	if rest, ok := strings.CutPrefix(spec, "npm:"); ok {
		if n, s := splitDescriptor(rest); s != "" && n != "" {
			return n, s
		}
	}
	return name, spec
}

// yarnOrigin classifies a yarn entry from its descriptor spec and its
// resolution or resolved URL.
func yarnOrigin(spec, resolved string, berry bool) Origin {
	if berry {
		_, rspec := splitDescriptor(resolved)
		for {
			inner, ok := strings.CutPrefix(rspec, "patch:")
			if !ok {
				break
			}
			// patch:<name>@<escaped spec>#<patch file>: the origin is the
			// patched package's.
			inner, _, _ = strings.Cut(inner, "#")
			if u, err := url.PathUnescape(inner); err == nil {
				inner = u
			}
			_, rspec = splitDescriptor(inner)
		}
		switch {
		case strings.HasPrefix(rspec, "npm:"):
			return OriginRegistry
		case isLocalSpec(rspec):
			return OriginLocal
		case rspec != "":
			return classify(rspec)
		}
	}
	if isLocalSpec(spec) {
		return OriginLocal
	}
	if resolved == "" && (isGitSpec(spec) || isShorthandRepo(spec)) {
		return OriginGit
	}
	return classify(resolved)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
