package config

import (
	_ "embed"
	"reflect"
	"strings"
)

// Reference is the configuration reference — every key, its default and
// its meaning — as Markdown. It is a copy of docs/config.md kept identical
// by a test, built into the binary so that `rampart help config` works
// where the documentation was not installed.
//
//go:embed reference.md
var Reference string

// ReferenceFor returns the parts of the reference that document key (a
// dotted path such as "auth.sessions.idle_timeout", or a top-level section
// such as "cors"): each Markdown section whose heading or entries name it.
// It returns "" when no section does.
func ReferenceFor(key string) string {
	key = strings.Trim(strings.TrimSpace(key), "`")
	if key == "" {
		return Reference
	}
	var out []string
	for _, sec := range sections(Reference) {
		if strings.Contains(sec, "`"+key+"`") || strings.Contains(sec, "`"+key+".") || strings.Contains(sec, "`"+key+"[") {
			out = append(out, sec)
		}
	}
	return strings.Join(out, "\n")
}

// sections splits Markdown at its headings; a heading starts a section,
// fenced code blocks are kept whole.
func sections(doc string) []string {
	var out []string
	var cur strings.Builder
	fenced := false
	for line := range strings.SplitAfterSeq(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(line, "#") && cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// Keys lists every configuration key as the reference documents it:
// "limits.max_body_bytes", "routes[].match".
func Keys() []string { return keyPaths(reflect.TypeFor[Config](), "") }

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
