package inspect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/inspect"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

// upgradeFixture publishes an upgrade that adds install-time network
// access and writes the lockfiles before and after it.
func upgradeFixture(t testing.TB, reg *npmregistrytest.Registry) (oldLock, newLock string) {
	t.Helper()
	lib := map[string]string{"index.js": "module.exports = (s) => s.toUpperCase()\n"}
	oldI := reg.Publish(npmregistrytest.Package{Name: "colour-pal", Version: "2.3.1", Files: lib})
	newI := reg.Publish(npmregistrytest.Package{Name: "colour-pal", Version: "2.3.2", Scripts: map[string]string{"postinstall": "node install.js"},
		Files: map[string]string{"index.js": lib["index.js"], "install.js": "const https = require('https')\n\nhttps.get('https://stats.example/ping?host=' + require('os').hostname())\n"}})
	keep := reg.Publish(npmregistrytest.Package{Name: "steady", Version: "1.0.0", Files: lib})
	gone := reg.Publish(npmregistrytest.Package{Name: "retired", Version: "0.9.0", Files: lib})
	fresh := reg.Publish(npmregistrytest.Package{Name: "expresss", Version: "4.0.0", Files: map[string]string{"index.js": "module.exports = require('http')\n"}})
	dir := t.TempDir()
	oldLock, newLock = filepath.Join(dir, "old.json"), filepath.Join(dir, "new.json")
	must(t, os.WriteFile(oldLock, reg.Lockfile(
		npmregistrytest.LockEntry{Name: "colour-pal", Version: "2.3.1", Integrity: oldI},
		npmregistrytest.LockEntry{Name: "steady", Version: "1.0.0", Integrity: keep},
		npmregistrytest.LockEntry{Name: "retired", Version: "0.9.0", Integrity: gone}), 0o644))
	must(t, os.WriteFile(newLock, reg.Lockfile(
		npmregistrytest.LockEntry{Name: "colour-pal", Version: "2.3.2", Integrity: newI, InstallScript: true},
		npmregistrytest.LockEntry{Name: "steady", Version: "1.0.0", Integrity: keep},
		npmregistrytest.LockEntry{Name: "expresss", Version: "4.0.0", Integrity: fresh}), 0o644))
	return oldLock, newLock
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	oldLock, newLock := upgradeFixture(t, reg)
	rep, err := inspect.Diff(context.Background(), config(reg, t.TempDir()), oldLock, newLock)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Changed) != 1 || len(rep.Added) != 1 || len(rep.Removed) != 1 || len(rep.Gaps) != 0 {
		t.Fatalf("got %d changed, %d added, %d removed, gaps %v; want 1, 1, 1 and none", len(rep.Changed), len(rep.Added), len(rep.Removed), rep.Gaps)
	}
	ch := rep.Changed[0]
	if ch.Name != "colour-pal" || ch.From != "2.3.1" || ch.To != "2.3.2" {
		t.Fatalf("got %+v, want colour-pal 2.3.1 → 2.3.2", ch)
	}
	var table, md bytes.Buffer
	must(t, inspect.WriteDiffTable(&table, rep))
	if !strings.Contains(table.String(), "colour-pal 2.3.1 → 2.3.2 added a network call in an install script") {
		t.Fatalf("got table:\n%s\nwant the upgrade's headline", table.String())
	}
	if !strings.Contains(table.String(), "install.js:1") {
		t.Fatalf("got table:\n%s\nwant the location of the network call", table.String())
	}
	found := false
	for _, s := range rep.Signals {
		if s.Kind == deps.SignalInstallBehaviour && s.Package == "colour-pal" && s.Version == "2.3.2" && s.File == "install.js" && s.FileLine == 1 {
			found = true
		}
		if s.Package == "steady" {
			t.Fatalf("got %+v for an unchanged package", s)
		}
	}
	if !found {
		t.Fatalf("got %+v, want the install-time network signal of 2.3.2", rep.Signals)
	}
	if !strings.Contains(signalKinds(rep.Added[0].Signals), "typosquat") {
		t.Fatalf("got %+v, want the added typosquat flagged", rep.Added[0].Signals)
	}
	must(t, inspect.WriteDiffMarkdown(&md, rep))
	if !strings.Contains(md.String(), "| colour-pal | 2.3.1 → 2.3.2 added a network call in an install script") {
		t.Fatalf("got markdown:\n%s", md.String())
	}
	var js bytes.Buffer
	must(t, inspect.WriteDiffJSON(&js, rep))
	var back map[string]any
	must(t, json.Unmarshal(js.Bytes(), &back))
	var sa bytes.Buffer
	must(t, inspect.WriteDiffSARIF(&sa, rep, "test"))
	if !strings.Contains(sa.String(), "rampart/install-script-behaviour") {
		t.Fatalf("got SARIF without the signal:\n%s", sa.String())
	}
}

func signalKinds(ss []deps.Signal) string {
	var ks []string
	for _, s := range ss {
		ks = append(ks, string(s.Kind))
	}
	return strings.Join(ks, ",")
}

func TestMarkdownEscapes(t *testing.T) {
	t.Parallel()
	rep := &inspect.DiffReport{Added: []inspect.Change{{Name: "evil|<img src=x onerror=alert(1)>", To: "1.0.0"}}}
	var md bytes.Buffer
	must(t, inspect.WriteDiffMarkdown(&md, rep))
	if strings.Contains(md.String(), "<img") || strings.Contains(md.String(), "evil|") {
		t.Fatalf("got unescaped package data:\n%s", md.String())
	}
}
