package deps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/deps/ignore"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/osv"
)

// Config says what to scan and how.
type Config struct {
	// Paths lists lockfiles and directories to scan. A directory is walked
	// for lockfiles (lockfile.Find); a file is parsed as the format its
	// content shows, whatever its name. Empty means ".".
	Paths []string
	// Source answers the advisory queries. Required.
	Source Source
	// Omit lists dependency groups to leave out: "dev", "optional",
	// "peer". A package is left out when every one of its dev, optional
	// and peer groups is omitted; production packages are never left out.
	// The zero value omits nothing.
	Omit []string
	// Ignores silences accepted advisories until they expire; nil ignores
	// nothing.
	Ignores *ignore.List
	// GoVersion is the Go toolchain that builds the Go modules scanned
	// ("1.22.3", "go1.22.3"). Standard library advisories are matched
	// against it; when empty they are not matched (see the package
	// documentation).
	GoVersion string
	// DefaultRegistries lists the registry hosts that raise no signal. The
	// zero value means registry.npmjs.org, registry.yarnpkg.com and
	// proxy.golang.org.
	DefaultRegistries []string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Finding is one advisory affecting one package version of one lockfile.
type Finding struct {
	Package   string       `json:"package"`
	Version   string       `json:"version"`
	Ecosystem string       `json:"ecosystem"`
	ID        string       `json:"id"`
	Aliases   []string     `json:"aliases"`
	Severity  osv.Severity `json:"severity"`
	Fixed     []string     `json:"fixed"`
	Source    string       `json:"source"`
	Line      int          `json:"line,omitempty"`
	Groups    []string     `json:"groups,omitempty"`
	Summary   string       `json:"summary,omitempty"`
	URL       string       `json:"url,omitempty"`
	Range     string       `json:"range,omitempty"`
	Malicious bool         `json:"malicious,omitempty"`
}

// IgnoredFinding is a finding silenced by an active ignore.
type IgnoredFinding struct {
	Finding
	Reason string `json:"reason"`
	Until  string `json:"until"`
}

// PackageEntry is one scanned package, as --all-packages lists them.
type PackageEntry struct {
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Ecosystem string   `json:"ecosystem"`
	Source    string   `json:"source"`
	Groups    []string `json:"groups"`
	Origin    string   `json:"origin"`
	Line      int      `json:"line,omitempty"`
	Commit    string   `json:"commit,omitempty"`
}

// Gap is something the scan could not check: an unreadable lockfile entry,
// or a package version the source could not answer for.
type Gap struct {
	Source string `json:"source"`
	Line   int    `json:"line,omitempty"`
	Entry  string `json:"entry,omitempty"`
	Reason string `json:"reason"`
}

// String formats the gap as "source:line: entry: reason".
func (g Gap) String() string {
	return lockfile.Problem{Path: g.Source, Line: g.Line, Entry: g.Entry, Reason: g.Reason}.Error()
}

// LockfileSummary describes one scanned lockfile.
type LockfileSummary struct {
	Path     string `json:"path"`
	Kind     string `json:"kind"`
	Packages int    `json:"packages"`
	Gaps     int    `json:"gaps"`
}

// ExpiredIgnore is an ignore whose date has passed.
type ExpiredIgnore struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	ID     string `json:"id"`
	Until  string `json:"until"`
	Reason string `json:"reason"`
}

// Provenance is the verified provenance of a package version: the
// transparency log, the certificate chain and the identity policy all
// passed, so the archive was built by Workflow from Repository.
type Provenance struct {
	Package string `json:"package"`
	Version string `json:"version"`
	Source  string `json:"source"`
	Line    int    `json:"line"`
	// Repository is the source repository the certificate names, which
	// is the one the package declares.
	Repository string `json:"repository"`
	Workflow   string `json:"workflow"`
	Issuer     string `json:"issuer"`
	Ref        string `json:"ref,omitempty"`
	Commit     string `json:"commit,omitempty"`
	// Logged is when the transparency log recorded the signature.
	Logged string `json:"logged"`
}

// Report is the result of a scan.
type Report struct {
	Findings  []Finding         `json:"findings"`
	Packages  []PackageEntry    `json:"packages,omitempty"`
	Signals   []Signal          `json:"signals"`
	Gaps      []Gap             `json:"gaps"`
	Ignored   []IgnoredFinding  `json:"ignored"`
	Expired   []ExpiredIgnore   `json:"expired_ignores"`
	Lockfiles []LockfileSummary `json:"lockfiles"`

	// IgnoredSignals are signals silenced by a signal ignore.
	IgnoredSignals []IgnoredSignal `json:"ignored_signals,omitempty"`
	// Notes are remarks about the inspection as a whole (--inspect).
	Notes []string `json:"notes,omitempty"`
	// Provenance lists the package versions whose provenance verified
	// (--inspect): where and by what each was built.
	Provenance []Provenance `json:"provenance,omitempty"`

	// Scanned counts the packages matched against the source.
	Scanned int `json:"scanned"`
	// Omitted counts the packages left out by Config.Omit.
	Omitted int `json:"omitted"`
	// SourceName is the advisory source used.
	SourceName string `json:"advisory_source"`
}

// Clean reports whether the scan checked something and left nothing out:
// no gaps and at least one package scanned. Findings do not affect it.
func (r *Report) Clean() bool { return r.Scanned > 0 && len(r.Gaps) == 0 }

// Worst returns the highest severity among the findings, and false when
// there are none. An unknown severity counts as critical: a finding the
// source did not rate is not treated as harmless.
func (r *Report) Worst() (osv.Severity, bool) {
	worst, any := osv.SeverityUnknown, false
	for _, f := range r.Findings {
		s := f.Severity
		if s == osv.SeverityUnknown {
			s = osv.SeverityCritical
		}
		worst, any = max(worst, s), true
	}
	return worst, any
}

// ErrNoSource is returned by Scan when Config.Source is nil.
var ErrNoSource = errors.New("deps: no advisory source")

// scannedPackage is a package kept for matching, with the lockfile it
// came from.
type scannedPackage struct {
	lockfile.Package
	source string
}

// Scan runs the audit. It returns an error for a path that cannot be read,
// a lockfile that cannot be parsed at all, or a source that fails; every
// smaller gap is in the Report.
func Scan(ctx context.Context, c Config) (*Report, error) {
	if c.Source == nil {
		return nil, ErrNoSource
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	paths := c.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	r := &Report{SourceName: c.Source.Name(), Findings: []Finding{}, Signals: []Signal{}, Gaps: []Gap{}, Ignored: []IgnoredFinding{}, Expired: []ExpiredIgnore{}, Lockfiles: []LockfileSummary{}}
	var files []*lockfile.File
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("deps: %w", err)
		}
		var list []string
		if info.IsDir() {
			if list, err = lockfile.Find(p); err != nil {
				return nil, fmt.Errorf("deps: %w", err)
			}
		} else {
			list = []string{p}
		}
		for _, lp := range list {
			f, err := lockfile.ReadFile(lp)
			if err != nil {
				return nil, fmt.Errorf("deps: %w", err)
			}
			files = append(files, f)
		}
	}

	omit := map[string]bool{}
	for _, g := range c.Omit {
		omit[g] = true
	}
	// Sized once: on a lockfile of hundreds of thousands of packages,
	// growing these by appending would allocate them several times over.
	total := 0
	for _, f := range files {
		total += len(f.Packages)
	}
	pkgs := make([]scannedPackage, 0, total)
	r.Packages = make([]PackageEntry, 0, total)
	seen := make(map[string]bool, total)
	for _, f := range files {
		r.Lockfiles = append(r.Lockfiles, LockfileSummary{Path: f.Path, Kind: string(f.Kind), Packages: len(f.Packages), Gaps: len(f.Problems)})
		for _, pr := range f.Problems {
			r.Gaps = append(r.Gaps, Gap{Source: pr.Path, Line: pr.Line, Entry: pr.Entry, Reason: pr.Reason})
		}
		for _, p := range f.Packages {
			k := f.Path + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.Commit
			if seen[k] {
				continue // pnpm and yarn list peer variants of one version apart
			}
			seen[k] = true
			if omitted(p.Groups, omit) {
				r.Omitted++
				continue
			}
			pkgs = append(pkgs, scannedPackage{p, f.Path})
			r.Packages = append(r.Packages, PackageEntry{
				Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, Source: f.Path,
				Groups: nonNil(p.Groups), Origin: p.Origin.String(), Line: p.Line, Commit: p.Commit,
			})
		}
	}
	r.Signals = append(r.Signals, supplyChainSignals(pkgs, c.DefaultRegistries)...)

	queries, byQuery := buildQueries(pkgs, c.GoVersion)
	answers, unchecked, err := c.Source.Check(ctx, queries)
	if err != nil {
		return nil, fmt.Errorf("deps: %s: %w", c.Source.Name(), err)
	}
	uncheckedSet := map[Query]string{}
	for _, u := range unchecked {
		uncheckedSet[u.Query] = u.Reason
	}
	for _, q := range queries {
		for _, p := range byQuery[q] {
			if reason, ok := uncheckedSet[q]; ok {
				r.Gaps = append(r.Gaps, Gap{Source: p.source, Line: p.Line, Entry: p.Name + "@" + p.Version, Reason: reason})
				continue
			}
			if _, ok := answers[q]; !ok {
				r.Gaps = append(r.Gaps, Gap{Source: p.source, Line: p.Line, Entry: p.Name + "@" + p.Version, Reason: "not checked by the " + c.Source.Name() + " source"})
				continue
			}
			r.Scanned++
			for _, adv := range mergeAliases(answers[q], q.Ecosystem) {
				f := Finding{
					Package: q.Name, Version: q.Version, Ecosystem: q.Ecosystem, ID: adv.ID,
					Aliases: nonNil(adv.Aliases), Severity: adv.Severity, Fixed: nonNil(adv.Fixed),
					Source: p.source, Line: p.Line, Groups: p.Groups, Summary: adv.Summary, URL: adv.URL,
					Range: adv.Range, Malicious: adv.Malicious,
				}
				if e := c.Ignores.Match(p.Name, append([]string{adv.ID}, adv.Aliases...), now()); e != nil {
					r.Ignored = append(r.Ignored, IgnoredFinding{Finding: f, Reason: e.Reason, Until: e.Until.String()})
					continue
				}
				r.Findings = append(r.Findings, f)
				if adv.Malicious {
					r.Signals = append(r.Signals, Signal{Kind: SignalMalicious, Severity: osv.SeverityCritical,
						Package: p.Name, Version: p.Version, Source: p.source, Line: p.Line,
						Detail: adv.ID + ": the advisory database lists this version as malicious code"})
				}
			}
		}
	}
	r.Signals = append(r.Signals, goMinimumSignals(ctx, c, pkgs)...)
	if c.Ignores != nil {
		for _, e := range c.Ignores.Expired(now()) {
			r.Expired = append(r.Expired, ExpiredIgnore{File: c.Ignores.Path, Line: e.Line, ID: e.ID, Until: e.Until.String(), Reason: e.Reason})
		}
	}
	sortReport(r)
	return r, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// omitted applies Config.Omit to a package's groups.
func omitted(groups []string, omit map[string]bool) bool {
	n := 0
	for _, g := range groups {
		switch g {
		case lockfile.GroupDev, lockfile.GroupOptional, lockfile.GroupPeer:
			if !omit[g] {
				return false
			}
			n++
		}
	}
	return n > 0
}

// buildQueries returns the distinct queries for pkgs and the packages
// behind each.
func buildQueries(pkgs []scannedPackage, goVersion string) ([]Query, map[Query][]scannedPackage) {
	by := make(map[Query][]scannedPackage, len(pkgs))
	qs := make([]Query, 0, len(pkgs))
	for _, p := range pkgs {
		q, ok := queryOf(p.Package)
		if !ok {
			continue
		}
		if p.Ecosystem == lockfile.EcosystemGo && p.Name == lockfile.StdlibName {
			if goVersion == "" {
				continue // the go directive is a minimum; see goMinimumSignals
			}
			q.Version = strings.TrimPrefix(goVersion, "go")
			// The go command itself is the "toolchain" module in the Go
			// vulnerability database.
			tq := Query{Ecosystem: q.Ecosystem, Name: "toolchain", Version: q.Version}
			if _, ok := by[tq]; !ok {
				qs = append(qs, tq)
			}
			by[tq] = append(by[tq], p)
		}
		if _, ok := by[q]; !ok {
			qs = append(qs, q)
		}
		by[q] = append(by[q], p)
	}
	return qs, by
}

// goMinimumSignals reports, when no toolchain version was given, how many
// standard library advisories the go directive's minimum would carry.
func goMinimumSignals(ctx context.Context, c Config, pkgs []scannedPackage) []Signal {
	if c.GoVersion != "" {
		return nil
	}
	var out []Signal
	for _, p := range pkgs {
		if p.Ecosystem != lockfile.EcosystemGo || p.Name != lockfile.StdlibName {
			continue
		}
		q := Query{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}
		detail := fmt.Sprintf("go.mod declares Go %s as a minimum; standard library advisories are checked only against the toolchain in use (--go-version)", p.Version)
		if ans, _, err := c.Source.Check(ctx, []Query{q}); err == nil {
			if n := len(mergeAliases(ans[q], q.Ecosystem)); n > 0 {
				noun := "advisories affect"
				if n == 1 {
					noun = "advisory affects"
				}
				detail = fmt.Sprintf("go.mod allows building with Go %s, which %d standard library %s; check the toolchain in use with --go-version", p.Version, n, noun)
			}
		}
		out = append(out, Signal{Kind: SignalGoMinimum, Severity: osv.SeverityUnknown, Package: p.Name, Version: p.Version, Source: p.source, Line: p.Line, Detail: detail})
	}
	return out
}

// mergeAliases folds advisories that name the same vulnerability (one's
// id is another's alias, or they share an alias) into one, keeping the
// highest severity and all fixed versions.
func mergeAliases(advs []Advisory, ecosystem string) []Advisory {
	if len(advs) < 2 {
		return advs
	}
	parent := make([]int, len(advs))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, a := range advs {
		for _, id := range append([]string{a.ID}, a.Aliases...) {
			if j, ok := owner[id]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[id] = i
			}
		}
	}
	groups := map[int][]Advisory{}
	var order []int
	for i, a := range advs {
		root := find(i)
		if _, ok := groups[root]; !ok {
			order = append(order, root)
		}
		groups[root] = append(groups[root], a)
	}
	out := make([]Advisory, 0, len(order))
	for _, root := range order {
		g := groups[root]
		slices.SortFunc(g, func(a, b Advisory) int {
			return cmp.Or(cmp.Compare(idRank(a.ID, ecosystem), idRank(b.ID, ecosystem)), strings.Compare(a.ID, b.ID))
		})
		m := g[0]
		ids := map[string]bool{}
		for _, a := range g {
			ids[a.ID] = true
			for _, al := range a.Aliases {
				ids[al] = true
			}
			m.Severity = max(m.Severity, a.Severity)
			m.Fixed = append(slices.Clone(m.Fixed), a.Fixed...)
			m.Malicious = m.Malicious || a.Malicious
			if m.Summary == "" {
				m.Summary = a.Summary
			}
		}
		delete(ids, m.ID)
		m.Aliases = slices.Sorted(mapKeys(ids))
		slices.Sort(m.Fixed)
		m.Fixed = slices.Compact(m.Fixed)
		out = append(out, m)
	}
	return out
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// idRank orders the ids of one vulnerability for choosing the primary:
// malicious-code ids, then the ecosystem's own database, then GitHub's,
// then anything else, CVE last.
func idRank(id, ecosystem string) int {
	switch {
	case strings.HasPrefix(id, "MAL-"):
		return 0
	case ecosystem == lockfile.EcosystemGo && strings.HasPrefix(id, "GO-"):
		return 1
	case strings.HasPrefix(id, "GHSA-"):
		return 2
	case strings.HasPrefix(id, "CVE-"):
		return 4
	}
	return 3
}

func sortReport(r *Report) {
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Package, b.Package),
			strings.Compare(a.Version, b.Version), cmp.Compare(b.Severity, a.Severity), strings.Compare(a.ID, b.ID))
	})
	slices.SortStableFunc(r.Signals, func(a, b Signal) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), strings.Compare(string(a.Kind), string(b.Kind)),
			strings.Compare(a.Source, b.Source), strings.Compare(a.Package, b.Package))
	})
}

// relPath shortens p for display when it lies under the working
// directory.
func relPath(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}
