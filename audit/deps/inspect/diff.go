package inspect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/npmsemver"
)

// Change is one package added, removed or upgraded between two lockfiles.
type Change struct {
	Name      string `json:"name"`
	Ecosystem string `json:"ecosystem"`
	// From is the old version (empty when added); To the new one (empty
	// when removed).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Source and Line locate the package in the lockfile that has it (the
	// new one, unless removed).
	Source string `json:"source"`
	Line   int    `json:"line,omitempty"`
	// AddedCapabilities are what To can do that From could not (for an
	// added package: everything it can do); RemovedCapabilities the
	// reverse. Capabilities compare by kind and description, not line.
	AddedCapabilities   []Capability `json:"added_capabilities,omitempty"`
	RemovedCapabilities []Capability `json:"removed_capabilities,omitempty"`
	// Signals are the signals of To that From did not raise.
	Signals []deps.Signal `json:"signals,omitempty"`
	// Scripts are To's install scripts when they differ from From's.
	Scripts map[string]string `json:"install_scripts,omitempty"`
}

// DiffReport is what an upgrade changes.
type DiffReport struct {
	Old     string   `json:"old"`
	New     string   `json:"new"`
	Added   []Change `json:"added"`
	Removed []Change `json:"removed"`
	Changed []Change `json:"changed"`
	// Signals gathers the Signals of every change: what the gate checks.
	Signals []deps.Signal `json:"signals"`
	// Gaps are packages that could not be inspected.
	Gaps []deps.Gap `json:"gaps"`
	// Notes are remarks about the inspection as a whole.
	Notes []string `json:"notes,omitempty"`
}

// Diff reads two lockfiles and reports the packages added, removed and
// changed, inspecting the npm versions involved to say what each change
// adds.
func Diff(ctx context.Context, c Config, oldPath, newPath string) (*DiffReport, error) {
	oldF, err := lockfile.ReadFile(oldPath)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	newF, err := lockfile.ReadFile(newPath)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	rep := &DiffReport{Old: oldPath, New: newPath, Added: []Change{}, Removed: []Change{}, Changed: []Change{}, Signals: []deps.Signal{}, Gaps: []deps.Gap{}}
	for _, f := range []*lockfile.File{oldF, newF} {
		for _, pr := range f.Problems {
			rep.Gaps = append(rep.Gaps, deps.Gap{Source: pr.Path, Line: pr.Line, Entry: pr.Entry, Reason: pr.Reason})
		}
	}
	type key struct{ eco, name string }
	versions := func(f *lockfile.File) map[key]map[string]lockfile.Package {
		m := map[key]map[string]lockfile.Package{}
		for _, p := range f.Packages {
			if p.Origin == lockfile.OriginLocal {
				continue
			}
			k := key{p.Ecosystem, p.Name}
			if m[k] == nil {
				m[k] = map[string]lockfile.Package{}
			}
			v := p.Version
			if v == "" {
				v = p.Commit
			}
			if _, ok := m[k][v]; !ok {
				m[k][v] = p
			}
		}
		return m
	}
	oldV, newV := versions(oldF), versions(newF)
	var keys []key
	for k := range oldV {
		keys = append(keys, k)
	}
	for k := range newV {
		if _, ok := oldV[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(strings.Compare(a.eco, b.eco), strings.Compare(a.name, b.name)) })

	var toInspect []Package
	type pair struct {
		from, to *lockfile.Package
	}
	var pairs []pair
	for _, k := range keys {
		var oldOnly, newOnly []lockfile.Package
		for v, p := range oldV[k] {
			if _, ok := newV[k][v]; !ok {
				oldOnly = append(oldOnly, p)
			}
		}
		for v, p := range newV[k] {
			if _, ok := oldV[k][v]; !ok {
				newOnly = append(newOnly, p)
			}
		}
		sortVersions(oldOnly)
		sortVersions(newOnly)
		// Pair the highest new with the highest old, and so on down.
		for len(oldOnly) > 0 || len(newOnly) > 0 {
			var pp pair
			if n := len(newOnly); n > 0 {
				pp.to = &newOnly[n-1]
				newOnly = newOnly[:n-1]
			}
			if n := len(oldOnly); n > 0 && (pp.to != nil || len(newOnly) == 0) {
				pp.from = &oldOnly[n-1]
				oldOnly = oldOnly[:n-1]
			}
			pairs = append(pairs, pp)
			if pp.to != nil {
				toInspect = append(toInspect, Package{Package: *pp.to, Source: newPath})
			}
			if pp.from != nil && pp.to != nil {
				toInspect = append(toInspect, Package{Package: *pp.from, Source: oldPath})
			}
		}
	}
	res, err := Run(ctx, c, toInspect)
	if err != nil {
		return nil, err
	}
	rep.Gaps = append(rep.Gaps, res.Gaps...)
	rep.Notes = res.Notes
	sigsOf := map[string][]deps.Signal{}
	for _, s := range res.Signals {
		k := s.Package + "@" + s.Version
		sigsOf[k] = append(sigsOf[k], s)
	}
	for _, pp := range pairs {
		switch {
		case pp.from == nil:
			ch := Change{Name: pp.to.Name, Ecosystem: pp.to.Ecosystem, To: pp.to.Version, Source: newPath, Line: pp.to.Line}
			if prof := res.Profiles[pp.to.Name+"@"+pp.to.Version]; prof != nil {
				ch.AddedCapabilities = distinct(prof.Capabilities)
				ch.Scripts = prof.Scripts
			}
			ch.Signals = sigsOf[pp.to.Name+"@"+pp.to.Version]
			rep.Added = append(rep.Added, ch)
			rep.Signals = append(rep.Signals, ch.Signals...)
		case pp.to == nil:
			rep.Removed = append(rep.Removed, Change{Name: pp.from.Name, Ecosystem: pp.from.Ecosystem, From: pp.from.Version, Source: oldPath, Line: pp.from.Line})
		default:
			ch := Change{Name: pp.to.Name, Ecosystem: pp.to.Ecosystem, From: pp.from.Version, To: pp.to.Version, Source: newPath, Line: pp.to.Line}
			oldProf, newProf := res.Profiles[pp.from.Name+"@"+pp.from.Version], res.Profiles[pp.to.Name+"@"+pp.to.Version]
			if oldProf != nil && newProf != nil {
				ch.AddedCapabilities = minus(newProf.Capabilities, oldProf.Capabilities)
				ch.RemovedCapabilities = minus(oldProf.Capabilities, newProf.Capabilities)
				if !mapsEqual(oldProf.Scripts, newProf.Scripts) {
					ch.Scripts = newProf.Scripts
					if ch.Scripts == nil {
						ch.Scripts = map[string]string{}
					}
				}
			}
			ch.Signals = newSignals(sigsOf[pp.to.Name+"@"+pp.to.Version], sigsOf[pp.from.Name+"@"+pp.from.Version], ch.AddedCapabilities)
			rep.Changed = append(rep.Changed, ch)
			rep.Signals = append(rep.Signals, ch.Signals...)
		}
	}
	return rep, nil
}

func sortVersions(ps []lockfile.Package) {
	slices.SortFunc(ps, func(a, b lockfile.Package) int {
		va, ea := npmsemver.ParseVersion(a.Version, npmsemver.Options{Loose: true})
		vb, eb := npmsemver.ParseVersion(b.Version, npmsemver.Options{Loose: true})
		if ea == nil && eb == nil {
			return va.Compare(vb)
		}
		return strings.Compare(a.Version, b.Version)
	})
}

func capKey(c Capability) string { return string(c.Kind) + "\x00" + c.What }

// distinct returns one capability per kind and description, the first
// found.
func distinct(cs []Capability) []Capability {
	seen := map[string]bool{}
	var out []Capability
	for _, c := range cs {
		if !seen[capKey(c)] {
			seen[capKey(c)] = true
			out = append(out, c)
		}
	}
	return out
}

// minus returns the capabilities of a whose kind and description b lacks.
func minus(a, b []Capability) []Capability {
	have := map[string]bool{}
	for _, c := range b {
		have[capKey(c)] = true
	}
	var out []Capability
	for _, c := range distinct(a) {
		if !have[capKey(c)] {
			out = append(out, c)
		}
	}
	return out
}

// newSignals returns the signals of the new version that the old one did
// not raise: capability signals whose capability was added, and every
// other signal whose kind and detail are new.
func newSignals(newer, older []deps.Signal, added []Capability) []deps.Signal {
	had := map[string]bool{}
	for _, s := range older {
		had[string(s.Kind)+"\x00"+s.Detail] = true
	}
	var out []deps.Signal
	for _, s := range newer {
		switch s.Kind {
		case deps.SignalInstallBehaviour, deps.SignalNetwork, deps.SignalChildProcess, deps.SignalFilesystem, deps.SignalEnvAccess,
			deps.SignalNativeCode, deps.SignalDynamicCode, deps.SignalObfuscated:
			if slices.ContainsFunc(added, func(c Capability) bool { return c.Kind == s.Kind && strings.Contains(s.Detail, c.What) }) {
				out = append(out, s)
			}
		default:
			if !had[string(s.Kind)+"\x00"+s.Detail] {
				out = append(out, s)
			}
		}
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}
