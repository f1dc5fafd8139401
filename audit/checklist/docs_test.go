package checklist_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/rampartsec/rampart/audit/checklist"
)

var update = flag.Bool("update", false, "regenerate docs/checklist.md")

// TestChecklistDoc keeps docs/checklist.md equal to the rule table.
func TestChecklistDoc(t *testing.T) {
	var b bytes.Buffer
	if err := checklist.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	const path = "../../docs/checklist.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Error("docs/checklist.md is out of date: run go test ./audit/checklist -update")
	}
}
