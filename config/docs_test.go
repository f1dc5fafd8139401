package config

import (
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestEveryKeyIsDocumented fails when a configuration key has no entry in
// docs/config.md, so the reference cannot drift from the code.
func TestEveryKeyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keyPaths(reflect.TypeFor[Config](), "") {
		if !strings.Contains(string(doc), "`"+key+"`") {
			t.Errorf("docs/config.md has no entry for `%s`", key)
		}
	}
}

// TestReadmeExampleParses keeps the README's configuration example valid.
func TestReadmeExampleParses(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "# rampart.yaml\n")
	if !ok {
		t.Fatal("README has no rampart.yaml example")
	}
	example, _, _ := strings.Cut(rest, "```")
	if _, err := Parse("README.md", []byte(example)); err != nil {
		t.Errorf("the README's example does not parse:\n%v", err)
	}
}

// TestExampleConfigParses keeps rampart.example.yaml — the shape of the
// configuration, every section — accepted by the decoder.
func TestExampleConfigParses(t *testing.T) {
	data, err := os.ReadFile("../rampart.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("rampart.example.yaml", data); err != nil {
		t.Errorf("rampart.example.yaml does not parse:\n%v", err)
	}
}

var updateReference = flag.Bool("update-reference", false, "rewrite config/reference.md from docs/config.md")

// TestReferenceIsTheDocs keeps the reference built into the binary (rampart
// help config) identical to docs/config.md, its source. Run with
// -update-reference
// after editing docs/config.md.
func TestReferenceIsTheDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	if *updateReference {
		if err := os.WriteFile("reference.md", doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != Reference {
		t.Error("config/reference.md differs from docs/config.md: run go test ./config -run TestReferenceIsTheDocs -update-reference")
	}
	if got := ReferenceFor("auth.sessions.idle_timeout"); !strings.Contains(got, "idle_timeout") || len(got) >= len(Reference) {
		t.Errorf("ReferenceFor(auth.sessions.idle_timeout): got %d bytes, want its section only", len(got))
	}
	if got := ReferenceFor("no_such_key"); got != "" {
		t.Errorf("ReferenceFor(no_such_key): got %q, want nothing", got)
	}
}
