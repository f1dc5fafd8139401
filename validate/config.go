package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// Config is the validation of one route configured without an OpenAPI
// document (the "validate:" block of a route). The zero value validates
// nothing but still refuses bodies larger than DefaultMaxBodyBytes.
type Config struct {
	// BodySchema is the JSON Schema of the request body: a file name (JSON
	// or YAML, relative to BaseDir) or, in YAML, the schema itself. Default:
	// no body schema. Schemas without "$schema" are JSON Schema 2020-12.
	BodySchema Schema `yaml:"body_schema" json:"body_schema,omitempty"`
	// ContentTypes are the media types (ranges like "application/*+json"
	// allowed) the body may have; others get 415. Default
	// ["application/json"] when BodySchema is set; with neither set, any
	// body is refused.
	ContentTypes []string `yaml:"content_types" json:"content_types,omitempty"`
	// BodyRequired makes an empty body a 400. Default: true when
	// BodySchema is set.
	BodyRequired *bool `yaml:"body_required" json:"body_required,omitempty"`
	// Query declares the query parameters by name. Default: none declared.
	Query map[string]Param `yaml:"query" json:"query,omitempty"`
	// Path declares the path parameters: the wildcards of the route's
	// ServeMux pattern, read with r.PathValue. Default: none declared.
	Path map[string]Param `yaml:"path" json:"path,omitempty"`
	// Headers declares request headers by name. Default: none declared.
	Headers map[string]Param `yaml:"headers" json:"headers,omitempty"`
	// Strict rejects query parameters that are not declared and body
	// properties that no schema declares (unless a schema allows them with
	// additionalProperties). Default false.
	Strict bool `yaml:"strict" json:"strict,omitempty"`
	// MaxBodyBytes caps the request body; larger ones get 413. The body is
	// buffered in memory up to this size. Default 1MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes" json:"max_body_bytes,omitempty"`
	// MaxDepth bounds the nesting of JSON bodies. Default 32.
	MaxDepth int `yaml:"max_depth" json:"max_depth,omitempty"`

	// BaseDir resolves relative schema file names: the directory of the
	// configuration file. Default: the working directory.
	BaseDir string `yaml:"-" json:"-"`
	// Match, when set, is the ServeMux pattern the validator serves (the
	// route's match, e.g. "POST /api/items/{id}"): New then checks that
	// every declared path parameter is one of its wildcards, so a typo
	// fails at start instead of rejecting every request.
	Match string `yaml:"-" json:"-"`
	// OnDecision, when set, is called once per validated request, for
	// metrics. It must be fast and safe for concurrent use.
	OnDecision func(Decision) `yaml:"-" json:"-"`
	// BodyBudget, when set, bounds the bytes of bodies buffered at once
	// across the validators that share it (see BodyBudget). On a route of
	// an OpenAPI document it replaces the document's. Default: none.
	BodyBudget *BodyBudget `yaml:"-" json:"-"`
}

// Schema is a JSON Schema given by file name or inline. In YAML, a string
// is a file name and a mapping is the schema itself.
type Schema struct {
	// File is the schema's file name, relative to Config.BaseDir.
	File string
	// Inline is the schema as JSON values (maps, slices, strings,
	// json.Number, bools, nil), when not read from File.
	Inline any
}

// IsZero reports whether no schema is given.
func (s Schema) IsZero() bool { return s.File == "" && s.Inline == nil }

// DecodeYAMLNode lets a configuration file give the schema as a file name
// or inline.
func (s *Schema) DecodeYAMLNode(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		*s = Schema{File: n.Value}
		return nil
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		*s = Schema{}
		return nil
	case n.Kind == yaml.MappingNode:
		v, err := decodeNode(n)
		if err != nil {
			return err
		}
		*s = Schema{Inline: v}
		return nil
	}
	return errors.New("expected a schema file name or a schema mapping")
}

// UnmarshalYAML lets yaml.v3 decode a Schema the same way.
func (s *Schema) UnmarshalYAML(n *yaml.Node) error { return s.DecodeYAMLNode(n) }

// Param declares one parameter of a route configured inline. Its fields
// are the JSON Schema keywords of the same names.
type Param struct {
	// Type is string (default), integer, number, boolean or array.
	Type string `yaml:"type" json:"type,omitempty"`
	// Format is a JSON Schema or OpenAPI format: int32, int64, uuid, date,
	// date-time, email, uri, ipv4, ipv6, …. Default: none.
	Format string `yaml:"format" json:"format,omitempty"`
	// Required makes the parameter mandatory. Path parameters always are.
	Required bool `yaml:"required" json:"required,omitempty"`
	// Enum lists the allowed values, as text. Default: any.
	Enum []string `yaml:"enum" json:"enum,omitempty"`
	// Minimum and Maximum bound numbers. Default: unbounded.
	Minimum *float64 `yaml:"minimum" json:"minimum,omitempty"`
	Maximum *float64 `yaml:"maximum" json:"maximum,omitempty"`
	// MinLength and MaxLength bound strings, in characters.
	MinLength *int `yaml:"min_length" json:"min_length,omitempty"`
	MaxLength *int `yaml:"max_length" json:"max_length,omitempty"`
	// Pattern is a regular expression (Go RE2 syntax) strings must match.
	// It is not anchored: use ^ and $.
	Pattern string `yaml:"pattern" json:"pattern,omitempty"`
	// Items declares the elements of an array; in the query they are
	// repeated parameters (?id=1&id=2), in a path or header comma-separated.
	Items *Param `yaml:"items" json:"items,omitempty"`
	// MinItems and MaxItems bound arrays.
	MinItems *int `yaml:"min_items" json:"min_items,omitempty"`
	MaxItems *int `yaml:"max_items" json:"max_items,omitempty"`
}

// jsonSchema returns p as a JSON Schema document.
func (p *Param) jsonSchema(depth int) (map[string]any, error) {
	if depth > 4 {
		return nil, errors.New("items are nested too deeply")
	}
	s := map[string]any{}
	typ := p.Type
	if typ == "" {
		typ = "string"
	}
	switch typ {
	case "string", "integer", "number", "boolean":
		if p.Items != nil {
			return nil, errors.New("items is only for type array")
		}
	case "array":
		if p.Items == nil {
			return nil, errors.New("type array needs items")
		}
		items, err := p.Items.jsonSchema(depth + 1)
		if err != nil {
			return nil, err
		}
		if items["type"] == "array" {
			return nil, errors.New("arrays of arrays are not supported in parameters")
		}
		s["items"] = items
	default:
		return nil, fmt.Errorf("type must be string, integer, number, boolean or array, got %q", p.Type)
	}
	s["type"] = typ
	if p.Format != "" {
		s["format"] = p.Format
	}
	if len(p.Enum) > 0 {
		enum := make([]any, len(p.Enum))
		for i, e := range p.Enum {
			enum[i] = coerce(e, typeNames[typ])
		}
		s["enum"] = enum
	}
	num := func(f *float64) json.Number { return json.Number(strconv.FormatFloat(*f, 'g', -1, 64)) }
	if p.Minimum != nil {
		s["minimum"] = num(p.Minimum)
	}
	if p.Maximum != nil {
		s["maximum"] = num(p.Maximum)
	}
	for k, v := range map[string]*int{"minLength": p.MinLength, "maxLength": p.MaxLength, "minItems": p.MinItems, "maxItems": p.MaxItems} {
		if v != nil {
			if *v < 0 {
				return nil, fmt.Errorf("%s must not be negative", k)
			}
			s[k] = json.Number(strconv.Itoa(*v))
		}
	}
	if p.Pattern != "" {
		s["pattern"] = p.Pattern
	}
	return s, nil
}

// New returns a Validator for a route configured inline. Schema files are
// read and compiled now; nothing is parsed again per request. It returns
// an error naming the file, parameter or keyword for an invalid
// configuration, and never panics on it.
func New(c Config) (*Validator, error) {
	op := &operation{
		id:       "inline",
		maxBody:  c.MaxBodyBytes,
		maxDepth: c.MaxDepth,
		strict:   c.Strict,
		query:    map[string]bool{},
		budget:   c.BodyBudget,
	}
	if op.maxBody <= 0 {
		op.maxBody = DefaultMaxBodyBytes
	}
	if op.maxDepth <= 0 {
		op.maxDepth = DefaultMaxDepth
	}
	base := c.BaseDir
	if base == "" {
		base = "."
	}
	base, err := filepath.Abs(base)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	comps := compilerPair{lax: newCompiler(schemaOptions{root: base})}
	if c.Strict {
		comps.strict = newCompiler(schemaOptions{strict: true, root: base})
	}
	n := 0
	// inline adds a schema document under a unique URL in base, so that its
	// relative $refs resolve against base.
	inline := func(doc any) (string, error) {
		n++
		u := fileURL(filepath.Join(base, "rampart-inline-"+strconv.Itoa(n)+".json"))
		if err := comps.add(u, doc); err != nil {
			return "", err
		}
		return u, nil
	}
	var errs []error
	groups := []struct {
		in string
		m  map[string]Param
	}{{"path", c.Path}, {"query", c.Query}, {"header", c.Headers}}
	for _, g := range groups {
		names := make([]string, 0, len(g.m))
		for name := range g.m {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			p := g.m[name]
			if name == "" {
				errs = append(errs, fmt.Errorf("validate: %s parameter with an empty name", g.in))
				continue
			}
			js, err := p.jsonSchema(0)
			if err != nil {
				errs = append(errs, fmt.Errorf("validate: %s parameter %q: %w", g.in, name, err))
				continue
			}
			u, err := inline(js)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			sch, err := comps.compile(u)
			if err != nil {
				errs = append(errs, fmt.Errorf("validate: %s parameter %q: %w", g.in, name, errors.Unwrap(err)))
				continue
			}
			prm := &param{name: name, in: g.in, required: p.Required || g.in == "path", schema: sch,
				types: typeNames[js["type"].(string)], style: defaultStyle(g.in), explode: true}
			if items, ok := js["items"].(map[string]any); ok {
				prm.items = typeNames[items["type"].(string)]
			}
			if g.in == "header" {
				prm.name = http.CanonicalHeaderKey(name)
			}
			if g.in == "query" {
				op.query[name] = true
			}
			op.params = append(op.params, prm)
		}
	}
	if c.Match != "" {
		wild := wildcards(c.Match)
		for name := range c.Path {
			if !wild[name] {
				errs = append(errs, fmt.Errorf("validate: path parameter %q is not a wildcard of %q", name, c.Match))
			}
		}
	}
	ctypes := c.ContentTypes
	hasBody := !c.BodySchema.IsZero()
	if hasBody && len(ctypes) == 0 {
		ctypes = []string{"application/json"}
	}
	op.noBody = len(ctypes) == 0
	op.bodyReq = hasBody
	if c.BodyRequired != nil {
		op.bodyReq = *c.BodyRequired
	}
	var bodyURL string
	var bodyDoc any
	if hasBody {
		if c.BodySchema.File != "" {
			path := c.BodySchema.File
			if !filepath.IsAbs(path) {
				path = filepath.Join(base, path)
			}
			doc, err := loadDocument(path)
			if err != nil {
				errs = append(errs, err)
			} else {
				if c.Strict {
					if err := checkStrictDraft(doc); err != nil {
						errs = append(errs, fmt.Errorf("validate: %s: %w", path, err))
					}
				}
				bodyURL = fileURL(path)
				bodyDoc = adapt(doc, comps.lax.opts, true)
				if err := comps.add(bodyURL, doc); err != nil {
					errs = append(errs, err)
				}
			}
		} else {
			if c.Strict {
				if err := checkStrictDraft(c.BodySchema.Inline); err != nil {
					errs = append(errs, fmt.Errorf("validate: body_schema: %w", err))
				}
			}
			bodyDoc = adapt(c.BodySchema.Inline, comps.lax.opts, true)
			bodyURL, err = inline(c.BodySchema.Inline)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	var bodySchema = (*schemaRef)(nil)
	if bodyURL != "" && len(errs) == 0 {
		sch, err := comps.compile(bodyURL)
		if err != nil {
			errs = append(errs, err)
		} else {
			bodySchema = &schemaRef{sch: sch, raw: bodyDoc, rs: resolver{root: bodyDoc}}
		}
	}
	for _, ct := range ctypes {
		m, err := newMedia(ct)
		if err != nil {
			errs = append(errs, fmt.Errorf("validate: content_types: %w", err))
			continue
		}
		if bodySchema != nil {
			m.schema, m.raw, m.rs = bodySchema.sch, bodySchema.raw, bodySchema.rs
		}
		op.media = append(op.media, m)
	}
	sortMedia(op.media)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Validator{ops: []*operation{op}, onDecision: c.OnDecision, logger: slog.Default()}, nil
}

// compilerPair compiles every schema twice in strict mode: see checker.
type compilerPair struct {
	lax, strict *compiler // strict is nil when not in strict mode
}

func (cp compilerPair) add(url string, doc any) error {
	if err := cp.lax.add(url, doc, true); err != nil {
		return err
	}
	if cp.strict != nil {
		return cp.strict.add(url, doc, true)
	}
	return nil
}

func (cp compilerPair) compile(url string) (*checker, error) {
	lax, err := cp.lax.compile(url)
	if err != nil {
		return nil, err
	}
	var strict *jsonschema.Schema
	if cp.strict != nil {
		if strict, err = cp.strict.compile(url); err != nil {
			return nil, err
		}
	}
	return newChecker(lax, strict), nil
}

// schemaRef is a compiled schema with the adapted document it came from.
type schemaRef struct {
	sch *checker
	raw any
	rs  resolver
}

// checkStrictDraft refuses strict mode for schemas of drafts before
// 2019-09, which have no unevaluatedProperties: strict mode would silently
// do nothing there.
func checkStrictDraft(doc any) error {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	if s, ok := m["$schema"].(string); ok && strings.Contains(s, "draft-0") {
		return errors.New("strict mode needs JSON Schema 2019-09 or later; this schema declares " + capText(s, 60))
	}
	return nil
}

// wildcards returns the wildcard names of a ServeMux pattern.
func wildcards(pattern string) map[string]bool {
	out := map[string]bool{}
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return out
		}
		name := strings.TrimSuffix(pattern[i+1:i+j], "...")
		out[name] = true
		pattern = pattern[i+j+1:]
	}
}
