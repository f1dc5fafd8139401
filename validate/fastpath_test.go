package validate

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// gen draws generation decisions from a byte string (a fuzz input), and
// from zero once it runs out, so every input gives a finite schema and
// document.
type gen struct {
	b []byte
	i int
}

func (g *gen) next() int {
	if g.i >= len(g.b) {
		return 0
	}
	g.i++
	return int(g.b[g.i-1])
}

func (g *gen) pick(n int) int { return g.next() % n }

var (
	propNames = []string{"a", "b", "name", "é", "n\u00f1", "x-y", "a\\u0062"}
	strVals   = []string{"", "a", "abc", "red", "green", "ABC-1234", "ab\u00e9", "2024-05-01", "123e4567-e89b-12d3-a456-426614174000",
		"buyer@example.com", "not an email", "192.0.2.1", "2001:db8::1", "https://example.com/x", "2024-05-01T12:34:56Z", "\\u00e9", "\\ud83d\\ude00"}
	numVals = []string{"0", "1", "-1", "1.0", "1.5", "1e2", "2E-1", "100", "255", "256", "-0", "9007199254740993", "2147483648", "3.0e0", "0.1",
		"-0.5", "19.99", "0.0", "100.5", "-1.5", "255.0", "255.000001", "-0.0", "123456789012345678", "1234567890123456789", "-2147483649", "0.5", "-100"}
	formats = []string{"email", "uuid", "date", "date-time", "ipv4", "ipv6", "uri", "int32", "int64", "hostname", "byte"}
)

// schema returns a JSON Schema, mostly in the fast path's subset, with
// some keywords outside it.
func (g *gen) schema(depth int) map[string]any {
	s := map[string]any{}
	kind := g.pick(10)
	if depth > 3 {
		kind %= 5
	}
	switch kind {
	case 0:
		s["type"] = "string"
		if g.pick(3) == 0 {
			s["minLength"] = g.pick(4)
		}
		if g.pick(3) == 0 {
			s["maxLength"] = g.pick(6)
		}
		if g.pick(4) == 0 {
			s["pattern"] = []string{"^[a-z]+$", "b", "^[A-Z]{3}-[0-9]{4}$", "é"}[g.pick(4)]
		}
		if g.pick(4) == 0 {
			s["format"] = formats[g.pick(len(formats))]
		}
		if g.pick(4) == 0 {
			s["enum"] = []any{"red", "green", "a"}
		}
	case 1:
		s["type"] = []any{"integer", "number"}[g.pick(2)]
		bounds := []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
		for range g.pick(3) {
			k := bounds[g.pick(len(bounds))]
			v := []string{"0", "1", "100", "255", "1.5", "-1", "9007199254740992", "0.5"}[g.pick(8)]
			if k == "multipleOf" && (v == "0" || strings.HasPrefix(v, "-")) {
				v = "0.5"
			}
			s[k] = json.Number(v)
		}
		if g.pick(4) == 0 {
			s["format"] = formats[7+g.pick(2)]
		}
	case 2:
		s["type"] = []any{"boolean", "null"}[g.pick(2)]
	case 3:
		s["type"] = []any{"string", "null"}
		if g.pick(2) == 0 {
			s["enum"] = []any{"a", nil}
		}
	case 4:
		switch g.pick(6) {
		case 0:
			return map[string]any{}
		case 1:
			s["enum"] = []any{"x", "y"}
		case 2:
			s["enum"] = []any{json.Number("1"), "x"} // outside the subset
		case 3:
			s["const"] = "x" // outside the subset
		default:
			s["type"] = "integer"
		}
	case 5, 6, 7:
		s["type"] = "object"
		props := map[string]any{}
		var req []any
		for i := range g.pick(4) + 1 {
			name := propNames[(i+g.pick(len(propNames)))%len(propNames)]
			props[name] = g.schema(depth + 1)
			if g.pick(2) == 0 {
				req = append(req, name)
			}
		}
		s["properties"] = props
		if len(req) > 0 {
			s["required"] = req
		}
		switch g.pick(5) {
		case 0:
			s["additionalProperties"] = false
		case 1:
			s["additionalProperties"] = true
		case 2:
			s["additionalProperties"] = g.schema(depth + 1)
		case 3:
			if g.pick(3) == 0 {
				s["unevaluatedProperties"] = false
			}
		}
		if g.pick(8) == 0 {
			s["allOf"] = []any{map[string]any{"required": []any{"a"}}} // outside the subset
		}
	case 8:
		s["type"] = "array"
		s["items"] = g.schema(depth + 1)
		if g.pick(2) == 0 {
			s["maxItems"] = g.pick(4)
		}
		if g.pick(3) == 0 {
			s["minItems"] = g.pick(3)
		}
	case 9:
		// A reference to a definition, maybe closed as strict mode does.
		return map[string]any{"$ref": "#/$defs/d"}
	}
	return s
}

// doc writes a JSON document that mostly follows s, with mistakes and the
// encodings that trip parsers (escapes, duplicates, number spellings).
func (g *gen) doc(s any, depth int) string {
	m, _ := s.(map[string]any)
	if ref, ok := m["$ref"]; ok && ref == "#/$defs/d" {
		m = defsD
	}
	mut := g.pick(12)
	if depth > 5 {
		mut = 11
	}
	typ := ""
	switch t := m["type"].(type) {
	case string:
		typ = t
	case []any:
		typ, _ = t[g.pick(len(t))].(string)
	}
	if mut == 0 {
		typ = []string{"string", "integer", "object", "array", "boolean", "null"}[g.pick(6)]
	}
	switch typ {
	case "string", "":
		if e, ok := m["enum"].([]any); ok && g.pick(2) == 0 {
			b, _ := json.Marshal(e[g.pick(len(e))])
			return string(b)
		}
		return `"` + strVals[g.pick(len(strVals))] + `"`
	case "integer", "number":
		// Half of the time, a value at or just around one of the
		// schema's bounds, where comparisons go wrong.
		var bounds []string
		for _, k := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
			if b, ok := m[k].(json.Number); ok {
				bounds = append(bounds, string(b))
			}
		}
		if len(bounds) > 0 && g.pick(2) == 0 {
			b := bounds[g.pick(len(bounds))]
			if !strings.Contains(b, ".") {
				b += []string{"", ".0", ".000001", ".5"}[g.pick(4)]
			} else {
				b += []string{"", "0", "1"}[g.pick(3)]
			}
			if g.pick(4) == 0 {
				b = strings.TrimPrefix("-"+b, "--")
			}
			return b
		}
		return numVals[g.pick(len(numVals))]
	case "boolean":
		return []string{"true", "false"}[g.pick(2)]
	case "null":
		return "null"
	case "array":
		n := g.pick(5)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = g.doc(m["items"], depth+1)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case "object":
		props, _ := m["properties"].(map[string]any)
		var parts []string
		for _, name := range propNames {
			p, ok := props[name]
			if !ok && g.pick(6) != 0 {
				continue
			}
			if ok && g.pick(5) == 0 {
				continue // a missing property
			}
			parts = append(parts, `"`+name+`": `+g.doc(p, depth+1))
			if g.pick(20) == 0 {
				parts = append(parts, `"`+name+`":`+g.doc(p, depth+1)) // a duplicate
			}
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return "null"
}

// defsD is the definition every generated $ref points to.
var defsD = map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "integer", "maximum": json.Number("100")}}, "required": []any{"a"}}

// differential checks one schema and document: the fast path, where it
// answers, must agree with decodeJSON and the library.
func differential(t *testing.T, dir string, n int, schema map[string]any, doc string, strict bool) (answered bool) {
	t.Helper()
	schema["$defs"] = map[string]any{"d": defsD}
	comps := compilerPair{lax: newCompiler(schemaOptions{root: dir})}
	if strict {
		comps.strict = newCompiler(schemaOptions{strict: true, root: dir})
	}
	u := fileURL(filepath.Join(dir, "s"+strconv.Itoa(n)+".json"))
	if err := comps.add(u, schema); err != nil {
		return false // e.g. a generated schema the library refuses
	}
	ch, err := comps.compile(u)
	if err != nil {
		return false
	}
	if ch.fast == nil {
		return false
	}
	verdict := fastCheck([]byte(doc), ch.fast, 8)
	v, err := decodeJSON([]byte(doc), 8)
	if err != nil {
		if verdict == fastValid {
			t.Fatalf("fast path accepts a document decodeJSON refuses (%v)\nschema %v\ndoc %s", err, schema, doc)
		}
		return verdict != fastUnknown
	}
	libErr := ch.Validate(v)
	if ch.fast.valueValid(v) && libErr != nil {
		t.Fatalf("valueValid: valid; library: %v\nstrict %v schema %v\ndoc %s", libErr, strict, schema, doc)
	}
	switch verdict {
	case fastSyntax:
		t.Fatalf("fast path refuses the syntax of a document decodeJSON accepts\nschema %v\ndoc %s", schema, doc)
	case fastValid:
		if libErr != nil {
			t.Fatalf("fast path: valid; library: %v\nstrict %v schema %v\ndoc %s", libErr, strict, schema, doc)
		}
	case fastInvalid:
		if libErr == nil {
			t.Fatalf("fast path: invalid; library: valid\nstrict %v schema %v\ndoc %s", strict, schema, doc)
		}
	case fastUnknown:
		return false
	}
	return true
}

// TestFastPathDifferential compares the fast path with the library over
// generated schemas and documents.
func TestFastPathDifferential(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	answered, valid := 0, 0
	for i := range n {
		b := make([]byte, 64)
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		g := &gen{b: b}
		schema := g.schema(0)
		doc := g.doc(schema, 0)
		if differential(t, dir, i, schema, doc, i%3 == 0) {
			answered++
			if fastCheck([]byte(doc), mustFast(t, dir, schema), 8) == fastValid {
				valid++
			}
		}
	}
	// The generator must exercise both verdicts, or the test proves
	// nothing.
	if answered < n/3 || valid < n/20 {
		t.Fatalf("only %d of %d cases answered by the fast path, %d valid", answered, n, valid)
	}
	t.Logf("%d of %d answered, %d valid", answered, n, valid)
}

func mustFast(t *testing.T, dir string, schema map[string]any) *fastSchema {
	t.Helper()
	c := newCompiler(schemaOptions{root: dir})
	u := fileURL(filepath.Join(dir, fmt.Sprintf("m%p.json", schema)))
	if err := c.add(u, schema, true); err != nil {
		t.Fatal(err)
	}
	s, err := c.compile(u)
	if err != nil {
		t.Fatal(err)
	}
	return compileFast(s)
}

// FuzzFastPath is the differential test driven by the fuzzer: the bytes
// choose the schema and the document.
func FuzzFastPath(f *testing.F) {
	f.Add([]byte{5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte{8, 7, 3, 1, 1, 0, 0, 0, 5, 5})
	f.Add([]byte{1, 0, 2, 1, 3, 2, 5, 1})
	f.Add([]byte{6, 9, 9, 9, 0, 4, 2, 11, 11, 11})
	dir := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, b []byte) {
		g := &gen{b: b}
		schema := g.schema(0)
		doc := g.doc(schema, 0)
		n++
		differential(t, dir, n, schema, doc, len(b)%2 == 0)
	})
}

// FuzzFastSyntax: the fast path's own JSON scanner accepts exactly what
// decodeJSON accepts (encoding/json's syntax plus decodeJSON's limits).
func FuzzFastSyntax(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,2,]`, `{"a":1,"a":2}`, `"\ud800"`, `"\u00e9\n"`, `01`, `-`, `1.`, `1e`, `1e401`,
		`tru`, `nulll`, `{"a" 1}`, `{"a":1,}`, `[` + strings.Repeat("[", 40) + `]`, "\"\x01\"", "\"\xff\"", ` {} `, `{} x`,
		`1E+2`, `-0.0e-0`, `"\/\b\f"`, `"\x"`, `{"a":{"b":[true,false,null]}}`, `1` + strings.Repeat("0", 120)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := decodeJSON(b, 8)
		if err == nil && !json.Valid(b) {
			t.Fatalf("decodeJSON accepts what encoding/json refuses: %q", b)
		}
		got := fastCheck(b, anySchema, 8)
		if (got == fastValid) != (err == nil) {
			t.Fatalf("fast path %v, decodeJSON %v: %q", got, err, b)
		}
	})
}
