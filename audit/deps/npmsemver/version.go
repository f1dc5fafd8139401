package npmsemver

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Options select node-semver's parsing and matching modes.
type Options struct {
	// Loose accepts sloppy versions and ranges as node-semver's loose mode
	// does ("=1.2.3", "1.2.3beta", leading zeros). The zero value is
	// strict.
	Loose bool
	// IncludePrerelease lets prerelease versions satisfy ranges whose
	// comparators have no prerelease on the same version tuple. The zero
	// value excludes them, as npm install does.
	IncludePrerelease bool
}

// NPMAudit is the option set npm audit matches advisories with.
var NPMAudit = Options{Loose: true, IncludePrerelease: true}

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER, node-semver's
// limit for version numbers.
const maxSafeInteger = 1<<53 - 1

// maxLength is node-semver's limit on a version string.
const maxLength = 256

// The grammar, after node-semver's re.js.
const (
	numID       = `0|[1-9]\d*`
	numIDLoose  = `\d+`
	nonNumID    = `\d*[a-zA-Z-][a-zA-Z0-9-]*`
	mainVersion = `(` + numID + `)\.(` + numID + `)\.(` + numID + `)`
	mainLoose   = `(` + numIDLoose + `)\.(` + numIDLoose + `)\.(` + numIDLoose + `)`
	preID       = `(?:` + nonNumID + `|` + numID + `)`
	preIDLoose  = `(?:` + nonNumID + `|` + numIDLoose + `)`
	prerelease  = `(?:-(` + preID + `(?:\.` + preID + `)*))`
	preLoose    = `(?:-?(` + preIDLoose + `(?:\.` + preIDLoose + `)*))`
	buildID     = `[a-zA-Z0-9-]+`
	build       = `(?:\+(` + buildID + `(?:\.` + buildID + `)*))`
	fullPlain   = `v?` + mainVersion + prerelease + `?` + build + `?`
	loosePlain  = `[v=\s]*` + mainLoose + preLoose + `?` + build + `?`
	gtlt        = `((?:<|>)?=?)`
	xID         = numID + `|x|X|\*`
	xIDLoose    = numIDLoose + `|x|X|\*`
	xPlain      = `[v=\s]*(` + xID + `)(?:\.(` + xID + `)(?:\.(` + xID + `)(?:` + prerelease + `)?` + build + `?)?)?`
	xPlainLoose = `[v=\s]*(` + xIDLoose + `)(?:\.(` + xIDLoose + `)(?:\.(` + xIDLoose + `)(?:` + preLoose + `)?` + build + `?)?)?`
)

var (
	reFull  = regexp.MustCompile(`^` + fullPlain + `$`)
	reLoose = regexp.MustCompile(`^` + loosePlain + `$`)
)

// Version is a parsed semantic version.
type Version struct {
	Major, Minor, Patch uint64
	// Prerelease holds the dot-separated prerelease identifiers.
	Prerelease []string
	// Build holds the build metadata identifiers; they do not affect
	// precedence.
	Build []string
}

// ErrInvalidVersion is wrapped by the errors of ParseVersion.
var ErrInvalidVersion = errors.New("npmsemver: invalid version")

// ParseVersion parses s as node-semver's SemVer constructor does: surrounding
// space is ignored, a leading "v" is accepted, and with o.Loose also "=",
// inner spaces, leading zeros and a prerelease without its hyphen.
func ParseVersion(s string, o Options) (Version, error) {
	if len(s) > maxLength {
		return Version{}, fmt.Errorf("%w: longer than %d characters", ErrInvalidVersion, maxLength)
	}
	re := reFull
	if o.Loose {
		re = reLoose
	}
	m := re.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Version{}, fmt.Errorf("%w: %q", ErrInvalidVersion, s)
	}
	return versionFromParts(s, m[1], m[2], m[3], m[4], m[5])
}

func versionFromParts(s, major, minor, patch, pre, bld string) (Version, error) {
	var v Version
	var err error
	if v.Major, err = number(major); err != nil {
		return Version{}, fmt.Errorf("%w: %q: major %v", ErrInvalidVersion, s, err)
	}
	if v.Minor, err = number(minor); err != nil {
		return Version{}, fmt.Errorf("%w: %q: minor %v", ErrInvalidVersion, s, err)
	}
	if v.Patch, err = number(patch); err != nil {
		return Version{}, fmt.Errorf("%w: %q: patch %v", ErrInvalidVersion, s, err)
	}
	if pre != "" {
		v.Prerelease = strings.Split(pre, ".")
	}
	if bld != "" {
		v.Build = strings.Split(bld, ".")
	}
	return v, nil
}

func number(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxSafeInteger {
		return 0, errors.New("is too large")
	}
	return n, nil
}

// String formats v as "major.minor.patch[-prerelease]", the canonical form
// node-semver uses for comparison (build metadata left out).
func (v Version) String() string {
	s := strconv.FormatUint(v.Major, 10) + "." + strconv.FormatUint(v.Minor, 10) + "." + strconv.FormatUint(v.Patch, 10)
	if len(v.Prerelease) > 0 {
		s += "-" + strings.Join(v.Prerelease, ".")
	}
	return s
}

// Compare returns -1, 0 or +1 as v sorts before, with, or after w in
// semantic version precedence. Build metadata is ignored.
func (v Version) Compare(w Version) int {
	if c := cmpUint(v.Major, w.Major); c != 0 {
		return c
	}
	if c := cmpUint(v.Minor, w.Minor); c != 0 {
		return c
	}
	if c := cmpUint(v.Patch, w.Patch); c != 0 {
		return c
	}
	switch {
	case len(v.Prerelease) == 0 && len(w.Prerelease) == 0:
		return 0
	case len(v.Prerelease) == 0:
		return 1
	case len(w.Prerelease) == 0:
		return -1
	}
	for i := 0; ; i++ {
		switch {
		case i == len(v.Prerelease) && i == len(w.Prerelease):
			return 0
		case i == len(v.Prerelease):
			return -1
		case i == len(w.Prerelease):
			return 1
		}
		if c := compareIdentifiers(v.Prerelease[i], w.Prerelease[i]); c != 0 {
			return c
		}
	}
}

// compareIdentifiers orders prerelease identifiers: numeric ones
// numerically and before alphanumeric ones, which compare as strings.
func compareIdentifiers(a, b string) int {
	an, aNum := numericID(a)
	bn, bNum := numericID(b)
	switch {
	case aNum && bNum:
		return cmpUint(an, bn)
	case aNum:
		return -1
	case bNum:
		return 1
	}
	return strings.Compare(a, b)
}

func numericID(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n >= maxSafeInteger {
		return 0, false
	}
	return n, true
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// samePatch reports whether v and w share major, minor and patch.
func (v Version) samePatch(w Version) bool {
	return v.Major == w.Major && v.Minor == w.Minor && v.Patch == w.Patch
}
