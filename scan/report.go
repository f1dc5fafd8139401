package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/checklist"
)

// Summary counts checks by status.
type Summary struct {
	Pass  int `json:"pass"`
	Warn  int `json:"warn"`
	Fail  int `json:"fail"`
	Skip  int `json:"skip"`
	Error int `json:"error"`
}

// Summary counts the report's checks by status.
func (r *Report) Summary() Summary {
	var s Summary
	for _, c := range r.Checks {
		switch c.Status {
		case Pass:
			s.Pass++
		case Warn:
			s.Warn++
		case Fail:
			s.Fail++
		case Skip:
			s.Skip++
		case Errored:
			s.Error++
		}
	}
	return s
}

// MarshalJSON encodes the report with its duration in milliseconds
// (duration_ms), its summary, and its worst failing check (worst).
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report
	checks := r.Checks
	if checks == nil {
		checks = []Check{}
	}
	p := plain(*r)
	p.Checks = checks
	var worst *Check
	if w, ok := r.Worst(); ok {
		worst = &w
	}
	return json.Marshal(struct {
		*plain
		DurationMS int64   `json:"duration_ms"`
		Summary    Summary `json:"summary"`
		// Worst is the failing check of the highest severity, or null.
		Worst *Check `json:"worst"`
	}{&p, r.Duration.Milliseconds(), r.Summary(), worst})
}

// WriteJSON writes the report as one indented JSON object.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes a readable report: the grade, then every check grouped
// by checklist item, with the fix under each warn, fail and error.
func WriteTable(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "rampart scan %s\n", truncate(r.URL, 200))
	fmt.Fprintf(&b, "graded:   %s (%d), %d of %d requests, %s\n", truncate(r.FinalURL, 200), r.Status, r.Requests, r.MaxRequests, r.Duration.Round(time.Millisecond))
	fmt.Fprintf(&b, "score:    %d (%s) on the MDN HTTP Observatory's scoring (%s)\n", r.Observatory.Score, r.Observatory.Grade, r.Observatory.Algorithm)
	// The score grades headers only: a good grade must not hide a failing
	// check, so the worst one stands beside it.
	if w, ok := r.Worst(); ok {
		fmt.Fprintf(&b, "worst:    %s %s %s: %s\n", strings.ToUpper(string(w.Status)), w.Severity, w.ID, truncate(w.Detail, 160))
	} else {
		fmt.Fprintf(&b, "worst:    no check fails\n")
	}
	item := 0
	for _, c := range r.Checks {
		if c.Item != item {
			item = c.Item
			fmt.Fprintf(&b, "\n%d. %s\n", item, checklist.Items[item])
		}
		sev := ""
		if c.Status == Warn || c.Status == Fail {
			sev = c.Severity.String()
		}
		fmt.Fprintf(&b, "  %-5s  %-8s  %-28s  %s\n", strings.ToUpper(string(c.Status)), sev, c.ID, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(&b, "  %-5s  %-8s  %-28s  fix: %s\n", "", "", "", c.Fix)
		}
	}
	s := r.Summary()
	fmt.Fprintf(&b, "\n%d pass, %d warn, %d fail, %d skip, %d error\n", s.Pass, s.Warn, s.Fail, s.Skip, s.Error)
	_, err := io.WriteString(w, b.String())
	return err
}

// Worst returns the failing check of the highest severity (the first of
// equals, in report order), and false when no check fails.
func (r *Report) Worst() (Check, bool) {
	var worst Check
	found := false
	for _, c := range r.Checks {
		if c.Status != Fail {
			continue
		}
		if !found || c.Severity > worst.Severity {
			worst, found = c, true
		}
	}
	return worst, found
}
