package selftest_test

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rampartsec/rampart/selftest"
)

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"unknown field", "class: x\ncases:\n  - id: a\n    sourc: CVE-2021-41773\n", "bad.yaml:4: field sourc not found"},
		{"no source", "class: x\nseverity: high\non: any-route\nexpect: not-reached\nfix: {setting: s}\ncases:\n  - id: a\n    note: n\n    target: /\n", "bad.yaml:7: source: must name"},
		{"unknown variable", "class: x\nseverity: high\non: any-route\nexpect: not-reached\nfix: {setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    target: \"${nope}\"\n", "bad.yaml:7: template: unknown variable ${nope}"},
		{"unknown filter", "class: x\nseverity: high\non: any-route\nexpect: not-reached\nfix: {setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    target: \"${path|rot13}\"\n", `unknown filter "rot13"`},
		{"unknown judge", "class: x\nseverity: high\non: any-route\nexpect: maybe\nfix: {setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    target: /\n", `bad.yaml:7: expect: unknown judge "maybe"`},
		{"unknown kind", "class: x\nseverity: high\non: everything\nexpect: not-reached\nfix: {setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    target: /\n", `bad.yaml:7: on: unknown target kind "everything"`},
		{"unknown rule", "class: x\nseverity: high\non: any-route\nexpect: not-reached\nfix: {rules: [no-such-rule], setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    target: /\n", `"no-such-rule" is not a rule of rampart audit config`},
		{"duplicate id", "class: x\nseverity: high\non: any-route\nexpect: not-reached\nfix: {setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    target: /\n  - id: a\n    source: CVE-2021-41773\n    target: /x\n", `bad.yaml:10: id: "a" is already used in class x at bad.yaml:7`},
		{"control without reached", "class: x\nseverity: high\non: any-route\nexpect: not-reached\nfix: {setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    control: true\n    target: /\n", "bad.yaml:7: control:"},
		{"raw and parts", "class: x\nseverity: high\non: any-route\nexpect: not-reached\nfix: {setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    raw: \"GET / HTTP/1.1\"\n    target: /\n", "bad.yaml:7: raw:"},
		{"no cases", "class: x\non: any-route\nexpect: not-reached\n", "bad.yaml:1: cases:"},
		{"bad severity", "class: x\nseverity: urgent\non: any-route\nexpect: not-reached\nfix: {setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    target: /\n", "bad.yaml:1: severity:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := selftest.LoadFS(fstest.MapFS{"bad.yaml": {Data: []byte(tc.file)}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestLoadAddsToClass: a file may add cases to a class another defines.
func TestLoadAddsToClass(t *testing.T) {
	c, err := selftest.LoadFS(fstest.MapFS{
		"a.yaml": {Data: []byte("class: x\ntitle: t\nseverity: high\non: any-route\nexpect: not-reached\nfix: {setting: s}\ncases:\n  - id: a\n    source: CVE-2021-41773\n    target: /\n")},
		"b.yaml": {Data: []byte("class: x\ncases:\n  - id: b\n    source: owner/repo#12\n    target: /b\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if classes, cases := c.Count(); classes != 1 || cases != 2 {
		t.Errorf("got %d classes and %d cases, want 1 and 2", classes, cases)
	}
}

// FuzzLoadCorpus: no corpus file, however broken, panics the loader.
func FuzzLoadCorpus(f *testing.F) {
	builtin, err := fs.Glob(selftestCorpus(), "*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range builtin {
		data, err := fs.ReadFile(selftestCorpus(), name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("class: x\ncases:\n  - id: a\n    target: \"${path|upper|enc1}\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = selftest.LoadFS(fstest.MapFS{"f.yaml": {Data: data}})
	})
}
