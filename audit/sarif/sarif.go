// Package sarif writes SARIF 2.1.0 logs, the format code-scanning UIs
// (GitHub, GitLab, Azure DevOps) import, for every Rampart audit.
//
// Specification: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
package sarif

import (
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/audit/severity"
)

// Log is a whole SARIF file.
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// Run is one tool's run.
type Run struct {
	Tool    Tool     `json:"tool"`
	Results []Result `json:"results"`
}

// Tool describes the tool.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver is the tool's main component and its rules.
type Driver struct {
	Name           string `json:"name"`
	InformationURI string `json:"informationUri"`
	Version        string `json:"version,omitempty"`
	Rules          []Rule `json:"rules"`
}

// Text is a message.
type Text struct {
	Text string `json:"text"`
}

// Rule is one kind of result.
type Rule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name,omitempty"`
	ShortDescription Text           `json:"shortDescription"`
	FullDescription  Text           `json:"fullDescription"`
	HelpURI          string         `json:"helpUri,omitempty"`
	Help             Text           `json:"help"`
	Properties       map[string]any `json:"properties"`
}

// Result is one finding.
type Result struct {
	RuleID     string         `json:"ruleId"`
	RuleIndex  int            `json:"ruleIndex"`
	Level      string         `json:"level"`
	Message    Text           `json:"message"`
	Locations  []Location     `json:"locations"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Location is where a result is.
type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
}

// PhysicalLocation is a file and an optional line.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

// ArtifactLocation names a file.
type ArtifactLocation struct {
	URI string `json:"uri"`
}

// Region is a line in a file.
type Region struct {
	StartLine int `json:"startLine"`
}

// At returns the location of line (0: the whole file) in file.
func At(file string, line int) []Location {
	loc := Location{PhysicalLocation: PhysicalLocation{ArtifactLocation: ArtifactLocation{URI: file}}}
	if line > 0 {
		loc.PhysicalLocation.Region = &Region{StartLine: line}
	}
	return []Location{loc}
}

// Level maps a severity to a SARIF result level.
func Level(s severity.Level) string {
	switch s {
	case severity.Low:
		return "note"
	case severity.Moderate:
		return "warning"
	}
	return "error"
}

// SecuritySeverity is the score code-scanning UIs sort security results by
// (the "security-severity" rule property). Unrated results rank as
// critical, as thresholds treat them.
func SecuritySeverity(s severity.Level) string {
	switch s {
	case severity.Low:
		return "3.0"
	case severity.Moderate:
		return "5.5"
	case severity.High:
		return "8.0"
	}
	return "9.5"
}

// NewRun returns a run of the rampart tool at version.
func NewRun(version string) *Run {
	return &Run{Tool: Tool{Driver: Driver{Name: "rampart", InformationURI: "https://github.com/rampartsec/rampart", Version: version, Rules: []Rule{}}}, Results: []Result{}}
}

// Rule returns the index of the rule id in the run, adding the rule that mk
// makes the first time.
func (r *Run) Rule(id string, mk func() Rule) int {
	for i, rule := range r.Tool.Driver.Rules {
		if rule.ID == id {
			return i
		}
	}
	r.Tool.Driver.Rules = append(r.Tool.Driver.Rules, mk())
	return len(r.Tool.Driver.Rules) - 1
}

// Write writes a log holding run, its results ordered by file.
func Write(w io.Writer, run *Run) error {
	slices.SortStableFunc(run.Results, func(a, b Result) int {
		return strings.Compare(a.Locations[0].PhysicalLocation.ArtifactLocation.URI, b.Locations[0].PhysicalLocation.ArtifactLocation.URI)
	})
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(Log{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []Run{*run}})
}
