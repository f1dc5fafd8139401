package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/sarif"
)

// WriteDiffJSON writes the report as one JSON object.
func WriteDiffJSON(w io.Writer, r *DiffReport) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// headline says in one phrase what a change adds, e.g. "2.3.1 → 2.3.2
// added a network call in an install script".
func (c Change) headline() string {
	switch {
	case c.From == "":
		return "added at " + c.To
	case c.To == "":
		return "removed (was " + c.From + ")"
	}
	s := c.From + " → " + c.To
	var adds []string
	for _, k := range []struct {
		kind   deps.SignalKind
		phrase string
	}{
		{deps.SignalInstallBehaviour, "install-time behaviour"}, {deps.SignalObfuscated, "obfuscated code"},
		{deps.SignalNetwork, "network access"}, {deps.SignalChildProcess, "process spawning"},
		{deps.SignalDynamicCode, "dynamic code"}, {deps.SignalEnvAccess, "environment access"},
		{deps.SignalFilesystem, "file-system access"}, {deps.SignalNativeCode, "native code"},
	} {
		if slices.ContainsFunc(c.AddedCapabilities, func(x Capability) bool { return x.Kind == k.kind }) {
			adds = append(adds, k.phrase)
		}
	}
	if slices.ContainsFunc(c.AddedCapabilities, func(x Capability) bool {
		return x.InstallTime && (strings.Contains(x.What, "network") || strings.Contains(x.What, "download"))
	}) {
		adds = append([]string{"a network call in an install script"}, slices.DeleteFunc(adds, func(s string) bool { return s == "install-time behaviour" })...)
	}
	if len(adds) > 0 {
		return s + " added " + strings.Join(adds, ", ")
	}
	return s
}

func capLine(c Capability) string {
	where := ""
	if c.File != "" {
		where = " at " + loc(c.File, c.Line)
	}
	return fmt.Sprintf("%s %s: %s%s", c.Severity, c.Kind, c.What, where)
}

// WriteDiffTable writes the report for people.
func WriteDiffTable(w io.Writer, r *DiffReport) error {
	fmt.Fprintf(w, "Dependency changes from %s to %s\n\n", r.Old, r.New)
	section := func(title string, cs []Change) {
		if len(cs) == 0 {
			return
		}
		fmt.Fprintf(w, "%s:\n", title)
		for _, c := range cs {
			fmt.Fprintf(w, "  %s %s\n", c.Name, c.headline())
			for _, x := range c.AddedCapabilities {
				fmt.Fprintf(w, "      + %s\n", capLine(x))
			}
			for _, x := range c.RemovedCapabilities {
				fmt.Fprintf(w, "      - %s\n", capLine(x))
			}
			for phase, cmd := range sortedMap(c.Scripts) {
				fmt.Fprintf(w, "      %s script: %s\n", phase, cmd)
			}
			for _, s := range c.Signals {
				if isCapability(s.Kind) {
					continue // listed above as capabilities
				}
				fmt.Fprintf(w, "      ! %s %s: %s\n", s.Severity, s.Kind, s.Detail)
			}
		}
		fmt.Fprintln(w)
	}
	section("Changed", r.Changed)
	section("Added", r.Added)
	section("Removed", r.Removed)
	for _, g := range r.Gaps {
		fmt.Fprintf(w, "not checked: %s\n", g)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w, r.Summary())
	return nil
}

// Summary returns the one-line summary of the report.
func (r *DiffReport) Summary() string {
	s := fmt.Sprintf("%d changed, %d added, %d removed; %d new %s", len(r.Changed), len(r.Added), len(r.Removed), len(r.Signals), plural(len(r.Signals), "signal", "signals"))
	if len(r.Gaps) > 0 {
		s += fmt.Sprintf("; %d %s NOT checked", len(r.Gaps), plural(len(r.Gaps), "entry", "entries"))
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func isCapability(k deps.SignalKind) bool {
	switch k {
	case deps.SignalInstallBehaviour, deps.SignalNetwork, deps.SignalChildProcess, deps.SignalFilesystem, deps.SignalEnvAccess,
		deps.SignalNativeCode, deps.SignalDynamicCode, deps.SignalObfuscated:
		return true
	}
	return false
}

func sortedMap(m map[string]string) func(func(string, string) bool) {
	return func(yield func(string, string) bool) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

// mdEscape keeps package data from breaking out of a Markdown table cell
// or injecting markup into a pull-request comment.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "'", "[", `\[`, "]", `\]`, "*", `\*`, "_", `\_`, "@", "@\u200b")
	return r.Replace(s)
}

// WriteDiffMarkdown writes a summary for a pull-request comment: a table
// of the changes and, under it, what each change adds.
func WriteDiffMarkdown(w io.Writer, r *DiffReport) error {
	fmt.Fprintf(w, "### Dependency changes\n\n")
	fmt.Fprintf(w, "%s\n\n", mdEscape(r.Summary()))
	all := slices.Concat(r.Changed, r.Added, r.Removed)
	if len(all) > 0 {
		fmt.Fprintln(w, "| package | change | worst new signal |")
		fmt.Fprintln(w, "|---|---|---|")
		for _, c := range all {
			worst := "-"
			if len(c.Signals) > 0 {
				s := slices.MaxFunc(c.Signals, func(a, b deps.Signal) int { return int(a.Severity) - int(b.Severity) })
				worst = "**" + s.Severity.String() + "** " + mdEscape(string(s.Kind))
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", mdEscape(c.Name), mdEscape(c.headline()), worst)
		}
		fmt.Fprintln(w)
	}
	for _, c := range all {
		if len(c.AddedCapabilities) == 0 && len(c.Signals) == 0 {
			continue
		}
		fmt.Fprintf(w, "<details><summary>%s %s</summary>\n\n", mdEscape(c.Name), mdEscape(c.headline()))
		for _, x := range c.AddedCapabilities {
			fmt.Fprintf(w, "- added: %s\n", mdEscape(capLine(x)))
		}
		for _, x := range c.RemovedCapabilities {
			fmt.Fprintf(w, "- removed: %s\n", mdEscape(capLine(x)))
		}
		for _, s := range c.Signals {
			if !isCapability(s.Kind) {
				fmt.Fprintf(w, "- %s %s: %s\n", s.Severity, mdEscape(string(s.Kind)), mdEscape(s.Detail))
			}
		}
		fmt.Fprint(w, "\n</details>\n\n")
	}
	if len(r.Gaps) > 0 {
		fmt.Fprintf(w, "%d %s could not be checked:\n\n", len(r.Gaps), plural(len(r.Gaps), "entry", "entries"))
		for _, g := range r.Gaps {
			fmt.Fprintf(w, "- %s\n", mdEscape(g.String()))
		}
	}
	return nil
}

// WriteDiffSARIF writes the new signals of the diff as SARIF 2.1.0, one
// result per signal, located at the package's line in the new lockfile.
func WriteDiffSARIF(w io.Writer, r *DiffReport, toolVersion string) error {
	run := sarif.NewRun(toolVersion)
	for _, s := range r.Signals {
		id := "rampart/" + string(s.Kind)
		idx := run.Rule(id, func() sarif.Rule {
			return sarif.Rule{ID: id, Name: string(s.Kind), ShortDescription: sarif.Text{Text: "Supply-chain signal: " + string(s.Kind)},
				FullDescription: sarif.Text{Text: "Supply-chain signal new in a dependency update: " + string(s.Kind)},
				Help:            sarif.Text{Text: "See rampart's audit deps documentation for the " + string(s.Kind) + " signal."},
				Properties:      map[string]any{"tags": []string{"security", "supply-chain"}, "security-severity": sarif.SecuritySeverity(s.Severity)}}
		})
		msg := s.Package + "@" + s.Version + ": " + s.Detail
		props := map[string]any{"package": s.Package, "version": s.Version}
		if s.File != "" {
			props["file"] = s.File
			if s.FileLine > 0 {
				props["file_line"] = s.FileLine
			}
		}
		run.Results = append(run.Results, sarif.Result{RuleID: id, RuleIndex: idx, Level: sarif.Level(s.Severity),
			Message: sarif.Text{Text: msg}, Locations: sarif.At(filepath.ToSlash(s.Source), s.Line), Properties: props})
	}
	return sarif.Write(w, run)
}
