package osv

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Size limits for reading advisory data. OSV's largest all.zip (npm,
// dominated by malicious-package records) is a few hundred megabytes
// uncompressed.
const (
	maxRecordSize = 16 << 20
	maxTotalSize  = 8 << 30
)

// ErrTooLarge is returned for a record or archive over the size limits.
var ErrTooLarge = errors.New("osv: advisory data over the size limit")

// DB is an in-memory index of OSV records by ecosystem and package name.
type DB struct {
	index map[key][]*entry
	// records counts the records loaded, withdrawn ones included.
	records int
	// newest is the latest modified time among the records.
	newest time.Time
	// unevaluable counts ranges whose versions could not be read.
	unevaluable int
}

type key struct{ ecosystem, name string }

// entry is one affected[] element of a record, prepared for matching.
type entry struct {
	vuln     *Vulnerability
	versions []string
	parsed   []version // versions, parsed; nil where unreadable
	ranges   []compiledRange
}

type compiledEvent struct {
	kind string // introduced, fixed, last_affected
	v    version
	raw  string
}

type compiledRange struct {
	events []compiledEvent
	limits []version
}

// NewDB returns an empty DB.
func NewDB() *DB { return &DB{index: map[key][]*entry{}} }

// Records returns the number of records loaded.
func (db *DB) Records() int { return db.records }

// Newest returns the latest "modified" or "published" time among the
// records, or the zero time for an empty DB.
func (db *DB) Newest() time.Time { return db.newest }

// Unevaluable returns the number of ranges that could not be read in
// their ecosystem's version order and so never match.
func (db *DB) Unevaluable() int { return db.unevaluable }

// Add indexes v under every npm and Go package it names; other ecosystems
// are ignored.
func (db *DB) Add(v *Vulnerability) {
	db.records++
	// Some exports leave "modified" zero; "published" still dates them.
	for _, t := range []time.Time{v.Modified, v.Published} {
		if t.After(db.newest) {
			db.newest = t
		}
	}
	for i := range v.Affected {
		a := &v.Affected[i]
		eco := baseEcosystem(a.Package.Ecosystem)
		if eco != EcosystemNPM && eco != EcosystemGo {
			continue
		}
		e := &entry{vuln: v, versions: a.Versions}
		for _, s := range a.Versions {
			pv, err := parseVersion(eco, s)
			if err != nil {
				pv = nil
			}
			e.parsed = append(e.parsed, pv)
		}
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" && r.Type != "ECOSYSTEM" {
				continue // GIT ranges need the repository; later ranges still count
			}
			cr, ok := compileRange(eco, r)
			if !ok {
				db.unevaluable++
				continue
			}
			e.ranges = append(e.ranges, cr)
		}
		k := key{eco, a.Package.Name}
		db.index[k] = append(db.index[k], e)
	}
}

func compileRange(eco string, r Range) (compiledRange, bool) {
	var cr compiledRange
	for _, ev := range r.Events {
		var kind, raw string
		switch {
		case ev.Introduced != "":
			kind, raw = "introduced", ev.Introduced
		case ev.Fixed != "":
			kind, raw = "fixed", ev.Fixed
		case ev.LastAffected != "":
			kind, raw = "last_affected", ev.LastAffected
		case ev.Limit != "":
			kind, raw = "limit", ev.Limit
		default:
			continue
		}
		var v version
		if kind == "introduced" && raw == "0" {
			v = zeroVersion{}
		} else if kind == "limit" && raw == "*" {
			continue // no limit
		} else {
			pv, err := parseVersion(eco, raw)
			if err != nil {
				return compiledRange{}, false
			}
			v = pv
		}
		if kind == "limit" {
			cr.limits = append(cr.limits, v)
			continue
		}
		cr.events = append(cr.events, compiledEvent{kind: kind, v: v, raw: raw})
	}
	sort.SliceStable(cr.events, func(i, j int) bool { return compare(cr.events[i].v, cr.events[j].v) < 0 })
	return cr, true
}

var errNoID = errors.New("osv: record has no id")

// ParseRecord decodes one OSV record.
func ParseRecord(data []byte) (*Vulnerability, error) {
	var v Vulnerability
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("osv: %w", err)
	}
	if v.ID == "" {
		return nil, errNoID
	}
	return &v, nil
}

// Load reads the OSV records under path — a directory of JSON files and
// all.zip archives (searched recursively), a single JSON file, or a single
// zip archive — into a new DB.
func Load(path string) (*DB, error) {
	db := NewDB()
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("osv: %w", err)
	}
	if !info.IsDir() {
		return db, db.loadFile(path)
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("osv: %w", err)
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".zip") {
			return db.loadFile(p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db, nil
}

func (db *DB) loadFile(p string) error {
	if strings.HasSuffix(p, ".zip") {
		return db.loadZip(p)
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("osv: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return fmt.Errorf("osv: %s: %w", p, err)
	}
	if len(data) > maxRecordSize {
		return fmt.Errorf("%w: %s", ErrTooLarge, p)
	}
	v, err := ParseRecord(data)
	if err != nil {
		return fmt.Errorf("osv: %s: invalid record: %w", p, unwrapPrefix(err))
	}
	db.Add(compact(v))
	return nil
}

// compact drops what matching and reporting do not use, so that a full
// ecosystem archive (hundreds of thousands of records) fits in memory.
func compact(v *Vulnerability) *Vulnerability {
	if v.Summary == "" {
		v.Summary, _, _ = strings.Cut(strings.TrimSpace(v.Details), "\n")
	}
	v.Details, v.References = "", nil
	if len(v.DatabaseSpecific) > 0 {
		var ds struct {
			Severity string `json:"severity"`
		}
		raw := v.DatabaseSpecific
		v.DatabaseSpecific = nil
		if json.Unmarshal(raw, &ds) == nil && ds.Severity != "" {
			v.DatabaseSpecific, _ = json.Marshal(ds)
		}
	}
	for i := range v.Affected {
		v.Affected[i].DatabaseSpecific, v.Affected[i].EcosystemSpecific = nil, nil
	}
	return v
}

func (db *DB) loadZip(p string) error {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return fmt.Errorf("osv: %s: %w", p, err)
	}
	defer zr.Close()
	return db.AddZip(p, &zr.Reader)
}

// AddZip indexes every .json record of an OSV all.zip archive; name is
// used in errors.
func (db *DB) AddZip(name string, zr *zip.Reader) error {
	var total int64
	buf := new(bytes.Buffer)
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".json") || zf.FileInfo().IsDir() {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("osv: %s: %s: %w", name, zf.Name, err)
		}
		buf.Reset()
		n, err := io.Copy(buf, io.LimitReader(rc, maxRecordSize+1))
		rc.Close()
		if err != nil {
			return fmt.Errorf("osv: %s: %s: %w", name, zf.Name, err)
		}
		total += n
		if n > maxRecordSize || total > maxTotalSize {
			return fmt.Errorf("%w: %s: %s", ErrTooLarge, name, zf.Name)
		}
		v, err := ParseRecord(buf.Bytes())
		if err != nil {
			return fmt.Errorf("osv: %s: %s: invalid record: %w", name, zf.Name, unwrapPrefix(err))
		}
		db.Add(compact(v))
	}
	return nil
}

// Match is one record found to affect a package version.
type Match struct {
	Vuln *Vulnerability
	// Fixed lists the versions that fix the ranges that matched, sorted,
	// without duplicates.
	Fixed []string
}

// Lookup returns the records that affect the given version of a package,
// in ID order. Withdrawn records are skipped. An error means the version
// cannot be read in the ecosystem's order, so no answer can be given.
func (db *DB) Lookup(ecosystem, name, ver string) ([]Match, error) {
	entries := db.index[key{ecosystem, name}]
	if len(entries) == 0 {
		return nil, nil
	}
	v, err := parseVersion(ecosystem, ver)
	if err != nil {
		return nil, fmt.Errorf("osv: %s %s@%s: %w", ecosystem, name, ver, err)
	}
	byID := map[string]*Match{}
	for _, e := range entries {
		if e.vuln.IsWithdrawn() {
			continue
		}
		affected, fixed := e.affects(ver, v)
		if !affected {
			continue
		}
		m := byID[e.vuln.ID]
		if m == nil {
			m = &Match{Vuln: e.vuln}
			byID[e.vuln.ID] = m
		}
		m.Fixed = append(m.Fixed, fixed...)
	}
	out := make([]Match, 0, len(byID))
	for _, m := range byID {
		slices.SortFunc(m.Fixed, func(a, b string) int {
			pa, ea := parseVersion(ecosystem, a)
			pb, eb := parseVersion(ecosystem, b)
			if ea != nil || eb != nil {
				return strings.Compare(a, b)
			}
			return compare(pa, pb)
		})
		m.Fixed = slices.Compact(m.Fixed)
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Match) int { return strings.Compare(a.Vuln.ID, b.Vuln.ID) })
	return out, nil
}

// affects evaluates one affected entry; it returns the fixed versions of
// the ranges that matched.
func (e *entry) affects(raw string, v version) (bool, []string) {
	hit := false
	for i, s := range e.versions {
		if s == raw || (e.parsed[i] != nil && compare(e.parsed[i], v) == 0) {
			hit = true
			break
		}
	}
	var fixed []string
	for _, r := range e.ranges {
		if ok, fix := r.affects(v); ok {
			hit = true
			if fix != "" {
				fixed = append(fixed, fix)
			}
		}
	}
	return hit, fixed
}

// affects walks the events in version order as the OSV schema prescribes.
// It returns the fixed version that closes the interval holding v, if any.
func (r compiledRange) affects(v version) (bool, string) {
	if len(r.limits) > 0 {
		below := false
		for _, l := range r.limits {
			if compare(v, l) < 0 {
				below = true
			}
		}
		if !below {
			return false, ""
		}
	}
	vulnerable := false
	for _, ev := range r.events {
		switch ev.kind {
		case "introduced":
			if compare(v, ev.v) >= 0 {
				vulnerable = true
			}
		case "fixed":
			if compare(v, ev.v) >= 0 {
				vulnerable = false
			}
		case "last_affected":
			if compare(v, ev.v) > 0 {
				vulnerable = false
			}
		}
	}
	if !vulnerable {
		return false, ""
	}
	for _, ev := range r.events {
		if ev.kind == "fixed" && compare(ev.v, v) > 0 {
			return true, ev.raw
		}
	}
	return true, ""
}

// unwrapPrefix drops the package prefix of an error that is wrapped again.
func unwrapPrefix(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return errors.New(strings.TrimPrefix(err.Error(), "osv: "))
}
