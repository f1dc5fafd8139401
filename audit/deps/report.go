package deps

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/rampartsec/rampart/audit/deps/osv"
	"github.com/rampartsec/rampart/audit/sarif"
)

// WriteJSON writes the report as one JSON object. The "packages" array is
// included only when allPackages is set.
func WriteJSON(w io.Writer, r *Report, allPackages bool) error {
	out := *r
	if !allPackages {
		out.Packages = nil
	} else if out.Packages == nil {
		out.Packages = []PackageEntry{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// fixVersion returns the least version that fixes every finding of one
// package, or "" when some finding has no fix.
func fixVersion(ecosystem, current string, fs []Finding) string {
	best := ""
	for _, f := range fs {
		first := ""
		for _, fx := range f.Fixed {
			if c, err := osv.CompareVersions(ecosystem, fx, current); err == nil && c > 0 {
				if first == "" {
					first = fx
				} else if c2, err := osv.CompareVersions(ecosystem, fx, first); err == nil && c2 < 0 {
					first = fx
				}
			}
		}
		if first == "" {
			return ""
		}
		if best == "" {
			best = first
		} else if c, err := osv.CompareVersions(ecosystem, first, best); err == nil && c > 0 {
			best = first
		}
	}
	return best
}

// WriteTable writes the report for people: findings grouped by lockfile
// and package with the version that fixes them, then signals, gaps and a
// summary line.
func WriteTable(w io.Writer, r *Report, allPackages bool) error {
	// Everything below came from files an attacker may write: no control
	// character reaches the terminal or the CI log.
	r = printableReport(r)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if allPackages {
		fmt.Fprintln(tw, "PACKAGE\tVERSION\tECOSYSTEM\tGROUPS\tORIGIN\tSOURCE")
		for _, p := range r.Packages {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, orDash(p.Version), p.Ecosystem, orDash(strings.Join(p.Groups, ",")), p.Origin, relPath(p.Source))
		}
		fmt.Fprintln(tw)
	}
	type group struct {
		source, name, version, ecosystem string
		line                             int
		findings                         []Finding
	}
	var groups []*group
	for _, f := range r.Findings {
		if n := len(groups); n > 0 {
			g := groups[n-1]
			if g.source == f.Source && g.name == f.Package && g.version == f.Version {
				g.findings = append(g.findings, f)
				continue
			}
		}
		groups = append(groups, &group{f.Source, f.Package, f.Version, f.Ecosystem, f.Line, []Finding{f}})
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, g := range groups {
		loc := relPath(g.source)
		if g.line > 0 {
			loc += fmt.Sprintf(":%d", g.line)
		}
		fix := fixVersion(g.ecosystem, g.version, g.findings)
		advice := "no fixed version known"
		if fix != "" {
			advice = "fix: upgrade to " + fix + " or later"
		}
		fmt.Fprintf(w, "%s %s (%s, %s): %s\n", g.name, g.version, g.ecosystem, loc, advice)
		gw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, f := range g.findings {
			fixed := "-"
			if len(f.Fixed) > 0 {
				fixed = "fixed in " + strings.Join(f.Fixed, ", ")
			}
			fmt.Fprintf(gw, "  %s\t%s\t%s\t%s\t%s\n", f.Severity, f.ID, orDash(strings.Join(f.Aliases, " ")), clip(f.Summary, 60), fixed)
		}
		if err := gw.Flush(); err != nil {
			return err
		}
	}
	if len(groups) > 0 {
		fmt.Fprintln(tw)
	}
	if len(r.Ignored) > 0 {
		fmt.Fprintln(tw, "Ignored until they expire:")
		for _, f := range r.Ignored {
			fmt.Fprintf(tw, "  %s %s\t%s\tuntil %s\t%s\n", f.Package, f.Version, f.ID, f.Until, f.Reason)
		}
		fmt.Fprintln(tw)
	}
	if len(r.Signals) > 0 {
		fmt.Fprintln(tw, "Supply-chain signals:")
		for _, s := range r.Signals {
			loc := relPath(s.Source)
			if s.Line > 0 {
				loc += fmt.Sprintf(":%d", s.Line)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s@%s\t(%s)\t%s\n", s.Severity, s.Kind, s.Package, orDash(s.Version), loc, s.Detail)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range r.Expired {
		fmt.Fprintf(w, "expired ignore: %s:%d: %s ended on %s and no longer applies\n", relPath(e.File), e.Line, e.ID, e.Until)
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(w, "not checked: %s\n", Gap{Source: relPath(g.Source), Line: g.Line, Entry: g.Entry, Reason: g.Reason})
	}
	fmt.Fprintln(w, Summary(r))
	return nil
}

// Summary returns the one-line summary of a report.
func Summary(r *Report) string {
	counts := map[osv.Severity]int{}
	pkgs := map[string]bool{}
	for _, f := range r.Findings {
		counts[f.Severity]++
		pkgs[f.Source+"\x00"+f.Package+"\x00"+f.Version] = true
	}
	var b strings.Builder
	if len(r.Findings) == 0 {
		b.WriteString("no known vulnerabilities")
	} else {
		fmt.Fprintf(&b, "%d %s (%d critical, %d high, %d moderate, %d low, %d unknown) in %d %s",
			len(r.Findings), plural(len(r.Findings), "finding", "findings"),
			counts[osv.SeverityCritical], counts[osv.SeverityHigh], counts[osv.SeverityModerate], counts[osv.SeverityLow], counts[osv.SeverityUnknown],
			len(pkgs), plural(len(pkgs), "package", "packages"))
	}
	fmt.Fprintf(&b, "; %d %s checked against %s in %d %s", r.Scanned, plural(r.Scanned, "package", "packages"), r.SourceName, len(r.Lockfiles), plural(len(r.Lockfiles), "lockfile", "lockfiles"))
	if r.Omitted > 0 {
		fmt.Fprintf(&b, ", %d omitted", r.Omitted)
	}
	if len(r.Gaps) > 0 {
		fmt.Fprintf(&b, "; %d %s NOT checked", len(r.Gaps), plural(len(r.Gaps), "entry", "entries"))
	}
	if len(r.Signals) > 0 {
		fmt.Fprintf(&b, "; %d %s", len(r.Signals), plural(len(r.Signals), "signal", "signals"))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return orDash(s)
}

// WriteSARIF writes findings and signals as a SARIF 2.1.0 log: one rule
// per advisory and per signal kind, one result per finding or signal,
// located at the lockfile line.
func WriteSARIF(w io.Writer, r *Report, toolVersion string) error {
	run := sarif.NewRun(toolVersion)
	location := func(source string, line int) []sarif.Location {
		return sarif.At(filepath.ToSlash(relPath(source)), line)
	}
	for _, f := range r.Findings {
		idx := run.Rule(f.ID, func() sarif.Rule {
			desc := f.Summary
			if desc == "" || desc == "-" {
				desc = "Known vulnerability " + f.ID
			}
			tags := []string{"security", "vulnerability", "dependency"}
			if f.Malicious {
				tags = append(tags, "malicious")
			}
			return sarif.Rule{
				ID: f.ID, Name: "vulnerable-dependency", ShortDescription: sarif.Text{Text: desc}, FullDescription: sarif.Text{Text: desc + " (" + strings.Join(append([]string{f.ID}, f.Aliases...), ", ") + ")"},
				HelpURI: f.URL, Help: sarif.Text{Text: "Upgrade " + f.Package + " to a fixed version: " + orDash(strings.Join(f.Fixed, ", "))},
				Properties: map[string]any{"security-severity": sarif.SecuritySeverity(f.Severity), "tags": tags},
			}
		})
		msg := fmt.Sprintf("%s %s is affected by %s (%s severity)", f.Package, f.Version, f.ID, f.Severity)
		if len(f.Fixed) > 0 {
			msg += "; fixed in " + strings.Join(f.Fixed, ", ")
		}
		run.Results = append(run.Results, sarif.Result{RuleID: f.ID, RuleIndex: idx, Level: sarif.Level(f.Severity), Message: sarif.Text{Text: msg}, Locations: location(f.Source, f.Line),
			Properties: map[string]any{"package": f.Package, "version": f.Version, "ecosystem": f.Ecosystem, "aliases": f.Aliases}})
	}
	for _, s := range r.Signals {
		id := "rampart/" + string(s.Kind)
		idx := run.Rule(id, func() sarif.Rule {
			return sarif.Rule{ID: id, Name: string(s.Kind), ShortDescription: sarif.Text{Text: "Supply-chain signal: " + string(s.Kind)}, FullDescription: sarif.Text{Text: "Supply-chain signal: " + string(s.Kind)},
				Help: sarif.Text{Text: "See rampart's audit deps documentation for the " + string(s.Kind) + " signal."}, Properties: map[string]any{"tags": []string{"security", "supply-chain"}}}
		})
		run.Results = append(run.Results, sarif.Result{RuleID: id, RuleIndex: idx, Level: sarif.Level(s.Severity), Message: sarif.Text{Text: s.Package + "@" + orDash(s.Version) + ": " + s.Detail}, Locations: location(s.Source, s.Line)})
	}
	return sarif.Write(w, run)
}
