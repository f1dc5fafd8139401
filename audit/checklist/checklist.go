package checklist

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/audit/severity"
	"github.com/rampartsec/rampart/config"
)

// Severity ranks findings on the audits' shared scale, so one --fail-on
// threshold reads the same everywhere.
type Severity = severity.Level

// Severities, in increasing order.
const (
	Low      = severity.Low
	Moderate = severity.Moderate
	High     = severity.High
	Critical = severity.Critical
)

// Rule is one check of the checklist.
type Rule struct {
	// ID is stable: never renamed or reused.
	ID string
	// Item is the number of the checklist item the rule belongs to (see
	// Items).
	Item int
	// Severity is the rule's usual severity; a check may report a finding
	// at another one (for example critical in production only).
	Severity Severity
	// Title is the one-line finding.
	Title string
	// Fix is the one-line fix.
	Fix string
	// Rationale explains why the rule exists, for docs/checklist.md.
	Rationale string
	// check reports the rule's findings for c.
	check func(r *Rule, c *config.Config) []Finding
}

// Finding is one rule violated by one setting.
type Finding struct {
	Rule     string   `json:"rule"`
	Item     int      `json:"item"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Fix      string   `json:"fix"`
	// Key is the configuration key at fault, when there is one.
	Key string `json:"key,omitempty"`
	// File and Line locate Key, when the configuration came from a file.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Detail adds the specific value or reason, when useful.
	Detail string `json:"detail,omitempty"`
}

// Items names the checklist items rules belong to.
var Items = map[int]string{
	1:  "Authentication, session-based",
	2:  "Authentication, token-based",
	3:  "No infinite expiry in production",
	4:  "Error handling",
	5:  "Request validation",
	6:  "Security headers (helmet)",
	7:  "CSRF defence (csurf)",
	8:  "Rate limiting and brute-force protection",
	9:  "CORS",
	10: "Allow-lists of URLs and IPs",
	11: "Dependency scanning",
	12: "The checklist itself",
}

// Rules returns the rule table, ordered by id.
func Rules() []Rule {
	out := slices.Clone(rules)
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Run checks c against every rule and returns the findings, most severe
// first, then in file order.
func Run(c *config.Config) []Finding {
	var out []Finding
	for i := range rules {
		out = append(out, rules[i].check(&rules[i], c)...)
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity - a.Severity)
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return out
}

// Blocking returns the findings that stop a production start: the critical
// ones, when c is in production. In development nothing blocks.
func Blocking(c *config.Config, findings []Finding) []Finding {
	if c.Env == config.Development {
		return nil
	}
	var out []Finding
	for _, f := range findings {
		if f.Severity >= Critical {
			out = append(out, f)
		}
	}
	return out
}

// AtLeast returns the findings of severity s or higher.
func AtLeast(findings []Finding, s Severity) []Finding {
	var out []Finding
	for _, f := range findings {
		if f.Severity >= s {
			out = append(out, f)
		}
	}
	return out
}

// finding builds a Finding of r at key in c.
func (r *Rule) finding(c *config.Config, key, detail string) Finding {
	return r.findingAt(c, r.Severity, key, detail)
}

func (r *Rule) findingAt(c *config.Config, s Severity, key, detail string) Finding {
	f := Finding{Rule: r.ID, Item: r.Item, Severity: s, Title: r.Title, Fix: r.Fix, Key: key, Detail: detail}
	if key != "" {
		f.Line = c.Line(key)
		if f.Line > 0 {
			f.File = c.File()
		}
	}
	return f
}

// Location formats where a finding is: "file:line: key", or just the key.
func (f Finding) Location() string {
	switch {
	case f.File != "" && f.Line > 0:
		return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Key)
	case f.Key != "":
		return f.Key
	}
	return "(configuration)"
}
