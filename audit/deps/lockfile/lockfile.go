package lockfile

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Ecosystem names, spelled as the OSV schema spells them.
const (
	EcosystemNPM = "npm"
	EcosystemGo  = "Go"
)

// Dependency groups a package can belong to. A package with no group is a
// production dependency.
const (
	GroupDev      = "dev"
	GroupOptional = "optional"
	GroupPeer     = "peer"
	GroupBundled  = "bundled"
)

// Kind names a lockfile format.
type Kind string

// The lockfile formats this package reads.
const (
	KindNPM  Kind = "package-lock.json" // also npm-shrinkwrap.json
	KindYarn Kind = "yarn.lock"
	KindPnpm Kind = "pnpm-lock.yaml"
	KindGo   Kind = "go.mod"
)

// Origin says where a package's code was resolved from.
type Origin int

// The origins a package can have. The zero value is OriginRegistry.
const (
	// OriginRegistry is a package from a package registry (npm's, a mirror,
	// or the Go module proxy).
	OriginRegistry Origin = iota
	// OriginGit is a package fetched from a git repository.
	OriginGit
	// OriginTarball is a package fetched from an arbitrary archive URL.
	OriginTarball
	// OriginLocal is a package from the local file system: a file: or link:
	// dependency, a workspace member, or a Go module replaced by a directory.
	OriginLocal
)

// String returns the origin's name as reports print it.
func (o Origin) String() string {
	switch o {
	case OriginGit:
		return "git"
	case OriginTarball:
		return "tarball"
	case OriginLocal:
		return "local"
	default:
		return "registry"
	}
}

// Package is one resolved dependency as a lockfile records it.
type Package struct {
	// Name is the package or module name, e.g. "@babel/core" or
	// "golang.org/x/net". For an npm alias it is the real package's name.
	Name string
	// Version is the exact version, without a "v" prefix for Go modules. It
	// is empty when the lockfile does not say (a git or file dependency).
	Version string
	// Ecosystem is EcosystemNPM or EcosystemGo.
	Ecosystem string
	// Groups lists the dependency groups (GroupDev, GroupOptional,
	// GroupPeer, GroupBundled) in sorted order; nil means production.
	Groups []string
	// Commit is the git commit the package was built from, when known.
	Commit string
	// Line is the 1-based line of the entry in the lockfile.
	Line int
	// Origin says where the package was resolved from.
	Origin Origin
	// Resolved is where the lockfile says the package came from: a
	// registry or tarball URL, a git URL, or a local path. It may be empty.
	Resolved string
	// Integrity is the recorded content hash as written ("sha512-…",
	// "sha1-…", a yarn Berry checksum, or a go.sum "h1:" hash). It may be
	// empty.
	Integrity string
	// InstallScript reports that the lockfile marks the package as running
	// scripts at install time (npm hasInstallScript, pnpm requiresBuild).
	InstallScript bool
	// Replaces is the module a Go replace directive substituted by this
	// one, as "path@version" (version omitted when the directive has none).
	Replaces string
}

// File is the result of parsing one lockfile.
type File struct {
	// Path is the lockfile's path as given to the parser.
	Path string
	// Kind is the lockfile's format.
	Kind Kind
	// Packages lists the packages in the order the lockfile gives them.
	Packages []Package
	// Problems lists the entries that could not be read. A non-empty list
	// means Packages is incomplete.
	Problems []Problem
}

// Problem is one lockfile entry that could not be read.
type Problem struct {
	// Path is the lockfile's path.
	Path string
	// Line is the 1-based line of the entry, or 0 when unknown.
	Line int
	// Entry names the entry (a dependency path, a package header, a
	// module), when known.
	Entry string
	// Reason says what is wrong, lowercase, without a final period.
	Reason string
}

// Error formats the problem as "path:line: entry: reason".
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Path)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Entry != "" {
		b.WriteString(p.Entry)
		b.WriteString(": ")
	}
	b.WriteString(p.Reason)
	return b.String()
}

// ErrUnknownFormat is returned by Parse for content that is none of the
// supported lockfile formats.
var ErrUnknownFormat = errors.New("lockfile: not a supported lockfile")

// SyntaxError reports a lockfile that cannot be read at all.
type SyntaxError struct {
	// Path is the lockfile's path.
	Path string
	// Kind is the format the file was read as.
	Kind Kind
	// Line is the 1-based line of the error, or 0 when unknown.
	Line int
	// Err is the underlying error.
	Err error
}

// Error formats the error with the file and line. The parser's message is
// shortened to its reason: the input it quotes is left out.
func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("lockfile: %s:%d: cannot read as %s: %s", e.Path, e.Line, e.Kind, shortReason(e.Err.Error()))
	}
	return fmt.Sprintf("lockfile: %s: cannot read as %s: %s", e.Path, e.Kind, shortReason(e.Err.Error()))
}

// quoted matches what parsers quote of their input: "…", '…', `…`.
var quoted = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'[^']*'|`[^`]*`")

// shortReason reduces a parser's message to a short reason that repeats
// nothing of the input: quoted input is replaced by "…", and what follows
// the reason ("unknown directive: <word>") is dropped. A file that is not
// a lockfile at all — a link to the runner's credentials — must not leak
// through an error message into a CI log.
func shortReason(msg string) string {
	msg = quoted.ReplaceAllString(msg, "…")
	if !strings.HasPrefix(msg, "usage: ") {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[:i]
		}
	}
	var b strings.Builder
	for _, r := range msg {
		if b.Len() >= 100 {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Parse reads data as the lockfile format that its content shows, whatever
// path is called; path is used in errors and problems, and its base name
// decides only when the content is ambiguous (an empty file). It returns
// an error wrapping ErrUnknownFormat for content of no supported format and
// a *SyntaxError for a file of a known format that cannot be read.
func Parse(path string, data []byte) (*File, error) {
	kind, ok := Detect(path, data)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownFormat, path)
	}
	return ParseKind(kind, path, data, nil)
}

// ParseKind reads data as the given kind. goSum is the content of the
// go.sum file beside a go.mod, or nil; other kinds ignore it.
func ParseKind(kind Kind, path string, data []byte, goSum []byte) (*File, error) {
	switch kind {
	case KindNPM:
		return ParseNPM(path, data)
	case KindYarn:
		return ParseYarn(path, data)
	case KindPnpm:
		return ParsePnpm(path, data)
	case KindGo:
		return ParseGoMod(path, data, goSum)
	}
	return nil, fmt.Errorf("%w: unknown kind %q", ErrUnknownFormat, kind)
}

// KindOfName returns the kind a lockfile's base name conventionally has.
func KindOfName(name string) (Kind, bool) {
	switch filepath.Base(name) {
	case "package-lock.json", "npm-shrinkwrap.json":
		return KindNPM, true
	case "yarn.lock":
		return KindYarn, true
	case "pnpm-lock.yaml":
		return KindPnpm, true
	case "go.mod":
		return KindGo, true
	}
	return "", false
}

// Detect tells which lockfile format data is written in. The content
// decides; the base name of path is used only when the content shows no
// format (an empty file, one holding only comments, or text of no known
// shape, which the named format's parser then rejects with a line).
func Detect(path string, data []byte) (Kind, bool) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[' || bytes.Equal(trimmed, []byte("null"))) {
		return KindNPM, true
	}
	if k, ok := detectText(data); ok {
		return k, true
	}
	return KindOfName(path)
}

// detectText looks at the first meaningful lines of a text lockfile.
func detectText(data []byte) (Kind, bool) {
	var yarnHeader, goDirective bool
	lines := 0
	for line := range bytes.Lines(data) {
		lines++
		if lines > 200 {
			break
		}
		s := strings.TrimRight(string(line), "\r\n")
		t := strings.TrimSpace(s)
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "# yarn lockfile v1"),
			strings.HasPrefix(t, "# This file is generated by running \"yarn install\""):
			return KindYarn, true
		case strings.HasPrefix(t, "#"):
			continue
		case strings.HasPrefix(t, "//"):
			continue
		}
		if s == t { // not indented
			switch {
			case strings.HasPrefix(s, "lockfileVersion:"):
				return KindPnpm, true
			case s == "__metadata:":
				return KindYarn, true
			}
			word, _, _ := strings.Cut(s, " ")
			word, _, _ = strings.Cut(word, "\t")
			switch word {
			case "module", "go", "require", "replace", "exclude", "retract", "toolchain", "godebug", "tool", "ignore":
				goDirective = true
			case "require(", "replace(", "exclude(", "retract(", "godebug(", "tool(", "ignore(":
				goDirective = true
			}
			if strings.HasSuffix(s, ":") && !goDirective {
				yarnHeader = true
			}
		} else if yarnHeader && (strings.HasPrefix(t, "version ") || strings.HasPrefix(t, "\"version\" ") ||
			strings.HasPrefix(t, "version:") || strings.HasPrefix(t, "\"version\":")) {
			return KindYarn, true
		}
		if goDirective {
			return KindGo, true
		}
	}
	return "", false
}

// sortedGroups returns groups sorted and without duplicates, or nil.
func sortedGroups(groups []string) []string {
	if len(groups) == 0 {
		return nil
	}
	slices.Sort(groups)
	return slices.Compact(groups)
}

// mergeGroups merges the groups of two sightings of one package: a package
// needed in production by either sighting is a production package.
func mergeGroups(a, b []string) []string {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	return sortedGroups(append(slices.Clone(a), b...))
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int

func newLineIndex(data []byte) lineIndex {
	// Counted first, so that the index is allocated once at its size.
	idx := make(lineIndex, 0, bytes.Count(data, []byte{'\n'}))
	for i, c := range data {
		if c == '\n' {
			idx = append(idx, i)
		}
	}
	return idx
}

// line returns the line holding byte offset off.
func (l lineIndex) line(off int) int {
	n, _ := slices.BinarySearch(l, off)
	return n + 1
}
