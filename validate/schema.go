package validate

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaOptions selects how a document's schemas are adapted before
// compilation. Each distinct value gets its own compiler.
type schemaOptions struct {
	// oas30 converts OpenAPI 3.0's schema dialect to JSON Schema 2020-12:
	// nullable becomes a "null" type, boolean exclusiveMinimum/Maximum
	// become numeric, and siblings of $ref are dropped as 3.0 requires.
	oas30 bool
	// strict adds unevaluatedProperties: false wherever a schema describes
	// a value's own properties and does not say whether others are allowed.
	strict bool
	// response validates what a server sends: writeOnly properties are not
	// required. Otherwise readOnly properties are not required.
	response bool
	// root is the directory referenced files must be in (symlinks
	// resolved): the document's, or the configuration's.
	root string
}

// schemaKeywords whose values are one subschema that describes a different
// instance than its parent (a new "instance position").
var instanceSchemaKeywords = map[string]bool{
	"additionalProperties": true, "unevaluatedProperties": true, "items": true,
	"additionalItems": true, "unevaluatedItems": true, "contains": true,
}

// Keywords whose values are maps of property name to subschema at a new
// instance position.
var instanceSchemaMaps = map[string]bool{"properties": true, "patternProperties": true}

// Keywords whose subschemas apply to the same instance as their parent.
var sameInstanceKeywords = map[string]bool{
	"allOf": true, "anyOf": true, "oneOf": true, "not": true, "if": true, "then": true, "else": true,
}

// Keywords whose values are data, not schemas, and are copied untouched.
var dataKeywords = map[string]bool{
	"enum": true, "const": true, "default": true, "example": true, "examples": true,
}

// adapt returns a copy of v, a schema or a document that contains schemas,
// with o's adaptations applied. instance says v is a schema at an instance
// position (a request body, a parameter, a property value).
func adapt(v any, o schemaOptions, instance bool) any {
	return adaptIn(v, o, instance, "")
}

// adaptIn is adapt for a value found under the key parent.
func adaptIn(v any, o schemaOptions, instance bool, parent string) any {
	switch t := v.(type) {
	case map[string]any:
		return adaptMap(t, o, instance, parent)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = adapt(e, o, false)
		}
		return out
	default:
		return v
	}
}

func adaptMap(m map[string]any, o schemaOptions, instance bool, parent string) map[string]any {
	if ref, ok := m["$ref"].(string); ok && o.oas30 {
		// OpenAPI 3.0: "This object cannot be extended with additional
		// properties and any properties added SHALL be ignored."
		out := map[string]any{"$ref": ref}
		if o.strict && instance {
			out["unevaluatedProperties"] = false
		}
		return out
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		switch {
		case (dataKeywords[k] && parent != "responses") || strings.HasPrefix(k, "x-"):
			out[k] = v
		case instanceSchemaKeywords[k]:
			if items, ok := v.([]any); ok { // draft-04 tuple items
				a := make([]any, len(items))
				for i, e := range items {
					a[i] = adapt(e, o, true)
				}
				out[k] = a
			} else {
				out[k] = adapt(v, o, true)
			}
		case instanceSchemaMaps[k]:
			if props, ok := v.(map[string]any); ok {
				p := make(map[string]any, len(props))
				for name, s := range props {
					p[name] = adapt(s, o, true)
				}
				out[k] = p
			} else {
				out[k] = v
			}
		case k == "prefixItems":
			if items, ok := v.([]any); ok {
				a := make([]any, len(items))
				for i, e := range items {
					a[i] = adapt(e, o, true)
				}
				out[k] = a
			} else {
				out[k] = v
			}
		case sameInstanceKeywords[k]:
			out[k] = adapt(v, o, false)
		default:
			// Containers ($defs, components, paths, dependentSchemas, …):
			// walk on; the schemas inside are referenced, not positioned.
			out[k] = adaptIn(v, o, false, k)
		}
	}
	if o.oas30 {
		adapt30(out)
	}
	dropRequired(out, o.response)
	if isIntegerType(out["type"]) {
		if _, ok := out["format"]; !ok {
			// Most applications decode integers into 64 bits: a bigger one
			// would overflow or be rounded after validation said yes.
			out["format"] = "int64"
		}
	}
	if o.strict && instance {
		_, ap := out["additionalProperties"]
		_, up := out["unevaluatedProperties"]
		if !ap && !up {
			out["unevaluatedProperties"] = false
		}
	}
	return out
}

// adapt30 rewrites OpenAPI 3.0 schema keywords into their JSON Schema
// 2020-12 equivalents, in place.
func adapt30(m map[string]any) {
	if nullable, ok := m["nullable"].(bool); ok {
		delete(m, "nullable")
		if nullable {
			switch t := m["type"].(type) {
			case string:
				m["type"] = []any{t, "null"}
			case []any:
				m["type"] = append(append([]any(nil), t...), "null")
			}
			if enum, ok := m["enum"].([]any); ok {
				hasNull := false
				for _, e := range enum {
					hasNull = hasNull || e == nil
				}
				if !hasNull {
					m["enum"] = append(append([]any(nil), enum...), nil)
				}
			}
		}
	}
	for _, pair := range [][2]string{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
		if excl, ok := m[pair[0]].(bool); ok {
			delete(m, pair[0])
			if bound, has := m[pair[1]]; excl && has {
				m[pair[0]] = bound
				delete(m, pair[1])
			}
		}
	}
}

// dropRequired removes from "required" the properties the other side owns:
// readOnly ones in requests, writeOnly ones in responses (OpenAPI 3.0
// §4.7.25.1; the same convention for 3.1). Only properties whose schema
// says so directly are recognised, not ones behind a $ref.
func dropRequired(m map[string]any, response bool) {
	req, ok := m["required"].([]any)
	if !ok {
		return
	}
	props, ok := m["properties"].(map[string]any)
	if !ok {
		return
	}
	flag := "readOnly"
	if response {
		flag = "writeOnly"
	}
	var kept []any
	changed := false
	for _, r := range req {
		name, _ := r.(string)
		if p, ok := props[name].(map[string]any); ok && p[flag] == true {
			changed = true
			continue
		}
		kept = append(kept, r)
	}
	if changed {
		if kept == nil {
			delete(m, "required")
		} else {
			m["required"] = kept
		}
	}
}

func isIntegerType(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "integer"
	case []any:
		for _, e := range t {
			if e == "integer" {
				return true
			}
		}
	}
	return false
}

// compiler compiles the schemas of one family of documents with one set of
// adaptations.
type compiler struct {
	c        *jsonschema.Compiler
	opts     schemaOptions
	doc      any // the adapted main document, once added
	wrappers int // strict wrappers added so far
	// splits and components are the resources split out of the main
	// document (see split.go), by pointer and by component name.
	splits     map[string]string
	components map[string]string
	names      map[string]string // split resource URL -> document location
	resources  int
}

// newCompiler returns a compiler that asserts formats (OpenAPI's int32,
// int64, float, double and byte included), uses Go's linear-time regexp
// engine, loads referenced files from disk (YAML or JSON) and refuses
// remote references.
func newCompiler(o schemaOptions) *compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, f := range openAPIFormats {
		c.RegisterFormat(f)
	}
	c.UseLoader(fileLoader{opts: o})
	return &compiler{c: c, opts: o, splits: map[string]string{}, components: map[string]string{}, names: map[string]string{}}
}

// add registers a document under url after adapting it.
func (c *compiler) add(url string, doc any, instance bool) error {
	c.doc = adapt(doc, c.opts, instance)
	if err := c.c.AddResource(url, c.doc); err != nil {
		return fmt.Errorf("validate: %s: %w", displayURL(url), err)
	}
	return nil
}

// compile compiles the schema at loc, a file URL with a JSON pointer
// fragment. Errors name the location, not library internals.
func (c *compiler) compile(loc string) (*jsonschema.Schema, error) {
	s, err := c.c.Compile(loc)
	if err != nil {
		return nil, errors.New(c.realName(fmt.Sprintf("validate: schema %s: %s", displayURL(loc), compileMessage(err))))
	}
	return s, nil
}

// compileMessage extracts a readable reason from the schema library's
// compile errors (for the operator, at load time).
func compileMessage(err error) string {
	var se *jsonschema.SchemaValidationError
	if errors.As(err, &se) {
		if ve, ok := se.Err.(*jsonschema.ValidationError); ok {
			leaves := collect(ve, nil, nil)
			var parts []string
			for _, l := range leaves {
				parts = append(parts, strings.TrimPrefix(l.pointer+": ", ": ")+l.detail)
			}
			return "is not a valid schema: " + strings.Join(parts, "; ")
		}
	}
	return err.Error()
}

// displayURL turns a file URL back into a path for messages.
func displayURL(u string) string {
	if p, err := url.Parse(u); err == nil && p.Scheme == "file" {
		s := filepath.FromSlash(p.Path)
		if p.Fragment != "" {
			s += "#" + p.Fragment
		}
		return s
	}
	return u
}

// fileURL returns the file URL of an absolute path.
func fileURL(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// fileLoader loads $ref targets from local files, YAML or JSON, adapted
// like the document that refers to them.
type fileLoader struct{ opts schemaOptions }

func (l fileLoader) Load(u string) (any, error) {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "file" {
		// Fail closed: fetching schemas from the network at load time would
		// make validation depend on a third party.
		return nil, fmt.Errorf("remote reference %q is not allowed: copy the schema next to the document", u)
	}
	path, err := l.confine(filepath.FromSlash(p.Path))
	if err != nil {
		return nil, err
	}
	doc, err := loadDocument(path)
	if err != nil {
		return nil, err
	}
	return adapt(doc, l.opts, false), nil
}

// confine returns path with symlinks resolved if it lies inside the root
// directory, and an error otherwise: a document (perhaps from a pull
// request) must not read /etc/passwd or ~/.npmrc through "$ref:
// ../../../…", nor through a symlink pointing out of its tree.
func (l fileLoader) confine(path string) (string, error) {
	root := l.opts.root
	if root == "" {
		return "", fmt.Errorf("reference to %s: referenced files are not allowed here", filepath.Base(path))
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("validate: %w", err)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("reference to %s: %w", filepath.Base(path), errors.Unwrap(err))
	}
	rel, err := filepath.Rel(realRoot, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("reference to %s leaves the directory %s: referenced files must be inside it (symlinks included)", displayPath(path), root)
	}
	if fi, err := os.Stat(real); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("reference to %s: not a regular file", displayPath(path))
	}
	return real, nil
}

// displayPath shortens a path for messages.
func displayPath(p string) string { return capText(p, 120) }

// openAPIFormats are the formats OpenAPI defines on top of JSON Schema's.
var openAPIFormats = []*jsonschema.Format{
	{Name: "int32", Validate: integerRange(math.MinInt32, math.MaxInt32)},
	{Name: "int64", Validate: integerRange(math.MinInt64, math.MaxInt64)},
	{Name: "float", Validate: floatRange(math.MaxFloat32)},
	{Name: "double", Validate: floatRange(math.MaxFloat64)},
	{Name: "byte", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return errors.New("not base64")
		}
		return nil
	}},
}

var errOutOfRange = errors.New("out of range")

func integerRange(lo, hi int64) func(any) error {
	min, max := big.NewRat(lo, 1), big.NewRat(hi, 1)
	return func(v any) error {
		n, ok := v.(json.Number)
		if !ok {
			return nil
		}
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			if i < lo || i > hi {
				return errOutOfRange
			}
			return nil
		}
		r, ok := new(big.Rat).SetString(string(n))
		if !ok || !r.IsInt() {
			return nil // not an integer: the type keyword reports it
		}
		if r.Cmp(min) < 0 || r.Cmp(max) > 0 {
			return errOutOfRange
		}
		return nil
	}
}

func floatRange(max float64) func(any) error {
	return func(v any) error {
		n, ok := v.(json.Number)
		if !ok {
			return nil
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.Abs(f) > max {
			return errOutOfRange
		}
		return nil
	}
}

// checker validates against a schema and, in strict mode, against its
// strict variant. Strict mode's unevaluatedProperties reports every
// property of an object whose schema failed for any reason (a failed
// schema evaluates nothing), so the strict variant runs first, and when it
// fails the lax one decides what to report: its errors if it fails too,
// otherwise only the strict variant's (unknown properties).
type checker struct {
	lax, strict *jsonschema.Schema
	// fast validates JSON bodies in one pass when the schema is in the
	// fast path's subset (see fastpath.go); nil otherwise.
	fast *fastSchema
}

// newChecker returns the checker of lax and, in strict mode, strict,
// with its fast path compiled from the schema that decides validity.
func newChecker(lax, strict *jsonschema.Schema) *checker {
	c := &checker{lax: lax, strict: strict}
	if strict != nil {
		c.fast = compileFast(strict)
	} else {
		c.fast = compileFast(lax)
	}
	return c
}

// Validate validates v. The valid path runs one schema.
func (c *checker) Validate(v any) error {
	if c.strict == nil {
		return c.lax.Validate(v)
	}
	err := c.strict.Validate(v)
	if err == nil {
		return nil
	}
	if laxErr := c.lax.Validate(v); laxErr != nil {
		return laxErr
	}
	return err
}
