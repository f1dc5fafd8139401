package osv

import (
	"errors"
	"regexp"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/rampartsec/rampart/audit/deps/npmsemver"
)

// Ecosystems this package orders versions for, as OSV spells them.
const (
	EcosystemNPM = "npm"
	EcosystemGo  = "Go"
)

// version is a version parsed in its ecosystem's order.
type version interface {
	cmp(version) int
}

type npmVersion struct{ v npmsemver.Version }

func (a npmVersion) cmp(b version) int { return a.v.Compare(b.(npmVersion).v) }

type goVersion string

func (a goVersion) cmp(b version) int { return semver.Compare(string(a), string(b.(goVersion))) }

var errBadVersion = errors.New("osv: version not valid in its ecosystem")

// goRelease matches Go release names: "1.21", "1.21.3", "1.21rc1", "1.9beta2".
var goRelease = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta|alpha)(\d+))?$`)

// parseVersion reads s in the order of ecosystem. It accepts the versions
// lockfiles record (loose for npm, without "v" for Go) and the versions OSV
// records use.
func parseVersion(ecosystem, s string) (version, error) {
	switch ecosystem {
	case EcosystemNPM:
		v, err := npmsemver.ParseVersion(s, npmsemver.Options{Loose: true})
		if err != nil {
			return nil, err
		}
		return npmVersion{v}, nil
	case EcosystemGo:
		if s == "" {
			return nil, errBadVersion
		}
		v := s
		if !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		if semver.IsValid(v) {
			return goVersion(v), nil
		}
		if m := goRelease.FindStringSubmatch(s); m != nil {
			patch := m[3]
			if patch == "" {
				patch = "0"
			}
			out := "v" + m[1] + "." + m[2] + "." + patch
			if m[4] != "" {
				out += "-" + m[4] + "." + m[5]
			}
			return goVersion(out), nil
		}
		return nil, errBadVersion
	}
	return nil, errBadVersion
}

// zeroVersion is the "0" of an introduced event: before every version.
type zeroVersion struct{}

func (zeroVersion) cmp(b version) int {
	if _, ok := b.(zeroVersion); ok {
		return 0
	}
	return -1
}

// compare orders two versions, zeroVersion first.
func compare(a, b version) int {
	if _, ok := a.(zeroVersion); ok {
		return a.cmp(b)
	}
	if _, ok := b.(zeroVersion); ok {
		return -b.cmp(a)
	}
	return a.cmp(b)
}

// CompareVersions orders two versions of ecosystem: -1, 0 or +1. It
// returns an error when either cannot be read in that ecosystem's order.
func CompareVersions(ecosystem, a, b string) (int, error) {
	va, err := parseVersion(ecosystem, a)
	if err != nil {
		return 0, err
	}
	vb, err := parseVersion(ecosystem, b)
	if err != nil {
		return 0, err
	}
	return compare(va, vb), nil
}
