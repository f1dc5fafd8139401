package osv

import (
	"encoding/json"
	"strings"
	"time"
)

// Vulnerability is one OSV record, with the fields matching and reporting
// use.
type Vulnerability struct {
	ID               string          `json:"id"`
	Modified         time.Time       `json:"modified"`
	Published        time.Time       `json:"published"`
	Withdrawn        *time.Time      `json:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []SeverityEntry `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// SeverityEntry is a severity score, such as a CVSS vector.
type SeverityEntry struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected names a package and the versions of it a record affects.
type Affected struct {
	Package           Package         `json:"package"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
}

// Package identifies a package in an ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range is a version range of type SEMVER, ECOSYSTEM or GIT.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one event of a range; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link about the vulnerability.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// IsWithdrawn reports whether the record has been withdrawn.
func (v *Vulnerability) IsWithdrawn() bool { return v.Withdrawn != nil && !v.Withdrawn.IsZero() }

// IsMalicious reports whether the record reports malicious code (OSV's
// "MAL-" identifiers) rather than a vulnerability.
func (v *Vulnerability) IsMalicious() bool {
	if strings.HasPrefix(v.ID, "MAL-") {
		return true
	}
	for _, a := range v.Aliases {
		if strings.HasPrefix(a, "MAL-") {
			return true
		}
	}
	return false
}

// baseEcosystem strips an ecosystem's ":suffix" ("Debian:11" → "Debian").
func baseEcosystem(e string) string {
	b, _, _ := strings.Cut(e, ":")
	return b
}
