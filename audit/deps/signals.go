package deps

import (
	"net/url"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/osv"
	"github.com/rampartsec/rampart/internal/printable"
)

// SignalKind names a supply-chain risk signal.
type SignalKind string

// The signals a scan raises.
const (
	// SignalInstallScript: the package runs scripts when installed.
	SignalInstallScript SignalKind = "install-script"
	// SignalGit: the package comes from a git repository, outside the
	// registry's publishing controls.
	SignalGit SignalKind = "git"
	// SignalTarball: the package comes from an arbitrary archive URL.
	SignalTarball SignalKind = "tarball"
	// SignalLocal: the package comes from the local file system, a link or
	// a workspace; it is never matched against registry advisories.
	SignalLocal SignalKind = "local"
	// SignalRegistry: the package comes from a registry other than the
	// default ones.
	SignalRegistry SignalKind = "non-default-registry"
	// SignalNoIntegrity: nothing pins the package's content.
	SignalNoIntegrity SignalKind = "no-integrity"
	// SignalWeakIntegrity: the package's content is pinned only by SHA-1.
	SignalWeakIntegrity SignalKind = "weak-integrity"
	// SignalMalicious: the advisory database lists the version as malicious.
	SignalMalicious SignalKind = "malicious"
	// SignalGoMinimum: go.mod's go directive allows a toolchain with known
	// standard library vulnerabilities.
	SignalGoMinimum SignalKind = "go-minimum"
	// SignalReplaced: a Go module is replaced by another module.
	SignalReplaced SignalKind = "replaced"
	// SignalUnprintableName: the package's name or version holds control,
	// format or invalid characters — terminal escapes, line breaks,
	// bidirectional overrides — that no registry allows and that only an
	// attempt to forge output or hide a name would put there.
	SignalUnprintableName SignalKind = "unprintable-name"
)

// Signal is a supply-chain risk that is not a known vulnerability.
type Signal struct {
	Kind     SignalKind   `json:"kind"`
	Severity osv.Severity `json:"severity"`
	Package  string       `json:"package"`
	Version  string       `json:"version"`
	Source   string       `json:"source"`
	Line     int          `json:"line,omitempty"`
	Detail   string       `json:"detail"`
	// File and FileLine locate the signal inside the package (--inspect):
	// a path relative to the package root and a 1-based line, when known.
	File     string `json:"file,omitempty"`
	FileLine int    `json:"file_line,omitempty"`
}

var defaultRegistries = []string{"registry.npmjs.org", "registry.yarnpkg.com", "proxy.golang.org"}

func supplyChainSignals(pkgs []scannedPackage, registries []string) []Signal {
	if len(registries) == 0 {
		registries = defaultRegistries
	}
	var out []Signal
	add := func(p scannedPackage, kind SignalKind, sev osv.Severity, detail string) {
		out = append(out, Signal{Kind: kind, Severity: sev, Package: p.Name, Version: p.Version, Source: p.source, Line: p.Line, Detail: detail})
	}
	for _, p := range pkgs {
		if !printable.Safe(p.Name) || !printable.Safe(p.Version) {
			add(p, SignalUnprintableName, osv.SeverityHigh, "the name or version holds control or invisible characters (shown escaped); no registry publishes such names: the lockfile was edited to forge output or hide a package")
		}
		if p.InstallScript {
			add(p, SignalInstallScript, osv.SeverityModerate, "runs install scripts (preinstall, install or postinstall) with the installing user's rights")
		}
		switch p.Origin {
		case lockfile.OriginLocal:
			add(p, SignalLocal, osv.SeverityLow, "resolved from "+orUnknown(p.Resolved)+" on the local file system; not matched against registry advisories")
		case lockfile.OriginGit:
			if p.Commit == "" {
				add(p, SignalGit, osv.SeverityHigh, "resolved from git ("+orUnknown(p.Resolved)+") without a pinned commit: every install may fetch different code")
			} else {
				add(p, SignalGit, osv.SeverityModerate, "resolved from git ("+orUnknown(p.Resolved)+") at commit "+p.Commit+", outside the registry")
			}
		case lockfile.OriginTarball:
			add(p, SignalTarball, osv.SeverityModerate, "resolved from an archive URL outside the registry: "+p.Resolved)
		}
		if p.Replaces != "" && p.Origin != lockfile.OriginLocal {
			add(p, SignalReplaced, osv.SeverityLow, "replaces "+p.Replaces+"; advisories are matched against the replacement")
		}
		if p.Ecosystem != lockfile.EcosystemNPM || p.Origin == lockfile.OriginLocal || p.Origin == lockfile.OriginGit {
			continue
		}
		if host := registryHost(p.Resolved); host != "" && p.Origin == lockfile.OriginRegistry && !slices.Contains(registries, host) {
			add(p, SignalRegistry, osv.SeverityLow, "resolved from "+host+", not a default registry: check it is the registry intended (dependency confusion)")
		}
		switch integ := strings.ToLower(p.Integrity); {
		case integ == "":
			add(p, SignalNoIntegrity, osv.SeverityModerate, "the lockfile records no integrity hash, so a changed archive would install unnoticed")
		case strings.HasPrefix(integ, "sha1") && !strings.Contains(integ, "sha512-"):
			add(p, SignalWeakIntegrity, osv.SeverityLow, "the content is pinned only by SHA-1; regenerate the lockfile to record sha512")
		}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "an unrecorded location"
	}
	return s
}

// registryHost returns the host of a resolved registry URL, or "".
func registryHost(resolved string) string {
	if !strings.HasPrefix(resolved, "https://") && !strings.HasPrefix(resolved, "http://") {
		return ""
	}
	u, err := url.Parse(resolved)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
