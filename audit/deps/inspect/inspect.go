package inspect

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/capability"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/names"
	"github.com/rampartsec/rampart/audit/deps/npmsemver"
	"github.com/rampartsec/rampart/audit/deps/osv"
	"github.com/rampartsec/rampart/audit/deps/registry"
	"github.com/rampartsec/rampart/audit/deps/tarball"
)

// Config says where archives and metadata come from and how far to go.
type Config struct {
	// Registry serves archives, metadata, keys and attestations; nil works
	// offline from Cache and Installed, and registry checks (signatures,
	// attestations, new-version, maintainer-change) become gaps.
	Registry *registry.Client
	// Cache keeps verified archives; nil caches nothing.
	Cache *registry.Cache
	// Installed is an installed tree: a node_modules directory or the
	// directory holding one. Its files are checked against the archives,
	// and it is read when an archive cannot be had. Empty means none.
	Installed string
	// TrustedRoot holds the certificate authorities and transparency logs
	// attestations are verified against; nil means the Sigstore
	// public-good root shipped with rampart (registry.PublicGoodRoot).
	TrustedRoot *registry.TrustedRoot
	// Names checks for typosquats; nil means names.NPM().
	Names *names.Checker
	// NewVersionAge is how recent a publication raises new-version.
	// Default 7 days.
	NewVersionAge time.Duration
	// Archive bounds each archive; zero fields take tarball's defaults.
	Archive tarball.Limits
	// Parse bounds each source file; zero takes capability's default.
	Parse capability.Limits
	// MaxParsedFiles bounds the JavaScript files parsed per package.
	// Default 2,000.
	MaxParsedFiles int
	// Concurrency is the number of packages inspected at once. Default 4.
	Concurrency int
	// PackageTime bounds the reading of one package's code: files not
	// reached by then are left unread and the package is a gap. Default
	// 2 minutes.
	PackageTime time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Package is one package to inspect, with the lockfile it came from.
type Package struct {
	lockfile.Package
	Source string
}

// Result is what Run found.
type Result struct {
	Signals []deps.Signal `json:"signals"`
	Gaps    []deps.Gap    `json:"gaps"`
	// Inspected counts the packages whose code was read.
	Inspected int `json:"inspected"`
	// Provenance lists the verified provenances.
	Provenance []deps.Provenance `json:"provenance,omitempty"`
	// Verified counts the package versions whose registry signature, and
	// whose provenance (transparency log, chain and identity), verified.
	Verified Verified `json:"verified"`
	// Notes are remarks about the run as a whole, e.g. a registry that
	// signs nothing.
	Notes []string `json:"notes,omitempty"`
	// Profiles holds what each package version can do, by "name@version".
	Profiles map[string]*Profile `json:"-"`
}

// Verified counts what verified in a run.
type Verified struct {
	Signatures int `json:"signatures"`
	Provenance int `json:"provenance"`
}

// Capability is one thing a package version can do, at one place.
type Capability struct {
	Kind deps.SignalKind `json:"kind"`
	// What describes it without its location, e.g. "requires https";
	// Diff compares capabilities by Kind and What.
	What string `json:"what"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// InstallTime marks code run by an install script.
	InstallTime bool `json:"install_time,omitempty"`
	// Severity is the severity its signal carries.
	Severity osv.Severity `json:"severity"`
}

// Profile is what one package version can do.
type Profile struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	Scripts      map[string]string `json:"install_scripts,omitempty"`
	Capabilities []Capability      `json:"capabilities"`
}

// install-time script phases, in the order npm runs them.
var installPhases = []string{"preinstall", "install", "postinstall"}

// Run inspects pkgs. Packages other than npm packages from a registry are
// skipped (local ones) or reported as gaps (git, foreign archives).
func Run(ctx context.Context, c Config, pkgs []Package) (*Result, error) {
	r := &run{cfg: c, res: &Result{Signals: []deps.Signal{}, Gaps: []deps.Gap{}, Profiles: map[string]*Profile{}}}
	if r.cfg.Names == nil {
		r.cfg.Names = names.NPM()
	}
	if r.cfg.NewVersionAge <= 0 {
		r.cfg.NewVersionAge = 7 * 24 * time.Hour
	}
	if r.cfg.MaxParsedFiles <= 0 {
		r.cfg.MaxParsedFiles = 2000
	}
	if r.cfg.Concurrency <= 0 {
		r.cfg.Concurrency = 4
	}
	if r.cfg.PackageTime <= 0 {
		r.cfg.PackageTime = 2 * time.Minute
	}
	if r.cfg.Now == nil {
		r.cfg.Now = time.Now
	}
	if c.Installed != "" {
		idx, err := indexInstalled(c.Installed)
		if err != nil {
			return nil, fmt.Errorf("inspect: %w", err)
		}
		r.installed = idx
	}
	work := make(chan Package)
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				r.inspect(ctx, p)
			}
		}()
	}
	seen := map[string]bool{}
feed:
	for _, p := range pkgs {
		key := p.Name + "@" + p.Version + "\x00" + p.Integrity
		if seen[key] || p.Ecosystem != lockfile.EcosystemNPM || p.Origin == lockfile.OriginLocal {
			continue
		}
		seen[key] = true
		select {
		case work <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	slices.SortFunc(r.res.Signals, func(a, b deps.Signal) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), strings.Compare(string(a.Kind), string(b.Kind)),
			strings.Compare(a.Package, b.Package), strings.Compare(a.Version, b.Version), strings.Compare(a.File, b.File), cmp.Compare(a.FileLine, b.FileLine))
	})
	slices.SortFunc(r.res.Provenance, func(a, b deps.Provenance) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), cmp.Compare(a.Line, b.Line), strings.Compare(a.Package, b.Package), strings.Compare(a.Version, b.Version))
	})
	slices.SortFunc(r.res.Gaps, func(a, b deps.Gap) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), cmp.Compare(a.Line, b.Line), strings.Compare(a.Entry, b.Entry))
	})
	return r.res, nil
}

// run is one Run's state.
type run struct {
	cfg       Config
	installed *installedIndex

	mu  sync.Mutex
	res *Result

	keysOnce sync.Once
	keys     []registry.Key
	keysErr  error

	packMu     sync.Mutex
	packuments map[string]*packumentResult
}

type packumentResult struct {
	once sync.Once
	p    *registry.Packument
	err  error
}

func (r *run) packument(ctx context.Context, name string) (*registry.Packument, error) {
	r.packMu.Lock()
	if r.packuments == nil {
		r.packuments = map[string]*packumentResult{}
	}
	pr := r.packuments[name]
	if pr == nil {
		pr = &packumentResult{}
		r.packuments[name] = pr
	}
	r.packMu.Unlock()
	pr.once.Do(func() { pr.p, pr.err = r.cfg.Registry.Packument(ctx, name) })
	return pr.p, pr.err
}

func (r *run) registryKeys(ctx context.Context) ([]registry.Key, error) {
	r.keysOnce.Do(func() {
		r.keys, r.keysErr = r.cfg.Registry.Keys(ctx)
		if errors.Is(r.keysErr, registry.ErrNotFound) {
			r.keys, r.keysErr = nil, nil // no keys endpoint: no keys
		}
	})
	return r.keys, r.keysErr
}

// note records a remark about the whole run, once.
func (r *run) note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.res.Notes, s) {
		r.res.Notes = append(r.res.Notes, s)
	}
}

// pkgRun collects one package's signals.
type pkgRun struct {
	p       Package
	signals []deps.Signal
	gaps    []deps.Gap
	profile *Profile
}

func (pr *pkgRun) signal(kind deps.SignalKind, sev osv.Severity, file string, line int, detail string) {
	pr.signals = append(pr.signals, deps.Signal{Kind: kind, Severity: sev, Package: pr.p.Name, Version: pr.p.Version,
		Source: pr.p.Source, Line: pr.p.Line, Detail: safeText(detail), File: safeText(file), FileLine: line})
}

// safeText escapes the control and bidirectional-formatting characters
// that package contents (file names, module names, script lines) could
// carry into a terminal or a review tool.
func safeText(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) ||
		(r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0xfeff || r == 0xfffd
}

func (pr *pkgRun) gap(reason string) {
	pr.gaps = append(pr.gaps, deps.Gap{Source: pr.p.Source, Line: pr.p.Line, Entry: pr.p.Name + "@" + pr.p.Version, Reason: safeText(reason)})
}

func (r *run) inspect(ctx context.Context, p Package) {
	pr := &pkgRun{p: p, profile: &Profile{Name: p.Name, Version: p.Version}}
	defer func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.res.Signals = append(r.res.Signals, pr.signals...)
		r.res.Gaps = append(r.res.Gaps, pr.gaps...)
		r.res.Profiles[p.Name+"@"+p.Version] = pr.profile
	}()
	r.checkName(pr)
	if p.Origin == lockfile.OriginGit {
		pr.gap("from git: not inspected (only registry archives are fetched)")
		return
	}
	var meta *registry.Packument
	if r.cfg.Registry != nil {
		var err error
		if meta, err = r.packument(ctx, p.Name); err != nil {
			pr.gap("registry metadata: " + err.Error())
			meta = nil
		}
	}
	if r.installed != nil {
		r.checkInstalledVersion(pr)
	}
	data, verified := r.archive(ctx, pr, meta)
	var a *tarball.Archive
	var readErr error
	if data != nil {
		a, readErr = tarball.Read(data, r.cfg.Archive)
	}
	if meta != nil {
		r.checkMetadata(ctx, pr, meta, data, declaredRepository(a, meta.Versions[p.Version]))
	}
	if data == nil {
		if files := r.installedFiles(pr); files != nil {
			r.analyse(pr, files, false)
			r.mu.Lock()
			r.res.Inspected++
			r.mu.Unlock()
		}
		return
	}
	if readErr != nil {
		pr.signal(deps.SignalHostileArchive, osv.SeverityHigh, "", 0, readErr.Error())
		pr.gap("archive not read: " + readErr.Error())
		return
	}
	for _, prob := range a.Problems {
		sev := osv.SeverityCritical
		switch prob.Kind {
		case tarball.ProblemBound, tarball.ProblemCorrupt, tarball.ProblemDuplicate:
			sev = osv.SeverityHigh
		}
		pr.signal(deps.SignalHostileArchive, sev, prob.Name, 0, "the archive holds "+prob.String())
	}
	if a.Truncated {
		pr.gap("archive only partly read: a bound was reached or it is corrupt")
	}
	r.analyse(pr, a.Files, true)
	if verified && r.installed != nil {
		r.checkInstalled(pr, a)
	}
	r.mu.Lock()
	r.res.Inspected++
	r.mu.Unlock()
}

// checkName raises typosquat and confusable-name signals.
func (r *run) checkName(pr *pkgRun) {
	for _, m := range r.cfg.Names.Check(pr.p.Name) {
		kind, sev := deps.SignalTyposquat, osv.SeverityModerate
		if m.Kind == names.Confusable {
			kind, sev = deps.SignalConfusableName, osv.SeverityHigh
		}
		pr.signal(kind, sev, "", 0, m.Detail+"; check that "+pr.p.Name+" is the package intended (popular-package list of "+r.cfg.Names.ListDate()+")")
	}
}

// archive returns the package's archive and whether it matched the
// lockfile's integrity. It returns nil when none could be had or the one
// fetched does not match.
func (r *run) archive(ctx context.Context, pr *pkgRun, meta *registry.Packument) ([]byte, bool) {
	p := pr.p
	integrity := p.Integrity
	if _, err := registry.VerifyIntegrity(integrity, nil); errors.Is(err, registry.ErrNoIntegrity) {
		integrity = ""
	}
	if integrity != "" {
		if data, ok, err := r.cfg.Cache.Get(integrity); err != nil {
			pr.gap("archive cache: " + err.Error())
		} else if ok {
			return data, true
		}
	}
	if r.cfg.Registry == nil {
		if r.installed == nil {
			pr.gap("archive not in the cache and no registry to fetch it from")
		}
		return nil, false
	}
	u, err := r.cfg.Registry.TarballURL(p.Name, p.Version, p.Resolved)
	if err == nil && p.Origin == lockfile.OriginTarball && u != p.Resolved {
		pr.gap("resolved from an archive outside the registry (" + p.Resolved + "): not fetched")
		return nil, false
	}
	if err != nil {
		pr.gap(err.Error())
		return nil, false
	}
	data, err := r.cfg.Registry.Tarball(ctx, u)
	if err != nil {
		pr.gap("archive: " + err.Error())
		return nil, false
	}
	want := integrity
	from := "the lockfile's"
	if want == "" && meta != nil {
		want, from = meta.Versions[p.Version].Dist.Integrity, "the registry's"
	}
	if want == "" {
		pr.gap("no integrity hash to check the archive against")
		return data, false
	}
	algo, err := registry.VerifyIntegrity(want, data)
	if err != nil {
		pr.signal(deps.SignalIntegrityMismatch, osv.SeverityCritical, "", 0,
			fmt.Sprintf("the archive served at %s does not match %s %s hash: it is not the code the lockfile pins; not analysed", u, from, algo))
		pr.gap("archive does not match its integrity hash")
		return nil, false
	}
	// A lockfile that pins only SHA-1 is checked against the registry's
	// stronger hash too: SHA-1 collisions can be made.
	if meta != nil && algo == "sha1" {
		if reg := meta.Versions[p.Version].Dist.Integrity; reg != "" {
			if ralgo, err := registry.VerifyIntegrity(reg, data); err != nil && ralgo != "sha1" {
				pr.signal(deps.SignalIntegrityMismatch, osv.SeverityCritical, "", 0,
					fmt.Sprintf("the archive matches the lockfile's sha1 hash but not the registry's %s hash: a sha1 collision or a replaced archive; not analysed", ralgo))
				pr.gap("archive does not match the registry's integrity hash")
				return nil, false
			}
		}
	}
	if err := r.cfg.Cache.Put(want, data); err != nil {
		pr.gap("archive cache: " + err.Error())
	}
	return data, integrity != ""
}

// declaredRepository returns the repository the package declares: from
// the package.json of its archive, which the lockfile's hash pins, else
// from the registry's metadata.
func declaredRepository(a *tarball.Archive, v registry.Version) string {
	if a != nil {
		for _, f := range a.Files {
			if f.Path == "package.json" {
				var pj struct {
					Repository registry.Repository `json:"repository"`
				}
				if json.Unmarshal(f.Data, &pj) == nil {
					return pj.Repository.URL
				}
			}
		}
	}
	return v.Repository.URL
}

// checkMetadata verifies the registry signature and attestations, and
// raises new-version and maintainer-change. repository is what the
// package declares, which a provenance must have been built from.
func (r *run) checkMetadata(ctx context.Context, pr *pkgRun, meta *registry.Packument, data []byte, repository string) {
	p := pr.p
	v, ok := meta.Versions[p.Version]
	if !ok {
		pr.gap("the registry lists no version " + p.Version)
		return
	}
	published := meta.Published(p.Version)
	now := r.cfg.Now()
	if !published.IsZero() && now.Sub(published) < r.cfg.NewVersionAge {
		pr.signal(deps.SignalNewVersion, osv.SeverityLow, "", 0, fmt.Sprintf("published %s (%s ago); new versions are where hijacked releases hide until someone notices",
			published.UTC().Format(time.DateOnly), now.Sub(published).Round(time.Hour)))
	}
	if prev := previousVersion(meta, p.Version); prev != "" {
		if d := maintainerDelta(meta.Versions[prev], v); d != "" {
			sev := osv.SeverityModerate
			if v.NPMUser != nil && !slices.ContainsFunc(meta.Versions[prev].Maintainers, func(m registry.Person) bool { return m.Name == v.NPMUser.Name }) {
				sev = osv.SeverityHigh
			}
			pr.signal(deps.SignalMaintainerChange, sev, "", 0, "since "+prev+": "+d)
		}
	}
	integrity := v.Dist.Integrity
	if integrity == "" {
		integrity = p.Integrity
	}
	keys, err := r.registryKeys(ctx)
	switch {
	case err != nil:
		pr.gap("registry signing keys: " + err.Error())
	case len(keys) == 0:
		// A registry that signs nothing (many private ones) has nothing
		// to verify: said once, not a gap per package, as npm audit
		// signatures does.
		r.note("the registry publishes no signing keys: registry signatures were not checked")
	default:
		_, err := registry.VerifySignatures(keys, p.Name, p.Version, integrity, v.Dist.Signatures, published)
		if err == nil {
			r.mu.Lock()
			r.res.Verified.Signatures++
			r.mu.Unlock()
		}
		if err != nil {
			sev := osv.SeverityCritical
			if errors.Is(err, registry.ErrUnsigned) {
				sev = osv.SeverityHigh
			}
			pr.signal(deps.SignalBadSignature, sev, "", 0, flat(err))
		}
	}
	if v.Dist.Attestations == nil || data == nil {
		return
	}
	atts, err := r.cfg.Registry.Attestations(ctx, p.Name, p.Version, v.Dist.Attestations)
	if err != nil {
		pr.gap("attestations: " + err.Error())
		return
	}
	if v.Dist.Attestations.Provenance != nil && !slices.ContainsFunc(atts, func(a registry.Attestation) bool {
		return a.PredicateType == v.Dist.Attestations.Provenance.PredicateType
	}) {
		pr.signal(deps.SignalBadAttestation, osv.SeverityHigh, "", 0, "the registry lists a provenance attestation it does not serve")
	}
	opts := registry.AttestationOptions{Keys: keys, Root: r.cfg.TrustedRoot, Repository: repository}
	for _, c := range registry.VerifyAttestations(atts, opts, p.Name, p.Version, registry.SHA512Hex(data)) {
		switch {
		case c.Err == nil:
			if id := c.Identity; id != nil {
				r.mu.Lock()
				r.res.Verified.Provenance++
				r.res.Provenance = append(r.res.Provenance, deps.Provenance{Package: p.Name, Version: p.Version, Source: p.Source, Line: p.Line,
					Repository: safeText(id.SourceRepository), Workflow: safeText(id.Workflow), Issuer: safeText(id.Issuer),
					Ref: safeText(id.SourceRef), Commit: safeText(id.SourceDigest), Logged: c.Time.UTC().Format(time.RFC3339)})
				r.mu.Unlock()
			}
		case len(keys) == 0 && errors.Is(c.Err, registry.ErrUnknownKey):
			r.note("the registry publishes no signing keys: attestations signed by the registry were not checked")
		case errors.Is(c.Err, registry.ErrTlogUnverifiable) && !errors.Is(c.Err, registry.ErrTlog):
			// Not false, but not checked either: a log or an entry format
			// this build does not know. A gap keeps the audit from
			// reporting the package as verified. Another entry of the
			// same bundle that is false makes it a signal below.
			pr.gap(shortPredicate(c.PredicateType) + " not verified: " + flat(c.Err))
		case errors.Is(c.Err, registry.ErrNoRepository):
			pr.signal(deps.SignalBadAttestation, osv.SeverityHigh, "", 0, shortPredicate(c.PredicateType)+": "+flat(c.Err))
		default:
			pr.signal(deps.SignalBadAttestation, osv.SeverityCritical, "", 0, shortPredicate(c.PredicateType)+": "+flat(c.Err))
		}
	}
}

func shortPredicate(t string) string {
	switch {
	case strings.Contains(t, "slsa.dev/provenance"):
		return "provenance attestation"
	case strings.Contains(t, "npm/attestation"):
		return "publish attestation"
	}
	return "attestation " + t
}

// flat makes an error one line of a report, without the package prefixes
// of the errors it wraps.
func flat(err error) string {
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\n", "; "), "registry: ", "")
}

// previousVersion returns the highest version published before v, by
// semver order, or "".
func previousVersion(meta *registry.Packument, v string) string {
	cur, err := npmsemver.ParseVersion(v, npmsemver.Options{Loose: true})
	if err != nil {
		return ""
	}
	best, bestV := "", npmsemver.Version{}
	for s := range meta.Versions {
		sv, err := npmsemver.ParseVersion(s, npmsemver.Options{Loose: true})
		if err != nil || sv.Compare(cur) >= 0 || len(sv.Prerelease) > 0 && len(cur.Prerelease) == 0 {
			continue
		}
		if best == "" || sv.Compare(bestV) > 0 {
			best, bestV = s, sv
		}
	}
	return best
}

// maintainerDelta describes how the maintainers and publisher changed.
func maintainerDelta(prev, cur registry.Version) string {
	set := func(ps []registry.Person) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	a, b := set(prev.Maintainers), set(cur.Maintainers)
	var parts []string
	var added, removed []string
	for _, n := range b {
		if !slices.Contains(a, n) {
			added = append(added, n)
		}
	}
	for _, n := range a {
		if !slices.Contains(b, n) {
			removed = append(removed, n)
		}
	}
	if len(added) > 0 {
		parts = append(parts, "maintainers added: "+strings.Join(added, ", "))
	}
	if len(removed) > 0 {
		parts = append(parts, "maintainers removed: "+strings.Join(removed, ", "))
	}
	if prev.NPMUser != nil && cur.NPMUser != nil && prev.NPMUser.Name != cur.NPMUser.Name {
		parts = append(parts, "published by "+cur.NPMUser.Name+" (the previous version by "+prev.NPMUser.Name+")")
	}
	return strings.Join(parts, "; ")
}

// jsFile reports whether a path is JavaScript to parse.
func jsFile(p string) bool {
	switch path.Ext(p) {
	case ".js", ".cjs", ".mjs":
		return true
	}
	return false
}

// packageJSON is the part of package.json read.
type packageJSON struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Scripts map[string]string `json:"scripts"`
	Gypfile *bool             `json:"gypfile"`
}

// analyse reads the package's files: install scripts, the code they run,
// and every JavaScript file.
func (r *run) analyse(pr *pkgRun, files []tarball.File, fromArchive bool) {
	byPath := make(map[string]*tarball.File, len(files))
	for i := range files {
		byPath[files[i].Path] = &files[i]
	}
	var pj packageJSON
	if f := byPath["package.json"]; f != nil {
		if err := json.Unmarshal(f.Data, &pj); err != nil {
			pr.gap("package.json is not valid JSON: " + err.Error())
		}
	} else {
		pr.gap("the package has no package.json")
	}
	results := map[string]capability.Result{}
	parsed := 0
	deadline := time.Now().Add(r.cfg.PackageTime)
	timedOut := 0
	paths := make([]string, 0, len(files))
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	slices.Sort(paths)
	for _, p := range paths {
		f := byPath[p]
		switch {
		case jsFile(p):
			if parsed >= r.cfg.MaxParsedFiles {
				continue
			}
			if time.Now().After(deadline) {
				timedOut++
				continue
			}
			parsed++
			results[p] = capability.Analyze(f.Data, r.cfg.Parse)
			if results[p].Truncated {
				pr.gap(p + ": analysis stopped at the time bound for one file")
			}
		case path.Ext(p) == ".node":
			pr.addCap(Capability{Kind: deps.SignalNativeCode, What: "ships a compiled native addon", File: p, Severity: osv.SeverityLow})
		case path.Base(p) == "binding.gyp":
			pr.addCap(Capability{Kind: deps.SignalNativeCode, What: "builds a native addon with node-gyp at install", File: p, Severity: osv.SeverityLow})
		}
	}
	if timedOut > 0 {
		pr.gap(fmt.Sprintf("the time bound for one package (%s) was reached: %d JavaScript files not read", r.cfg.PackageTime, timedOut))
	}
	if parsed >= r.cfg.MaxParsedFiles {
		pr.gap(fmt.Sprintf("more than %d JavaScript files: only the first %d were read", r.cfg.MaxParsedFiles, r.cfg.MaxParsedFiles))
	}
	installFiles := r.installScripts(pr, pj, byPath, results)
	for _, p := range paths {
		res, ok := results[p]
		if !ok {
			continue
		}
		if res.ParseError != "" && !installFiles[p] {
			// A file that does not parse is not silently clean, but most
			// are templates or fixtures: a low note, not a gap.
			pr.addCap(Capability{Kind: deps.SignalObfuscated, What: "a JavaScript file that does not parse (" + res.ParseError + ")", File: p, Severity: osv.SeverityLow})
		}
		for _, f := range res.Findings {
			pr.addCap(Capability{Kind: deps.SignalKind(f.Kind), What: f.Detail, File: p, Line: f.Line, Severity: runtimeSeverity(f)})
		}
	}
	pr.flush()
}

// runtimeSeverity weighs a capability of library code.
func runtimeSeverity(f capability.Finding) osv.Severity {
	switch {
	case f.Kind == capability.Obfuscated:
		return osv.SeverityHigh
	case f.Sensitive, f.Kind == capability.DynamicCode:
		return osv.SeverityModerate
	}
	return osv.SeverityLow
}

// addCap records a capability in the profile.
func (pr *pkgRun) addCap(c Capability) {
	c.What, c.File = safeText(c.What), safeText(c.File)
	pr.profile.Capabilities = append(pr.profile.Capabilities, c)
}

// flush turns the profile's capabilities into signals: one per kind (and
// per severity) and per install-time behaviour, located at the first
// occurrence, with the count and the next locations in the detail.
func (pr *pkgRun) flush() {
	type group struct {
		first Capability
		whats []string
		more  []string
		n     int
	}
	groups := map[string]*group{}
	var order []string
	for _, c := range pr.profile.Capabilities {
		kind := c.Kind
		key := string(kind) + "\x00" + c.Severity.String()
		if c.InstallTime {
			key += "\x00install\x00" + c.What
		}
		g := groups[key]
		if g == nil {
			g = &group{first: c}
			groups[key] = g
			order = append(order, key)
		}
		g.n++
		if !slices.Contains(g.whats, c.What) {
			g.whats = append(g.whats, c.What)
		}
		if g.n > 1 && len(g.more) < 3 {
			g.more = append(g.more, loc(c.File, c.Line))
		}
	}
	for _, key := range order {
		g := groups[key]
		c := g.first
		detail := strings.Join(clipList(g.whats, 4), "; ")
		if c.File != "" {
			detail += " (" + loc(c.File, c.Line) + ")"
		}
		if g.n > 1 {
			detail += fmt.Sprintf("; %d places in all", g.n)
			if len(g.more) > 0 {
				detail += ", also " + strings.Join(g.more, ", ")
			}
		}
		pr.signal(c.Kind, c.Severity, c.File, c.Line, detail)
	}
}

func clipList(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("and %d more", len(s)-n))
}

func loc(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}
