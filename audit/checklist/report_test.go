package checklist_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rampartsec/rampart/audit/checklist"
	"github.com/rampartsec/rampart/internal/testutil"
)

func TestOutputs(t *testing.T) {
	t.Parallel()
	c := parse(t, base+"trusted_proxies: [0.0.0.0/0]\nerrors: {shield: false}\n")
	fs := checklist.Run(c)
	if len(fs) != 2 {
		t.Fatalf("got %d findings, want 2: %+v", len(fs), fs)
	}
	var sarif bytes.Buffer
	if err := checklist.WriteSARIF(&sarif, fs, "v0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := testutil.ValidateJSON(t, testutil.SARIFSchema, sarif.Bytes()); err != nil {
		t.Errorf("SARIF: %v", err)
	}
	var js bytes.Buffer
	if err := checklist.WriteJSON(&js, fs); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Findings []struct {
			Rule, Severity, Key, File string
			Line                      int
		}
		Summary checklist.Summary
	}
	if err := json.Unmarshal(js.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Summary.Critical != 1 || out.Summary.High != 1 || out.Findings[0].Rule != "trusted-proxies-everything" ||
		out.Findings[0].Severity != "critical" || out.Findings[0].Line == 0 || out.Findings[0].File != "rampart.yaml" {
		t.Errorf("JSON: got %+v", out)
	}
}
