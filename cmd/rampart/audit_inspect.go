package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/ignore"
	"github.com/rampartsec/rampart/audit/deps/inspect"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/registry"
)

// inspectFlags are the flags of audit deps that look inside packages:
// --inspect, --installed, --diff, --fail-on-signal and their settings.
type inspectFlags struct {
	inspect         *bool
	installed       *string
	diff            *string
	failOnSignal    *string
	cache           *string
	offline         *bool
	provenanceRoots *string
	newVersionDays  *int

	kinds []deps.SignalKind
	set   map[string]bool
}

const inspectHelp = `

With --inspect, each npm package's archive is fetched from --registry (or
the package cache, or the tree named by --installed), checked against the
lockfile's integrity hash and the registry's signature and attestations,
and read: what its install scripts run, and what its code can do (network,
processes, files, environment, native and dynamic code, obfuscation), with
file:line. --diff OLD_LOCK NEW_LOCK reports what an upgrade changes.
--fail-on-signal KINDS exits 1 on signals of those kinds; with --inspect
or --diff, a package that is not what the lockfile and the registry vouch
for (integrity-mismatch, installed-modified, bad-signature,
bad-attestation, hostile-archive) exits 1 whatever --fail-on-signal says.
--diff also takes --format markdown, for a pull-request comment.`

func addInspectFlags(flags *flag.FlagSet, c *cli) *inspectFlags {
	return &inspectFlags{
		inspect:         flags.Bool("inspect", false, "fetch and read each npm package: install scripts, capabilities, integrity, signatures, attestations"),
		installed:       flags.String("installed", "", "installed `DIR` (node_modules or its parent) to check against the lockfile; implies --inspect"),
		diff:            flags.String("diff", "", "compare `OLD_LOCK` with the lockfile named as PATH (NEW_LOCK): what the upgrade changes"),
		failOnSignal:    flags.String("fail-on-signal", "", "exit 1 on signals of these `KINDS`, comma-separated (e.g. install-script-behaviour,obfuscated)"),
		cache:           flags.String("package-cache", c.defaultPackageCache(), "`directory` of verified package archives (content-addressed)"),
		offline:         flags.Bool("offline", false, "with --inspect or --diff: use only the package cache and --installed, never the registry"),
		provenanceRoots: flags.String("provenance-roots", "", "Sigstore trusted_root.json or PEM `file` of Fulcio roots that provenance is verified against (default: the Sigstore public-good root shipped with rampart)"),
		newVersionDays:  flags.Int("new-version-days", 7, "raise new-version for versions published fewer than `N` days ago"),
	}
}

// defaultPackageCache returns $RAMPART_PACKAGE_CACHE, or rampart/packages
// under the user's cache directory.
func (c *cli) defaultPackageCache() string { return c.cacheDir("RAMPART_PACKAGE_CACHE", "packages") }

// verificationKinds are the signals that say a package is not what the
// lockfile and the registry vouch for. They fail the audit whatever
// --fail-on-signal says: verification fails closed.
var verificationKinds = []deps.SignalKind{deps.SignalIntegrityMismatch, deps.SignalInstalledModified,
	deps.SignalBadSignature, deps.SignalBadAttestation, deps.SignalHostileArchive}

// active reports whether the packages are to be inspected.
func (f *inspectFlags) active() bool { return *f.inspect || *f.installed != "" || *f.diff != "" }

// validate checks the inspection flags after parsing; set holds the flags
// given on the command line.
func (f *inspectFlags) validate(c *cli, set map[string]bool) (int, bool) {
	f.set = set
	for k := range strings.SplitSeq(*f.failOnSignal, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if !deps.KnownSignalKind(deps.SignalKind(k)) {
			return c.usageError(fmt.Sprintf("unknown signal kind %q for --fail-on-signal", k),
				"use kinds such as install-script-behaviour, network, child-process, obfuscated, typosquat (see docs/audit-deps.md)"), false
		}
		f.kinds = append(f.kinds, deps.SignalKind(k))
	}
	if !f.active() {
		for _, name := range []string{"offline", "provenance-roots", "new-version-days", "package-cache"} {
			if set[name] {
				return c.usageError("--"+name+" applies only with --inspect or --diff", "add --inspect, or drop --"+name), false
			}
		}
	}
	if *f.newVersionDays < 0 {
		return c.usageError("--new-version-days must not be negative", "pass a number of days, e.g. --new-version-days 7"), false
	}
	if *f.installed != "" {
		if info, err := os.Stat(*f.installed); err != nil || !info.IsDir() {
			return c.usageError(fmt.Sprintf("--installed %s is not a directory", *f.installed), "name the project directory or its node_modules"), false
		}
	}
	return exitOK, true
}

// config builds the inspection settings.
func (f *inspectFlags) config(c *cli, registryURL string, now time.Time) (inspect.Config, int, bool) {
	cfg := inspect.Config{
		Cache:         &registry.Cache{Dir: *f.cache},
		Installed:     *f.installed,
		NewVersionAge: time.Duration(*f.newVersionDays) * 24 * time.Hour,
		Now:           func() time.Time { return now },
	}
	if *f.newVersionDays == 0 {
		cfg.NewVersionAge = time.Nanosecond
	}
	if !*f.offline {
		cfg.Registry = &registry.Client{BaseURL: registryURL}
		if _, err := cfg.Registry.TarballURL("x", "1.0.0", ""); err != nil {
			return cfg, c.usageError(err.Error(), "pass the registry's base URL, e.g. --registry https://registry.npmjs.org"), false
		}
	}
	if *f.provenanceRoots != "" {
		const hint = "name a Sigstore trusted_root.json, or a PEM file of Fulcio root certificates"
		data, err := os.ReadFile(*f.provenanceRoots)
		if err != nil {
			return cfg, c.errorfHint(exitUsage, hint, "reading --provenance-roots: %v", err), false
		}
		// A trusted root (JSON) names the certificate authorities and
		// the transparency logs; PEM certificates replace only the
		// authorities of the shipped public-good root.
		var root *registry.TrustedRoot
		if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
			root, err = registry.ParseTrustedRoot(data)
		} else {
			root, err = registry.PublicGoodRoot().WithAuthorities(data)
		}
		if err != nil {
			return cfg, c.errorfHint(exitUsage, hint, "--provenance-roots %s: %s", *f.provenanceRoots, strings.TrimPrefix(err.Error(), "registry: ")), false
		}
		root.Source = *f.provenanceRoots
		cfg.TrustedRoot = root
	}
	return cfg, exitOK, true
}

// inspectReport inspects the packages of a finished scan and adds the
// signals and gaps to it. It returns a note for the table output.
func (f *inspectFlags) inspectReport(ctx context.Context, c *cli, report *deps.Report, registryURL string, now time.Time) (string, int, bool) {
	cfg, code, ok := f.config(c, registryURL, now)
	if !ok {
		return "", code, false
	}
	// Inspect exactly the packages the scan kept (after --omit).
	keep := map[string]bool{}
	for _, p := range report.Packages {
		keep[p.Source+"\x00"+p.Name+"\x00"+p.Version] = true
	}
	var pkgs []inspect.Package
	for _, l := range report.Lockfiles {
		lf, err := lockfile.ReadFile(l.Path)
		if err != nil {
			return "", c.errorf(exitUsage, "%v", err), false
		}
		for _, p := range lf.Packages {
			if keep[l.Path+"\x00"+p.Name+"\x00"+p.Version] {
				pkgs = append(pkgs, inspect.Package{Package: p, Source: l.Path})
			}
		}
	}
	res, err := inspect.Run(ctx, cfg, pkgs)
	if err != nil {
		return "", c.errorf(exitUsage, "%s", strings.TrimPrefix(err.Error(), "inspect: ")), false
	}
	report.AddSignals(res.Signals)
	report.Gaps = append(report.Gaps, res.Gaps...)
	report.Notes = append(report.Notes, res.Notes...)
	report.Provenance = append(report.Provenance, res.Provenance...)
	from := "the registry " + registryURL
	if cfg.Registry == nil {
		from = "the package cache only (--offline)"
	}
	note := fmt.Sprintf("Inspected %d npm %s: archives from %s, cached in %s", res.Inspected, pluralize(res.Inspected, "package", "packages"), from, *f.cache)
	if cfg.Registry != nil {
		note += fmt.Sprintf("; registry signatures verified for %d, provenance for %d (transparency log, certificate chain, built from the repository the package declares)",
			res.Verified.Signatures, res.Verified.Provenance)
	}
	for _, n := range res.Notes {
		note += "\nnote: " + n
	}
	return note, exitOK, true
}

// failing returns the signals that gate: those of the --fail-on-signal
// kinds and, when packages were inspected, every verification failure.
func (f *inspectFlags) failing(signals []deps.Signal) []deps.Signal {
	kinds := f.kinds
	if f.active() {
		kinds = append(slices.Clone(kinds), verificationKinds...)
	}
	return deps.SignalsOf(signals, kinds)
}

// failOnSignals reports the gating signals and returns exitFindings, or
// exitOK when none.
func (f *inspectFlags) failOnSignals(c *cli, signals []deps.Signal) int {
	bad := f.failing(signals)
	if len(bad) == 0 {
		return exitOK
	}
	var kinds []string
	for _, s := range bad {
		if !slices.Contains(kinds, string(s.Kind)) {
			kinds = append(kinds, string(s.Kind))
		}
	}
	return c.errorfHint(exitFindings, "accept a signal for a while with 'signal: KIND' in the ignores file, or drop the kind from --fail-on-signal",
		"%d failing %s: %s", len(bad), pluralize(len(bad), "signal", "signals"), strings.Join(kinds, ", "))
}

// runAuditDiff runs audit deps --diff OLD_LOCK NEW_LOCK.
func (f *inspectFlags) runAuditDiff(ctx context.Context, c *cli, positional []string, format, registryURL, ignoreFile string) int {
	if len(positional) != 1 {
		return c.usageError("--diff needs two lockfiles: --diff OLD_LOCK NEW_LOCK", "e.g. rampart audit deps --diff main.package-lock.json package-lock.json")
	}
	switch format {
	case "table", "json", "sarif", "markdown":
	default:
		return c.usageError(fmt.Sprintf("unknown format %q for --diff", format), "use --format table, json, sarif or markdown")
	}
	oldLock, newLock := *f.diff, positional[0]
	for _, p := range []string{oldLock, newLock} {
		info, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return c.errorfHint(exitUsage, "name two lockfiles: the one before the change and the one after", "%s does not exist", p)
			}
			return c.errorf(exitUsage, "%v", err)
		}
		if info.IsDir() {
			return c.usageError(p+" is a directory", "--diff compares two lockfiles: name the files")
		}
	}
	now := time.Now()
	ignores, code, ok := c.loadIgnores(newLock, false, ignoreFile, now)
	if !ok {
		return code
	}
	cfg, code, ok := f.config(c, registryURL, now)
	if !ok {
		return code
	}
	rep, err := inspect.Diff(ctx, cfg, oldLock, newLock)
	if err != nil {
		var se *lockfile.SyntaxError
		if errors.As(err, &se) || errors.Is(err, lockfile.ErrUnknownFormat) {
			return c.errorfHint(exitUsage, "fix or regenerate the lockfile with its package manager", "%s", strings.TrimPrefix(err.Error(), "inspect: "))
		}
		return c.errorf(exitUsage, "%s", strings.TrimPrefix(err.Error(), "inspect: "))
	}
	silenced := deps.FilterSignals(&rep.Signals, ignores, now)
	if len(silenced) > 0 {
		for i := range rep.Changed {
			deps.FilterSignals(&rep.Changed[i].Signals, ignores, now)
		}
		for i := range rep.Added {
			deps.FilterSignals(&rep.Added[i].Signals, ignores, now)
		}
	}
	switch format {
	case "json":
		err = inspect.WriteDiffJSON(c.stdout, rep)
	case "sarif":
		err = inspect.WriteDiffSARIF(c.stdout, rep, buildVersion())
	case "markdown":
		err = inspect.WriteDiffMarkdown(c.stdout, rep)
	default:
		err = inspect.WriteDiffTable(c.stdout, rep)
		if err == nil && len(silenced) > 0 {
			fmt.Fprintf(c.stdout, "%d %s silenced by %s\n", len(silenced), pluralize(len(silenced), "signal", "signals"), ignores.Path)
		}
	}
	if err != nil {
		return c.errorf(exitUsage, "writing the report: %v", err)
	}
	if ignores != nil {
		for _, e := range ignores.Expired(now) {
			fmt.Fprintf(c.stderr, "rampart: warning: %s:%d: the ignore of %s expired on %s; it no longer applies\n", ignores.Path, e.Line, e.ID, e.Until)
		}
	}
	if code := f.failOnSignals(c, rep.Signals); code != exitOK {
		return code
	}
	if len(rep.Gaps) > 0 {
		return c.errorfHint(exitNothing, "the result is incomplete: see the entries listed as not checked", "%d %s could not be checked", len(rep.Gaps), pluralize(len(rep.Gaps), "entry", "entries"))
	}
	return exitOK
}

// applySignalIgnores moves the signals an ignore covers out of the report
// and returns note with a line counting them added, for the table.
func applySignalIgnores(report *deps.Report, ignores *ignore.List, now time.Time, note string) string {
	silenced := report.IgnoreSignals(ignores, now)
	report.IgnoredSignals = append(report.IgnoredSignals, silenced...)
	if len(silenced) == 0 {
		return note
	}
	line := fmt.Sprintf("%d %s silenced by %s until they expire", len(silenced), pluralize(len(silenced), "signal", "signals"), ignores.Path)
	if note == "" {
		return line
	}
	return note + "\n" + line
}
