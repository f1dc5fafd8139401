package selftest

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rampartsec/rampart/audit/checklist"
	"github.com/rampartsec/rampart/audit/sarif"
	"github.com/rampartsec/rampart/audit/severity"
)

// Report is the outcome of a run.
type Report struct {
	// Config is the configuration file tested ("" when built in code).
	Config string `json:"config"`
	// Mode is "in-process" or "target".
	Mode string `json:"mode"`
	// Target is the deployment's URL in target mode.
	Target string `json:"target,omitempty"`
	// StandIns lists what the run replaced and why.
	StandIns []string      `json:"stand_ins"`
	Classes  []ClassResult `json:"classes"`
	// Totals over every class.
	Run     int `json:"run"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// Duration of the whole run.
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
}

// ClassResult counts one class's cases.
type ClassResult struct {
	Name    string `json:"class"`
	Title   string `json:"title"`
	Summary string `json:"-"`
	// Targets is how many things of the configuration the class attacked.
	Targets int `json:"targets"`
	// Run, Passed and Failed count instantiated cases (controls included:
	// a control passes when the legitimate request gets through).
	Run    int `json:"run"`
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	// Skipped cases did not apply to a target or could not be judged.
	Skipped int `json:"skipped"`
	// NotApplicable says why no case ran, when none did.
	NotApplicable string `json:"not_applicable,omitempty"`
	// Seconds is how long the class took.
	Seconds  float64  `json:"seconds"`
	Failures []Result `json:"failures"`
	// Skips lists why cases were skipped, other than not applying.
	Skips []Result `json:"skips,omitempty"`
}

// Result is one case on one target.
type Result struct {
	Class   string `json:"class"`
	Case    string `json:"case"`
	Source  string `json:"source"`
	Note    string `json:"note,omitempty"`
	Target  string `json:"target"`
	Control bool   `json:"control,omitempty"`
	// Key, File and Line locate the setting the target comes from.
	Key      string         `json:"key,omitempty"`
	File     string         `json:"file,omitempty"`
	Line     int            `json:"line,omitempty"`
	Severity severity.Level `json:"severity"`
	Held     bool           `json:"held"`
	Skipped  string         `json:"skipped,omitempty"`
	// Request is the raw request sent.
	Request string `json:"request,omitempty"`
	// Status is the status the client got (0: none).
	Status int `json:"status"`
	// Observed summarises both sides.
	Observed string `json:"observed,omitempty"`
	// Reached is what reached the app, as it arrived.
	Reached []string `json:"reached"`
	Reason  string   `json:"reason,omitempty"`
	Fix     Fix      `json:"fix"`
}

func (r *Result) fill(ex *exchange) {
	if ex == nil {
		return
	}
	r.Status = ex.Status
	r.Observed = observed(ex)
	r.Reached = []string{}
	for _, got := range ex.Reached {
		r.Reached = append(r.Reached, got.Raw)
	}
}

func (c *ClassResult) add(r Result) {
	switch {
	case r.Skipped != "":
		c.Skipped++
		if r.Skipped != "not applicable" && !strings.HasPrefix(r.Skipped, "not applicable") {
			c.Skips = append(c.Skips, r)
		}
	case r.Held:
		c.Run++
		c.Passed++
	default:
		c.Run++
		c.Failed++
		c.Failures = append(c.Failures, r)
	}
}

func (rep *Report) finish() {
	rep.Run, rep.Passed, rep.Failed, rep.Skipped = 0, 0, 0, 0
	for i := range rep.Classes {
		c := &rep.Classes[i]
		if c.Failures == nil {
			c.Failures = []Result{}
		}
		rep.Run += c.Run
		rep.Passed += c.Passed
		rep.Failed += c.Failed
		rep.Skipped += c.Skipped
	}
	rep.Seconds = rep.Duration.Seconds()
	if rep.StandIns == nil {
		rep.StandIns = []string{}
	}
}

// Fails reports whether a failure at or above threshold happened.
func (rep *Report) Fails(threshold severity.Level) bool {
	for _, c := range rep.Classes {
		for _, f := range c.Failures {
			if f.Severity.Fails(threshold) {
				return true
			}
		}
	}
	return false
}

// WriteJSON writes the report as one JSON object.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable writes the report for people: counts per class, then each
// failure with its request, what reached the app and the fix.
func (rep *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tTARGETS\tRUN\tPASSED\tFAILED\tSKIPPED")
	for _, c := range rep.Classes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", c.Name, c.Targets, c.Run, c.Passed, c.Failed, c.Skipped)
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%d\t%d\n", rep.Run, rep.Passed, rep.Failed, rep.Skipped)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range rep.Classes {
		for _, f := range c.Failures {
			fmt.Fprintf(w, "\nFAIL %s/%s (%s) on %s\n", f.Class, f.Case, f.Severity, f.Target)
			fmt.Fprintf(w, "  source: %s\n", f.Source)
			if f.Note != "" {
				fmt.Fprintf(w, "  attack: %s\n", f.Note)
			}
			fmt.Fprintf(w, "  result: %s (%s)\n", f.Reason, f.Observed)
			fmt.Fprintf(w, "  request:\n%s", indent(f.Request, "    | "))
			for _, got := range f.Reached {
				fmt.Fprintf(w, "  reached the app:\n%s", indent(got, "    > "))
			}
			if loc := location(f); loc != "" {
				fmt.Fprintf(w, "  setting: %s\n", loc)
			}
			fmt.Fprintf(w, "  fix: %s\n", f.Fix.Setting)
			if len(f.Fix.Rules) > 0 {
				fmt.Fprintf(w, "  checklist: %s (rampart audit config)\n", strings.Join(f.Fix.Rules, ", "))
			}
		}
	}
	for _, c := range rep.Classes {
		for _, s := range c.Skips {
			fmt.Fprintf(w, "\nskipped %s/%s on %s: %s\n", s.Class, s.Case, s.Target, s.Skipped)
		}
	}
	if len(rep.StandIns) > 0 {
		fmt.Fprintln(w, "\nstood in for this run:")
		for _, s := range rep.StandIns {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	verdict := "every case held"
	if rep.Failed > 0 {
		verdict = fmt.Sprintf("%d case(s) failed", rep.Failed)
	}
	_, err := fmt.Fprintf(w, "\n%s: %d run, %d passed, %d failed, %d skipped in %.1fs\n", verdict, rep.Run, rep.Passed, rep.Failed, rep.Skipped, rep.Duration.Seconds())
	return err
}

func location(f Result) string {
	switch {
	case f.File != "" && f.Line > 0:
		return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Key)
	case f.File != "":
		return fmt.Sprintf("%s: %s", f.File, f.Key)
	}
	return f.Key
}

func indent(s, prefix string) string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if len(s) > 2000 {
		s = s[:2000] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(prefix + strings.ToValidUTF8(l, "�") + "\n")
	}
	return b.String()
}

// WriteSARIF writes the failures as SARIF 2.1.0, one rule per class and
// case, located at the setting the attacked target comes from.
func (rep *Report) WriteSARIF(w io.Writer, version string) error {
	run := sarif.NewRun(version)
	rules := map[string]checklist.Rule{}
	for _, r := range checklist.Rules() {
		rules[r.ID] = r
	}
	for _, c := range rep.Classes {
		for _, f := range c.Failures {
			id := "selftest/" + f.Class + "/" + f.Case
			idx := run.Rule(id, func() sarif.Rule {
				help := f.Fix.Setting
				for _, r := range f.Fix.Rules {
					if rule, ok := rules[r]; ok {
						help += "\n" + r + ": " + rule.Fix
					}
				}
				return sarif.Rule{ID: id, Name: f.Class, ShortDescription: sarif.Text{Text: c.Title},
					FullDescription: sarif.Text{Text: strings.TrimSpace(f.Note + " Source: " + f.Source)},
					Help:            sarif.Text{Text: help},
					Properties: map[string]any{"security-severity": sarif.SecuritySeverity(f.Severity),
						"tags": append([]string{"security", "selftest", f.Class}, f.Fix.Rules...)}}
			})
			file := f.File
			if file == "" {
				file = "rampart.yaml"
			}
			run.Results = append(run.Results, sarif.Result{RuleID: id, RuleIndex: idx, Level: sarif.Level(f.Severity),
				Message:    sarif.Text{Text: fmt.Sprintf("%s on %s: %s. Fix: %s", f.Case, f.Target, f.Reason, f.Fix.Setting)},
				Locations:  sarif.At(file, f.Line),
				Properties: map[string]any{"request": f.Request, "reached": f.Reached, "checklist": f.Fix.Rules}})
		}
	}
	slices.SortStableFunc(run.Results, func(a, b sarif.Result) int { return strings.Compare(a.RuleID, b.RuleID) })
	return sarif.Write(w, run)
}
