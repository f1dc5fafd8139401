package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// keyPaths lists every configuration key as documented: "limits.max_body_bytes",
// "routes[].match".
func keyPaths(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for _, f := range structFields(t) {
		key := joinKey(prefix, f.name)
		out = append(out, key)
		ft := t.FieldByIndex(f.index).Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if reflect.PointerTo(ft).Implements(nodeDecoderType) {
			continue
		}
		switch ft.Kind() {
		case reflect.Struct:
			if ft != prefixType && ft != addrType {
				out = append(out, keyPaths(ft, key)...)
			}
		case reflect.Slice:
			if et := ft.Elem(); et.Kind() == reflect.Struct && et != prefixType && et != addrType {
				out = append(out, keyPaths(et, key+"[]")...)
			}
		}
	}
	return out
}

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
