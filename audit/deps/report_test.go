package deps_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/internal/testutil"
)

// signalsReport scans a lockfile that raises findings and every signal.
func signalsReport(t *testing.T) *deps.Report {
	t.Helper()
	db := loadDB(t, "testdata/advisories/osv-npm-ghsa")
	return scan(t, deps.Config{Paths: []string{"testdata/osv-scanner-oracle/npm-scratch-project/package-lock.json", "testdata/npm-audit-oracle/audit-nyc-mkdirp/package-lock.json"}, Source: deps.OSVSource{DB: db}})
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	r := signalsReport(t)
	if len(r.Findings) == 0 || len(r.Signals) == 0 {
		t.Fatalf("got %d findings and %d signals, want some of both", len(r.Findings), len(r.Signals))
	}
	var buf bytes.Buffer
	if err := deps.WriteSARIF(&buf, r, "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	if err := testutil.ValidateJSON(t, testutil.SARIFSchema, buf.Bytes()); err != nil {
		t.Errorf("got %v, want a valid SARIF log", err)
	}
	// A log that breaks the schema is caught, so the check can fail.
	if err := testutil.ValidateJSON(t, testutil.SARIFSchema, []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`)); err == nil {
		t.Error("got a driver without a name accepted, want a schema error")
	}
}

func TestJSONContract(t *testing.T) {
	t.Parallel()
	r := signalsReport(t)
	for _, all := range []bool{false, true} {
		var buf bytes.Buffer
		if err := deps.WriteJSON(&buf, r, all); err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		findings, _ := out["findings"].([]any)
		if len(findings) == 0 {
			t.Fatal("got no findings array, want one")
		}
		for _, key := range []string{"package", "version", "ecosystem", "id", "aliases", "severity", "fixed", "source"} {
			if _, ok := findings[0].(map[string]any)[key]; !ok {
				t.Errorf("got finding %v without %q", findings[0], key)
			}
		}
		pkgs, has := out["packages"].([]any)
		if has != all {
			t.Errorf("got packages present=%v, want %v", has, all)
		}
		if all {
			for _, key := range []string{"name", "version", "ecosystem", "source", "groups"} {
				if _, ok := pkgs[0].(map[string]any)[key]; !ok {
					t.Errorf("got package %v without %q", pkgs[0], key)
				}
			}
		}
	}
}

func TestTableGroupsByPackageWithFix(t *testing.T) {
	t.Parallel()
	r := signalsReport(t)
	var buf bytes.Buffer
	if err := deps.WriteTable(&buf, r, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"lodash 4.17.15", "fix: upgrade to 4.17.21 or later", "GHSA-35jh-r3h4-6jhm", "minimist 0.0.8",
		filepath.FromSlash("testdata/npm-audit-oracle/audit-nyc-mkdirp/package-lock.json"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("got table without %q:\n%s", want, out)
		}
	}
}
