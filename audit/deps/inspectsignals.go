package deps

import (
	"slices"
	"time"

	"github.com/rampartsec/rampart/audit/deps/ignore"
)

// The signals of a package inspection (rampart audit deps --inspect and
// --diff): what the code can do, whether it is what the registry signed,
// and what its metadata says.
const (
	// SignalInstallBehaviour: what an install script actually does —
	// downloads, pipes to a shell, spawns processes, reads credentials,
	// writes outside the package — found in the script and the code it runs.
	SignalInstallBehaviour SignalKind = "install-script-behaviour"
	// SignalNetwork: the code can reach the network.
	SignalNetwork SignalKind = "network"
	// SignalChildProcess: the code can spawn processes.
	SignalChildProcess SignalKind = "child-process"
	// SignalFilesystem: the code reads or writes files, or names credential
	// files.
	SignalFilesystem SignalKind = "filesystem"
	// SignalEnvAccess: the code reads the environment.
	SignalEnvAccess SignalKind = "env-access"
	// SignalNativeCode: the package ships or builds native code.
	SignalNativeCode SignalKind = "native-code"
	// SignalDynamicCode: the code runs code built at run time (eval,
	// new Function, vm, a computed require).
	SignalDynamicCode SignalKind = "dynamic-code"
	// SignalObfuscated: encoded payloads that are decoded and run,
	// obfuscator output, or minified install-time code.
	SignalObfuscated SignalKind = "obfuscated"
	// SignalTyposquat: the name is one edit away from a popular package.
	SignalTyposquat SignalKind = "typosquat"
	// SignalConfusableName: the name reads as a popular package's name once
	// case, separators or look-alike characters are folded.
	SignalConfusableName SignalKind = "confusable-name"
	// SignalNewVersion: the locked version was published recently.
	SignalNewVersion SignalKind = "new-version"
	// SignalMaintainerChange: the locked version's maintainers or publisher
	// differ from the previous version's.
	SignalMaintainerChange SignalKind = "maintainer-change"
	// SignalIntegrityMismatch: the archive fetched does not match the
	// lockfile's integrity hash.
	SignalIntegrityMismatch SignalKind = "integrity-mismatch"
	// SignalInstalledModified: a file of the installed package differs from
	// the archive the lockfile pins.
	SignalInstalledModified SignalKind = "installed-modified"
	// SignalBadSignature: the registry signature is missing, made with an
	// unknown or expired key, or does not verify.
	SignalBadSignature SignalKind = "bad-signature"
	// SignalBadAttestation: a provenance or publish attestation does not
	// verify.
	SignalBadAttestation SignalKind = "bad-attestation"
	// SignalHostileArchive: the archive holds path traversal, links,
	// special files, or exceeds a size, count or expansion bound.
	SignalHostileArchive SignalKind = "hostile-archive"
)

// InspectionKinds lists the signal kinds an inspection can raise, the
// names --fail-on-signal accepts besides the lockfile-level kinds.
var InspectionKinds = []SignalKind{
	SignalInstallBehaviour, SignalNetwork, SignalChildProcess, SignalFilesystem, SignalEnvAccess,
	SignalNativeCode, SignalDynamicCode, SignalObfuscated, SignalTyposquat, SignalConfusableName,
	SignalNewVersion, SignalMaintainerChange, SignalIntegrityMismatch, SignalInstalledModified,
	SignalBadSignature, SignalBadAttestation, SignalHostileArchive,
}

// LockfileKinds lists the signal kinds a plain scan raises.
var LockfileKinds = []SignalKind{
	SignalInstallScript, SignalGit, SignalTarball, SignalLocal, SignalRegistry, SignalNoIntegrity,
	SignalWeakIntegrity, SignalMalicious, SignalGoMinimum, SignalReplaced,
}

// KnownSignalKind reports whether k is a signal kind rampart raises.
func KnownSignalKind(k SignalKind) bool {
	return slices.Contains(InspectionKinds, k) || slices.Contains(LockfileKinds, k)
}

// IgnoredSignal is a signal silenced by an active ignore.
type IgnoredSignal struct {
	Signal
	Reason string `json:"reason"`
	Until  string `json:"until"`
}

// AddSignals adds signals to the report and keeps the report's order.
func (r *Report) AddSignals(signals []Signal) {
	r.Signals = append(r.Signals, signals...)
	sortReport(r)
}

// IgnoreSignals removes from the report the signals an active signal
// ignore covers and returns them.
func (r *Report) IgnoreSignals(ignores *ignore.List, now time.Time) []IgnoredSignal {
	return FilterSignals(&r.Signals, ignores, now)
}

// FilterSignals removes from *signals those an active signal ignore covers
// and returns them.
func FilterSignals(signals *[]Signal, ignores *ignore.List, now time.Time) []IgnoredSignal {
	var silenced []IgnoredSignal
	kept := (*signals)[:0]
	for _, s := range *signals {
		if e := ignores.MatchSignal(s.Package, string(s.Kind), now); e != nil {
			silenced = append(silenced, IgnoredSignal{Signal: s, Reason: e.Reason, Until: e.Until.String()})
			continue
		}
		kept = append(kept, s)
	}
	*signals = kept
	return silenced
}

// SignalsOf returns the signals whose kind is in kinds.
func SignalsOf(signals []Signal, kinds []SignalKind) []Signal {
	var out []Signal
	for _, s := range signals {
		if slices.Contains(kinds, s.Kind) {
			out = append(out, s)
		}
	}
	return out
}
