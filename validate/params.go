package validate

import (
	"encoding/json"
	"strings"
)

// typeSet is the set of JSON types a schema admits, used to turn the text
// of parameters and form fields into typed values before validation.
type typeSet uint8

const (
	tString typeSet = 1 << iota
	tInteger
	tNumber
	tBoolean
	tNull
	tArray
	tObject
	tAny = tString | tInteger | tNumber | tBoolean | tNull | tArray | tObject
)

var typeNames = map[string]typeSet{
	"string": tString, "integer": tInteger, "number": tNumber, "boolean": tBoolean,
	"null": tNull, "array": tArray, "object": tObject,
}

// resolver follows local $refs ("#/components/schemas/Item") in an adapted
// document to read the shape of a schema. References it cannot follow give
// "any type", which keeps values as text: the schema still validates them.
type resolver struct {
	root any
}

func (rs resolver) deref(v any) map[string]any {
	for range 32 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		if !strings.HasPrefix(ref, "#") || rs.root == nil {
			return nil
		}
		v = lookupPointer(rs.root, strings.TrimPrefix(ref, "#"))
	}
	return nil
}

// types returns the types schema v admits, looking through $ref and the
// branches of allOf/anyOf/oneOf.
func (rs resolver) types(v any) typeSet {
	return rs.typesDepth(v, 0)
}

func (rs resolver) typesDepth(v any, depth int) typeSet {
	m := rs.deref(v)
	if m == nil || depth > 16 {
		return tAny
	}
	var ts typeSet
	switch t := m["type"].(type) {
	case string:
		ts = typeNames[t]
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				ts |= typeNames[s]
			}
		}
	}
	if ts != 0 {
		return ts
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
		if branches, ok := m[kw].([]any); ok {
			for _, b := range branches {
				ts |= rs.typesDepth(b, depth+1)
			}
		}
	}
	if ts == 0 {
		return tAny
	}
	return ts
}

// items returns the schema of an array's items.
func (rs resolver) items(v any) any {
	if m := rs.deref(v); m != nil {
		return m["items"]
	}
	return nil
}

// property returns the schema of an object's property, or nil.
func (rs resolver) property(v any, name string) any {
	m := rs.deref(v)
	if m == nil {
		return nil
	}
	if props, ok := m["properties"].(map[string]any); ok {
		if p, ok := props[name]; ok {
			return p
		}
	}
	if branches, ok := m["allOf"].([]any); ok {
		for _, b := range branches {
			if p := rs.property(b, name); p != nil {
				return p
			}
		}
	}
	return nil
}

// lookupPointer resolves an RFC 6901 pointer in doc.
func lookupPointer(doc any, ptr string) any {
	if ptr == "" {
		return doc
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i := 0
			for _, ch := range tok {
				if ch < '0' || ch > '9' {
					return nil
				}
				i = i*10 + int(ch-'0')
				if i > len(c) {
					return nil
				}
			}
			if i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// coerce turns the text of a parameter or form field into the JSON value
// its schema most likely means: a number or a boolean when the schema
// admits one and the text spells one, the text itself otherwise (the
// schema then reports the type mismatch).
func coerce(s string, ts typeSet) any {
	if ts&(tInteger|tNumber) != 0 && ts != tAny && len(s) <= maxNumberLen && isJSONNumber(s) {
		return json.Number(s)
	}
	if ts&tBoolean != 0 && ts != tAny {
		switch s {
		case "true":
			return true
		case "false":
			return false
		}
	}
	if ts == tNull && s == "" {
		return nil
	}
	return s
}

// param is one declared parameter of an operation.
type param struct {
	name     string
	in       string // path, query, header or cookie
	required bool
	schema   *checker
	types    typeSet
	items    typeSet // element types when types is tArray
	explode  bool
	delim    string // separator of array values in one string
	json     bool   // the value is a JSON document (content: application/json)
}

// parse turns the raw values of the parameter (several when it repeats)
// into the value to validate. ok is false when a single value was sent more
// than once.
func (p *param) parse(raw []string, maxDepth int) (v any, msg string) {
	if p.json {
		if len(raw) != 1 {
			return nil, "must appear once"
		}
		v, err := decodeJSON([]byte(raw[0]), maxDepth)
		if err != nil {
			return nil, "must be valid JSON"
		}
		return v, ""
	}
	if p.types == tArray {
		var parts []string
		if p.explode && p.in != "path" && p.in != "header" {
			parts = raw
		} else {
			if len(raw) != 1 {
				return nil, "must appear once"
			}
			parts = strings.Split(raw[0], p.delim)
		}
		a := make([]any, len(parts))
		for i, s := range parts {
			a[i] = coerce(s, p.items)
		}
		return a, ""
	}
	if len(raw) != 1 {
		// Parameter pollution: frameworks disagree on which copy of a
		// repeated parameter wins, so a repeated scalar is refused rather
		// than validating one copy and forwarding the other.
		return nil, "must appear once"
	}
	return coerce(raw[0], p.types), ""
}
