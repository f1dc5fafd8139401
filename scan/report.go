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
// (duration_ms) and its summary.
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report
	checks := r.Checks
	if checks == nil {
		checks = []Check{}
	}
	p := plain(*r)
	p.Checks = checks
	return json.Marshal(struct {
		*plain
		DurationMS int64   `json:"duration_ms"`
		Summary    Summary `json:"summary"`
	}{&p, r.Duration.Milliseconds(), r.Summary()})
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
