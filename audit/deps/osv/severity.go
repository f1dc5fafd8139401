package osv

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/rampartsec/rampart/audit/severity"
)

// Severity ranks how bad a finding is; it is the audits' shared scale. The
// zero value is SeverityUnknown.
type Severity = severity.Level

// The severities, in increasing order; the names are npm's.
const (
	SeverityUnknown  = severity.Unknown
	SeverityLow      = severity.Low
	SeverityModerate = severity.Moderate
	SeverityHigh     = severity.High
	SeverityCritical = severity.Critical
)

// ParseSeverity reads a severity name, case-insensitively: "low",
// "moderate" (or "medium"), "high", "critical", or "unknown".
func ParseSeverity(name string) (Severity, error) { return severity.Parse(name) }

// SeverityOf rates a record: from its CVSS v3 base score when it has a
// CVSS v3 vector, else from database_specific.severity (GitHub's rating),
// else SeverityUnknown. Malicious-code records are always critical. The
// score is returned when one was computed, else 0.
func SeverityOf(v *Vulnerability) (Severity, float64) {
	if v.IsMalicious() {
		return SeverityCritical, 0
	}
	for _, s := range v.Severity {
		if s.Type != "CVSS_V3" {
			continue
		}
		if score, err := CVSS3BaseScore(s.Score); err == nil {
			return severityOfScore(score), score
		}
	}
	var ds struct {
		Severity string `json:"severity"`
	}
	if len(v.DatabaseSpecific) > 0 && json.Unmarshal(v.DatabaseSpecific, &ds) == nil {
		if sev, err := ParseSeverity(ds.Severity); err == nil {
			return sev, 0
		}
	}
	return SeverityUnknown, 0
}

// severityOfScore maps a CVSS score to its qualitative rating.
func severityOfScore(score float64) Severity {
	switch {
	case score >= 9:
		return SeverityCritical
	case score >= 7:
		return SeverityHigh
	case score >= 4:
		return SeverityModerate
	case score > 0:
		return SeverityLow
	}
	return SeverityUnknown
}

// CVSS3BaseScore computes the base score of a CVSS v3.0 or v3.1 vector
// ("CVSS:3.1/AV:N/AC:L/…") with the formulas of the CVSS v3.1
// specification, section 7.
func CVSS3BaseScore(vector string) (float64, error) {
	parts := strings.Split(vector, "/")
	if len(parts) < 9 || (parts[0] != "CVSS:3.0" && parts[0] != "CVSS:3.1") {
		return 0, fmt.Errorf("osv: not a CVSS v3 vector: %q", vector)
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, ":")
		if !ok {
			return 0, fmt.Errorf("osv: bad CVSS v3 metric %q", p)
		}
		m[k] = val
	}
	weight := func(metric string, table map[string]float64) (float64, error) {
		w, ok := table[m[metric]]
		if !ok {
			return 0, fmt.Errorf("osv: bad CVSS v3 %s value %q", metric, m[metric])
		}
		return w, nil
	}
	scope := m["S"]
	if scope != "U" && scope != "C" {
		return 0, fmt.Errorf("osv: bad CVSS v3 S value %q", scope)
	}
	prTable := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if scope == "C" {
		prTable = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	av, err1 := weight("AV", map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2})
	ac, err2 := weight("AC", map[string]float64{"L": 0.77, "H": 0.44})
	pr, err3 := weight("PR", prTable)
	ui, err4 := weight("UI", map[string]float64{"N": 0.85, "R": 0.62})
	c, err5 := weight("C", cia)
	i, err6 := weight("I", cia)
	a, err7 := weight("A", cia)
	for _, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
		if err != nil {
			return 0, err
		}
	}
	iss := 1 - (1-c)*(1-i)*(1-a)
	var impact float64
	if scope == "U" {
		impact = 6.42 * iss
	} else {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	if impact <= 0 {
		return 0, nil
	}
	exploitability := 8.22 * av * ac * pr * ui
	if scope == "U" {
		return roundUp(math.Min(impact+exploitability, 10)), nil
	}
	return roundUp(math.Min(1.08*(impact+exploitability), 10)), nil
}

// roundUp is CVSS v3.1's Roundup: the smallest number with one decimal
// that is at least x, computed without floating point surprises.
func roundUp(x float64) float64 {
	n := int64(math.Round(x * 100000))
	if n%10000 == 0 {
		return float64(n) / 100000
	}
	return float64(n/10000+1) / 10
}
