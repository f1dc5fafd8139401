// Package severity is the one severity scale of Rampart's audits, so that a
// --fail-on threshold reads the same for dependencies, configurations and
// scanned sites. The names are npm's: low, moderate, high, critical.
package severity

import (
	"fmt"
	"strings"
)

// Level ranks how bad a finding is. The zero value is Unknown, which
// thresholds treat as failing: an unrated finding is never silently passed.
type Level int

// The levels, in increasing order.
const (
	Unknown Level = iota
	Low
	Moderate
	High
	Critical
)

var names = [...]string{"unknown", "low", "moderate", "high", "critical"}

// String returns the level's lowercase name.
func (l Level) String() string {
	if l < 0 || int(l) >= len(names) {
		return "unknown"
	}
	return names[l]
}

// MarshalText encodes the level as its name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Parse reads a level name, case-insensitively: "low", "moderate" (or
// "medium"), "high", "critical", or "unknown" (also "").
func Parse(name string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "low":
		return Low, nil
	case "moderate", "medium":
		return Moderate, nil
	case "high":
		return High, nil
	case "critical":
		return Critical, nil
	case "unknown", "":
		return Unknown, nil
	}
	return Unknown, fmt.Errorf("severity: unknown level %q (want low, moderate, high or critical)", name)
}

// Fails reports whether a finding at level l fails a threshold: l is at
// least the threshold, or unrated.
func (l Level) Fails(threshold Level) bool { return l == Unknown || l >= threshold }
