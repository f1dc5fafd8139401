package deps

import (
	"context"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/osv"
)

// Query asks an advisory source about one package version.
type Query struct {
	Ecosystem string
	Name      string
	Version   string
}

// Advisory is one advisory that affects a queried version.
type Advisory struct {
	// ID is the advisory's identifier in its source (GHSA-…, GO-…, MAL-…,
	// or an npm advisory number).
	ID string
	// Aliases lists the other identifiers of the same vulnerability.
	Aliases []string
	// Summary is a one-line description.
	Summary string
	// Severity rates the advisory.
	Severity osv.Severity
	// Fixed lists the versions that fix it, when known.
	Fixed []string
	// Malicious reports an advisory about malicious code.
	Malicious bool
	// URL points at the advisory.
	URL string
	// Range is the affected range as the source states it, when it states
	// one as text (npm's node-semver ranges).
	Range string
}

// Unchecked is a query a source could not answer.
type Unchecked struct {
	Query
	Reason string
}

// Source answers queries about package versions. Check returns, for every
// query it could answer, the advisories that affect it (none means clean),
// and the queries it could not answer. An error means the source failed as
// a whole.
type Source interface {
	Name() string
	Check(ctx context.Context, queries []Query) (map[Query][]Advisory, []Unchecked, error)
}

// OSVSource answers queries from an OSV database.
type OSVSource struct {
	DB *osv.DB
}

var _ Source = OSVSource{}

// Name returns "osv".
func (OSVSource) Name() string { return "osv" }

// Check looks every query up in the database.
func (s OSVSource) Check(ctx context.Context, queries []Query) (map[Query][]Advisory, []Unchecked, error) {
	out := make(map[Query][]Advisory, len(queries))
	var unchecked []Unchecked
	for _, q := range queries {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		ms, err := s.DB.Lookup(q.Ecosystem, q.Name, q.Version)
		if err != nil {
			unchecked = append(unchecked, Unchecked{q, "version cannot be ordered in its ecosystem"})
			continue
		}
		advs := make([]Advisory, 0, len(ms))
		for _, m := range ms {
			advs = append(advs, advisoryFromOSV(m))
		}
		out[q] = advs
	}
	return out, unchecked, nil
}

func advisoryFromOSV(m osv.Match) Advisory {
	sev, _ := osv.SeverityOf(m.Vuln)
	a := Advisory{
		ID:        m.Vuln.ID,
		Aliases:   slices.Clone(m.Vuln.Aliases),
		Summary:   m.Vuln.Summary,
		Severity:  sev,
		Fixed:     m.Fixed,
		Malicious: m.Vuln.IsMalicious(),
		URL:       "https://osv.dev/vulnerability/" + m.Vuln.ID,
	}
	if a.Summary == "" {
		a.Summary, _, _ = strings.Cut(strings.TrimSpace(m.Vuln.Details), "\n")
	}
	return a
}

// queryOf returns the query for a package; ok is false for packages that
// are never matched.
func queryOf(p lockfile.Package) (Query, bool) {
	if p.Origin == lockfile.OriginLocal || p.Version == "" {
		return Query{}, false
	}
	return Query{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version}, true
}
