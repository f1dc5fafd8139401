package ignore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FileName is the name of the ignores file looked for beside the scanned
// project.
const FileName = "rampart-audit.yaml"

// MaxDuration is the longest an entry may run from the day it is read.
const MaxDuration = 366 * 24 * time.Hour

// Entry is one accepted advisory.
type Entry struct {
	// ID is an advisory id or alias (GHSA-…, CVE-…, GO-…, an npm advisory
	// number).
	ID string `yaml:"id"`
	// Signal is a supply-chain signal kind ("network",
	// "install-script-behaviour", …) to accept instead of an advisory. An
	// entry has an ID or a Signal, not both.
	Signal string `yaml:"signal,omitempty"`
	// Package limits the entry to one package name; empty means any.
	Package string `yaml:"package,omitempty"`
	// Reason says why the advisory is accepted. Required.
	Reason string `yaml:"reason"`
	// Until is the last day the entry applies (inclusive). Required.
	Until Date `yaml:"until"`
	// Line is the entry's line in the file.
	Line int `yaml:"-"`
}

// Date is a calendar day, written YYYY-MM-DD.
type Date struct{ time.Time }

// UnmarshalYAML reads a YYYY-MM-DD date.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: until: %q is not a date (want YYYY-MM-DD)", n.Line, n.Value)
	}
	d.Time = t
	return nil
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return d.Format(time.DateOnly) }

// List is a parsed ignores file.
type List struct {
	// Path is the file the list was read from.
	Path    string
	Entries []Entry
}

type file struct {
	Ignore []yaml.Node `yaml:"ignore"`
}

// Parse reads an ignores file. now is the current time: entries that end
// more than MaxDuration after it are refused. Expired entries are kept;
// Match skips them and Expired lists them.
func Parse(path string, data []byte, now time.Time) (*List, error) {
	l := &List{Path: path}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("ignore: %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	for i := range f.Ignore {
		n := &f.Ignore[i]
		if n.Kind == yaml.MappingNode {
			// Node.Decode does not honour KnownFields: check keys here.
			for j := 0; j+1 < len(n.Content); j += 2 {
				switch k := n.Content[j]; k.Value {
				case "id", "signal", "package", "reason", "until":
				default:
					return nil, fmt.Errorf("ignore: %s: line %d: field %s not found in an ignore entry", path, k.Line, k.Value)
				}
			}
		}
		var e Entry
		if err := n.Decode(&e); err != nil {
			return nil, fmt.Errorf("ignore: %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		e.Line = n.Line
		e.ID = strings.TrimSpace(e.ID)
		e.Signal = strings.TrimSpace(e.Signal)
		switch {
		case e.ID == "" && e.Signal == "":
			return nil, fmt.Errorf("ignore: %s:%d: id is required (or signal, to accept a signal kind)", path, n.Line)
		case e.ID != "" && e.Signal != "":
			return nil, fmt.Errorf("ignore: %s:%d: an entry has id or signal, not both", path, n.Line)
		case e.Signal != "" && e.Signal != strings.ToLower(e.Signal):
			return nil, fmt.Errorf("ignore: %s:%d: signal %q: kinds are lowercase", path, n.Line, e.Signal)
		}
		if e.ID == "" {
			e.ID = "signal:" + e.Signal
		}
		switch {
		case strings.TrimSpace(e.Reason) == "":
			return nil, fmt.Errorf("ignore: %s:%d: %s: reason is required", path, n.Line, e.ID)
		case e.Until.IsZero():
			return nil, fmt.Errorf("ignore: %s:%d: %s: until is required: an ignore must expire", path, n.Line, e.ID)
		case e.Until.Sub(now) > MaxDuration:
			return nil, fmt.Errorf("ignore: %s:%d: %s: until %s is more than a year away", path, n.Line, e.ID, e.Until)
		}
		l.Entries = append(l.Entries, e)
	}
	return l, nil
}

// active reports whether e still applies at now: through the whole of its
// until day, in UTC.
func (e Entry) active(now time.Time) bool {
	return now.UTC().Before(e.Until.AddDate(0, 0, 1))
}

// Match returns the active entry that silences a finding for pkg whose
// advisory is known by ids (its id and aliases), or nil.
func (l *List) Match(pkg string, ids []string, now time.Time) *Entry {
	if l == nil {
		return nil
	}
	for i := range l.Entries {
		e := &l.Entries[i]
		if !e.active(now) || e.Signal != "" || (e.Package != "" && e.Package != pkg) {
			continue
		}
		for _, id := range ids {
			if strings.EqualFold(id, e.ID) {
				return e
			}
		}
	}
	return nil
}

// MatchSignal returns the active entry that silences a signal of kind for
// pkg, or nil.
func (l *List) MatchSignal(pkg, kind string, now time.Time) *Entry {
	if l == nil {
		return nil
	}
	for i := range l.Entries {
		e := &l.Entries[i]
		if e.active(now) && e.Signal == kind && (e.Package == "" || e.Package == pkg) {
			return e
		}
	}
	return nil
}

// Expired returns the entries whose until day has passed.
func (l *List) Expired(now time.Time) []Entry {
	if l == nil {
		return nil
	}
	var out []Entry
	for _, e := range l.Entries {
		if !e.active(now) {
			out = append(out, e)
		}
	}
	return out
}
