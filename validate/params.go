package validate

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
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
// admits one and the text spells one in the strict grammar below, the text
// itself otherwise (the schema then reports the type mismatch).
//
// The grammar is narrower than JSON's on purpose: a value must mean the
// same number to Rampart and to the application, and parseInt, strtol,
// Number and friends disagree on everything else ("1e1" is 1 to parseInt
// and 10 to a JSON Schema validator, "010" is 8 to strtol with base 0,
// "0x10" is 16 to Number, " 1" and "+1" are 1 to most of them).
//
//   - integer: an optional "-" then decimal digits without leading zeros
//     ("0", "-12", "9007199254740993"); not "1.0", "1e1", "+1", "0x10",
//     "010", " 1".
//   - number: an integer as above, optionally followed by "." and at least
//     one digit ("-0.5", "12.25"); no exponent, no leading or trailing
//     dot, no "Infinity" or "NaN".
//   - boolean: exactly "true" or "false".
func coerce(s string, ts typeSet) any {
	if ts == tAny {
		return s
	}
	if ts&(tInteger|tNumber) != 0 && len(s) <= maxNumberLen {
		if isParamInteger(s) || (ts&tNumber != 0 && isParamDecimal(s)) {
			return json.Number(s)
		}
	}
	if ts&tBoolean != 0 {
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

// isParamInteger reports whether s is -?(0|[1-9][0-9]*).
func isParamInteger(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isParamDecimal reports whether s is an integer with an optional
// fraction: -?(0|[1-9][0-9]*)(\.[0-9]+)?.
func isParamDecimal(s string) bool {
	whole, frac, ok := strings.Cut(s, ".")
	if !isParamInteger(whole) {
		return false
	}
	if !ok {
		return true
	}
	if frac == "" {
		return false
	}
	for i := 0; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false
		}
	}
	return true
}

// Parameter styles (OpenAPI 3.1 §4.8.12.4).
const (
	styleForm           = "form"
	styleSimple         = "simple"
	styleLabel          = "label"
	styleMatrix         = "matrix"
	styleSpaceDelimited = "spaceDelimited"
	stylePipeDelimited  = "pipeDelimited"
	styleDeepObject     = "deepObject"
)

// Budgets of parameter parsing, checked before anything is allocated for
// the values they count: a parameter is refused as soon as the text goes
// beyond them, so a request cannot make Rampart build a structure
// proportional to a size it merely claims.
const (
	// maxParamValues caps the values of one array parameter and the
	// properties of one object parameter.
	maxParamValues = 1000
	// maxDeepObjectDepth caps the brackets of one deepObject key
	// (filter[a][b] is 2), whatever MaxDepth says.
	maxDeepObjectDepth = 8
	// maxParamKeyLen caps a deepObject key or an object property name.
	maxParamKeyLen = 256
)

// param is one declared parameter of an operation.
type param struct {
	name     string
	in       string // path, query, header or cookie
	required bool
	schema   *checker
	types    typeSet
	items    typeSet // element types when types is tArray
	style    string
	explode  bool
	json     bool // the value is a JSON document (content: application/json)
	text     bool // the value is text as sent (content: text/plain)
	// raw and rs describe the schema, to type the properties of an object
	// parameter.
	raw any
	rs  resolver
	// props are the declared property names of an object parameter, for
	// the exploded form style, where each is a query parameter (or cookie)
	// of its own.
	props []string
}

// defaultStyle is the style of a parameter that declares none.
func defaultStyle(in string) string {
	if in == "query" || in == "cookie" {
		return styleForm
	}
	return styleSimple
}

// delim is the separator of values of a non-exploded array or object.
func (p *param) delim() string {
	switch p.style {
	case styleSpaceDelimited:
		return " "
	case stylePipeDelimited:
		return "|"
	}
	return ","
}

// exploded reports whether an array's values, or an object's properties,
// come as separate query parameters or cookies.
func (p *param) exploded() bool {
	if !p.explode || p.in == "path" || p.in == "header" {
		return false
	}
	return p.style == styleForm || p.style == styleSpaceDelimited || p.style == stylePipeDelimited
}

// paramSource is where a request's parameter values are read from.
type paramSource struct {
	r     *http.Request
	query url.Values
	path  func(name string) (string, bool)
}

// read returns the value of p in the request, typed for validation.
// present is false when the request does not carry it; msg is set when the
// text cannot be read as the declared style.
func (p *param) read(src *paramSource, maxDepth int) (v any, present bool, msg string) {
	if p.types == tObject && !p.json && !p.text {
		switch {
		case p.style == styleDeepObject:
			return p.readDeepObject(src.query, maxDepth)
		case p.exploded():
			return p.readExplodedObject(src)
		}
	}
	raw := p.rawValues(src)
	if len(raw) == 0 {
		return nil, false, ""
	}
	for _, s := range raw {
		if !utf8.ValidString(s) {
			return nil, true, "is not valid UTF-8"
		}
	}
	switch {
	case p.json:
		if len(raw) != 1 {
			return nil, true, "must appear once"
		}
		v, err := decodeJSON([]byte(raw[0]), maxDepth)
		if err != nil {
			return nil, true, "must be valid JSON"
		}
		return v, true, ""
	case p.text:
		if len(raw) != 1 {
			return nil, true, "must appear once"
		}
		return raw[0], true, ""
	}
	if p.types == tArray && p.exploded() {
		if len(raw) > maxParamValues {
			return nil, true, tooManyValues
		}
		a := make([]any, len(raw))
		for i, s := range raw {
			a[i] = coerce(s, p.items)
		}
		return a, true, ""
	}
	var s string
	switch {
	case len(raw) == 1:
		s = raw[0]
	case p.in == "header" && p.types&(tArray|tObject) != 0:
		// Header lines of a list are one list (RFC 9110 §5.3).
		s = strings.Join(raw, ",")
	default:
		// Parameter pollution: frameworks disagree on which copy of a
		// repeated parameter wins, so a repeated scalar is refused rather
		// than validating one copy and forwarding the other.
		return nil, true, "must appear once"
	}
	v, msg = p.parseText(s)
	return v, true, msg
}

const tooManyValues = "has more than 1000 values"

// rawValues returns the raw text values of p.
func (p *param) rawValues(src *paramSource) []string {
	switch p.in {
	case "path":
		if s, ok := src.path(p.name); ok {
			return []string{s}
		}
	case "query":
		return src.query[p.name]
	case "header":
		return src.r.Header.Values(p.name)
	case "cookie":
		var out []string
		for _, c := range src.r.CookiesNamed(p.name) {
			out = append(out, c.Value)
		}
		return out
	}
	return nil
}

// parseText reads one serialised value: its prefix (label, matrix), then
// the primitive, array or object it holds.
func (p *param) parseText(s string) (any, string) {
	body := s
	switch p.style {
	case styleLabel:
		if !strings.HasPrefix(s, ".") {
			return nil, `must start with "." (label style)`
		}
		body = s[1:]
		if p.explode && p.types&(tArray|tObject) != 0 && p.types != tAny {
			return p.parseList(body, ".", p.types == tObject)
		}
	case styleMatrix:
		prefix := ";" + p.name
		if p.explode && p.types == tArray {
			// ;color=blue;color=black
			parts, ok := splitBudget(s, ";")
			if !ok {
				return nil, tooManyValues
			}
			if parts[0] != "" {
				return nil, `must start with ";` + p.name + `=" (matrix style)`
			}
			a := make([]any, 0, len(parts)-1)
			for _, part := range parts[1:] {
				v, ok := strings.CutPrefix(part, p.name+"=")
				if !ok {
					return nil, `must be a list of ";` + p.name + `=value" (matrix style)`
				}
				a = append(a, coerce(v, p.items))
			}
			return a, ""
		}
		if p.explode && p.types == tObject {
			// ;R=100;G=200
			if !strings.HasPrefix(s, ";") {
				return nil, `must start with ";" (matrix style)`
			}
			return p.parseList(s[1:], ";", true)
		}
		switch {
		case s == prefix:
			body = ""
		case strings.HasPrefix(s, prefix+"="):
			body = s[len(prefix)+1:]
		default:
			return nil, `must start with ";` + p.name + `=" (matrix style)`
		}
	}
	switch p.types {
	case tArray:
		if body == "" {
			return []any{}, ""
		}
		parts, ok := splitBudget(body, p.delim())
		if !ok {
			return nil, tooManyValues
		}
		a := make([]any, len(parts))
		for i, part := range parts {
			a[i] = coerce(p.trimHeader(part), p.items)
		}
		return a, ""
	case tObject:
		if p.style == styleSimple && p.explode {
			return p.parseList(body, ",", true)
		}
		if body == "" {
			return map[string]any{}, ""
		}
		parts, ok := splitBudget(body, p.delim())
		if !ok {
			return nil, tooManyValues
		}
		if len(parts)%2 != 0 {
			return nil, "must be a list of property names and values"
		}
		obj := make(map[string]any, len(parts)/2)
		for i := 0; i < len(parts); i += 2 {
			k, v := p.trimHeader(parts[i]), p.trimHeader(parts[i+1])
			if msg := p.setProperty(obj, k, []string{v}); msg != "" {
				return nil, msg
			}
		}
		return obj, ""
	}
	return coerce(body, p.types), ""
}

// parseList reads an exploded list of values (array) or of name=value
// pairs (object), separated by sep.
func (p *param) parseList(s, sep string, object bool) (any, string) {
	if s == "" {
		if object {
			return map[string]any{}, ""
		}
		return []any{}, ""
	}
	parts, ok := splitBudget(s, sep)
	if !ok {
		return nil, tooManyValues
	}
	if !object {
		a := make([]any, len(parts))
		for i, part := range parts {
			a[i] = coerce(part, p.items)
		}
		return a, ""
	}
	obj := make(map[string]any, len(parts))
	for _, part := range parts {
		k, v, ok := strings.Cut(p.trimHeader(part), "=")
		if !ok {
			return nil, "must be a list of name=value pairs"
		}
		if msg := p.setProperty(obj, k, []string{v}); msg != "" {
			return nil, msg
		}
	}
	return obj, ""
}

// trimHeader drops the optional white space around the elements of a
// header list (RFC 9110 §5.6.1); other locations keep values as sent.
func (p *param) trimHeader(s string) string {
	if p.in == "header" {
		return strings.Trim(s, " \t")
	}
	return s
}

// setProperty types the values of property k of an object parameter by
// its schema and sets it: several values only for a property that is an
// array.
func (p *param) setProperty(obj map[string]any, k string, vs []string) string {
	if k == "" {
		return "has a property with an empty name"
	}
	if len(k) > maxParamKeyLen {
		return "has a property name longer than " + strconv.Itoa(maxParamKeyLen) + " bytes"
	}
	if _, dup := obj[k]; dup {
		return "property " + strconv.Quote(capText(sanitize(k), 40)) + " must appear once"
	}
	ps := p.rs.property(p.raw, k)
	ts := p.rs.types(ps)
	if ts == tArray {
		its := p.rs.types(p.rs.items(ps))
		a := make([]any, len(vs))
		for i, v := range vs {
			a[i] = coerce(v, its)
		}
		obj[k] = a
		return ""
	}
	if len(vs) != 1 {
		return "property " + strconv.Quote(capText(sanitize(k), 40)) + " must appear once"
	}
	obj[k] = coerce(vs[0], ts)
	return ""
}

// readExplodedObject reads an object whose properties are query
// parameters (or cookies) of their own: ?R=100&G=200. Only the declared
// properties are read; other names are other parameters' or, in strict
// mode, refused as unknown.
func (p *param) readExplodedObject(src *paramSource) (any, bool, string) {
	obj := map[string]any{}
	for _, k := range p.props {
		var vs []string
		if p.in == "cookie" {
			for _, c := range src.r.CookiesNamed(k) {
				vs = append(vs, c.Value)
			}
		} else {
			vs = src.query[k]
		}
		if len(vs) == 0 {
			continue
		}
		if len(vs) > maxParamValues {
			return nil, true, tooManyValues
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, true, "is not valid UTF-8"
			}
		}
		if msg := p.setProperty(obj, k, vs); msg != "" {
			return nil, true, msg
		}
	}
	if len(obj) == 0 {
		return nil, false, ""
	}
	return obj, true, ""
}

// readDeepObject reads ?filter[a]=1&filter[b][c]=2 into
// {"a": 1, "b": {"c": 2}}. Bracketed names are always property names,
// never array indexes: filter[a][999999999] is the property "999999999",
// so no structure is ever sized by a number in the request. Keys deeper
// than maxDeepObjectDepth (or MaxDepth), more than maxParamValues keys,
// and keys longer than maxParamKeyLen are refused before any value is
// built.
func (p *param) readDeepObject(query url.Values, maxDepth int) (any, bool, string) {
	depthCap := min(maxDeepObjectDepth, maxDepth)
	prefix := p.name + "["
	type entry struct {
		path []string
		vs   []string
	}
	var entries []entry
	for key, vs := range query {
		if !strings.HasPrefix(key, prefix) {
			if key == p.name {
				return nil, true, "must be sent as " + p.name + "[property]=value (deepObject style)"
			}
			continue
		}
		if len(entries) >= maxParamValues || len(vs) > maxParamValues {
			return nil, true, tooManyValues
		}
		if len(key) > len(p.name)+maxParamKeyLen {
			return nil, true, "has a key longer than " + strconv.Itoa(maxParamKeyLen) + " bytes"
		}
		rest := key[len(p.name):]
		if n := strings.Count(rest, "["); n > depthCap {
			return nil, true, "is nested deeper than " + strconv.Itoa(depthCap) + " levels"
		}
		var path []string
		for rest != "" {
			if rest[0] != '[' {
				return nil, true, "has a malformed key (deepObject style is name[property]=value)"
			}
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, true, "has a malformed key (deepObject style is name[property]=value)"
			}
			name := rest[1:end]
			if name == "" || strings.ContainsAny(name, "[") {
				return nil, true, "has a malformed key (deepObject style is name[property]=value)"
			}
			path = append(path, name)
			rest = rest[end+1:]
		}
		for _, v := range vs {
			if !utf8.ValidString(v) || !utf8.ValidString(key) {
				return nil, true, "is not valid UTF-8"
			}
		}
		entries = append(entries, entry{path, vs})
	}
	if len(entries) == 0 {
		return nil, false, ""
	}
	// Sorted, so the same query always gives the same answer.
	sort.Slice(entries, func(i, j int) bool {
		return strings.Join(entries[i].path, "\x00") < strings.Join(entries[j].path, "\x00")
	})
	root := map[string]any{}
	for _, e := range entries {
		obj, schema := root, p.raw
		for _, k := range e.path[:len(e.path)-1] {
			schema = p.rs.property(schema, k)
			switch next := obj[k].(type) {
			case nil:
				m := map[string]any{}
				obj[k] = m
				obj = m
			case map[string]any:
				obj = next
			default:
				return nil, true, "property " + strconv.Quote(capText(sanitize(k), 40)) + " is both a value and an object"
			}
		}
		last := e.path[len(e.path)-1]
		if _, ok := obj[last].(map[string]any); ok {
			return nil, true, "property " + strconv.Quote(capText(sanitize(last), 40)) + " is both a value and an object"
		}
		sub := &param{raw: schema, rs: p.rs}
		if msg := sub.setProperty(obj, last, e.vs); msg != "" {
			return nil, true, msg
		}
	}
	return root, true, ""
}

// splitBudget splits s by sep into at most maxParamValues parts; ok is
// false when there would be more, decided before allocating them.
func splitBudget(s, sep string) ([]string, bool) {
	if strings.Count(s, sep) >= maxParamValues {
		return nil, false
	}
	return strings.Split(s, sep), true
}

// fastValid reports whether the compiled fast path (fastpath.go) accepts
// val, a number or boolean read from a parameter, so the library need not
// run: a path parameter such as /items/{id} is checked on every request.
// Like the body's fast path it only ever answers "valid"; false sends val
// to the library, which decides and words the errors.
func (p *param) fastValid(val any, maxDepth int) bool {
	if p.schema.fast == nil {
		return false
	}
	var text string
	switch v := val.(type) {
	case json.Number:
		text = string(v)
	case bool:
		text = "false"
		if v {
			text = "true"
		}
	default:
		return false
	}
	return fastCheck([]byte(text), p.schema.fast, maxDepth) == fastValid
}
