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
