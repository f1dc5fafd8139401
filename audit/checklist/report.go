package checklist

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/audit/sarif"
	"github.com/rampartsec/rampart/internal/printable"
)

// Summary counts findings by severity.
type Summary struct {
	Total    int `json:"total"`
	Critical int `json:"critical"`
	High     int `json:"high"`
	Moderate int `json:"moderate"`
	Low      int `json:"low"`
}

// Summarize counts findings.
func Summarize(fs []Finding) Summary {
	s := Summary{Total: len(fs)}
	for _, f := range fs {
		switch f.Severity {
		case Critical:
			s.Critical++
		case High:
			s.High++
		case Moderate:
			s.Moderate++
		case Low:
			s.Low++
		}
	}
	return s
}

// WriteJSON writes {"findings": [...], "summary": {...}}.
func WriteJSON(w io.Writer, fs []Finding) error {
	if fs == nil {
		fs = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Findings []Finding `json:"findings"`
		Summary  Summary   `json:"summary"`
	}{fs, Summarize(fs)})
}

// WriteTable writes a readable report grouped by checklist item.
func WriteTable(w io.Writer, fs []Finding) error {
	if len(fs) == 0 {
		_, err := fmt.Fprintln(w, "no findings: the configuration follows every rule of the checklist")
		return err
	}
	byItem := map[int][]Finding{}
	var items []int
	for _, f := range fs {
		if _, ok := byItem[f.Item]; !ok {
			items = append(items, f.Item)
		}
		byItem[f.Item] = append(byItem[f.Item], f)
	}
	slices.Sort(items)
	for _, item := range items {
		fmt.Fprintf(w, "%d. %s\n", item, Items[item])
		for _, f := range byItem[item] {
			// File names and values come from a file that may be
			// someone else's (a pull request): printed escaped.
			where := printable.Escape(f.Location())
			if f.Detail != "" {
				where += " (" + printable.Escape(f.Detail) + ")"
			}
			fmt.Fprintf(w, "  %-8s  %s  %s\n", strings.ToUpper(f.Severity.String()), f.Rule, where)
			fmt.Fprintf(w, "            %s\n", f.Title)
			fmt.Fprintf(w, "            fix: %s\n", f.Fix)
		}
		fmt.Fprintln(w)
	}
	s := Summarize(fs)
	_, err := fmt.Fprintf(w, "%d %s: %d critical, %d high, %d moderate, %d low\n",
		s.Total, plural(s.Total, "finding", "findings"), s.Critical, s.High, s.Moderate, s.Low)
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WriteMarkdown writes the rule table as docs/checklist.md.
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# The checklist\n\n")
	b.WriteString("<!-- Generated from audit/checklist/rules.go by `go test ./audit/checklist -update`. Do not edit. -->\n\n")
	b.WriteString("`rampart audit config FILE` checks a configuration against these rules, and `rampart serve` runs\n")
	b.WriteString("them at every start: in production a **critical** finding stops the start (the production guard);\n")
	b.WriteString("every other finding is logged as a warning. Rule ids are stable.\n\n")
	b.WriteString("| id | item | severity | finding | fix |\n|---|---|---|---|---|\n")
	rs := Rules()
	for _, r := range rs {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %d | %s | %s | %s |\n", r.ID, r.ID, r.Item, r.Severity, r.Title, r.Fix)
	}
	b.WriteString("\n## Rules\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "\n### %s\n\n", r.ID)
		fmt.Fprintf(&b, "Checklist item %d (%s), severity **%s**.\n\n", r.Item, Items[r.Item], r.Severity)
		fmt.Fprintf(&b, "%s\n\nFix: %s.\n", r.Rationale, r.Fix)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteSARIF writes the findings as a SARIF 2.1.0 log: one rule per
// checklist rule, one result per finding, located at the configuration
// line.
func WriteSARIF(w io.Writer, fs []Finding, toolVersion string) error {
	run := sarif.NewRun(toolVersion)
	byID := map[string]Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	for _, f := range fs {
		idx := run.Rule(f.Rule, func() sarif.Rule {
			r := byID[f.Rule]
			return sarif.Rule{
				ID: r.ID, Name: r.ID,
				ShortDescription: sarif.Text{Text: r.Title},
				FullDescription:  sarif.Text{Text: r.Rationale},
				HelpURI:          "https://github.com/rampartsec/rampart/blob/main/docs/checklist.md#" + r.ID,
				Help:             sarif.Text{Text: "Fix: " + r.Fix},
				Properties: map[string]any{"security-severity": sarif.SecuritySeverity(r.Severity),
					"tags": []string{"security", "configuration", fmt.Sprintf("checklist-%d", r.Item)}},
			}
		})
		file := f.File
		if file == "" {
			file = "rampart.yaml"
		}
		msg := f.Title
		if f.Key != "" {
			msg = f.Key + ": " + msg
		}
		if f.Detail != "" {
			msg += " (" + f.Detail + ")"
		}
		run.Results = append(run.Results, sarif.Result{RuleID: f.Rule, RuleIndex: idx, Level: sarif.Level(f.Severity),
			Message: sarif.Text{Text: msg + "; fix: " + f.Fix}, Locations: sarif.At(file, f.Line)})
	}
	return sarif.Write(w, run)
}
