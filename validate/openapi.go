package validate

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rampartsec/rampart/internal/suggest"
)

// Options configure a Spec. The zero value is the safe default.
type Options struct {
	// MaxBodyBytes caps request bodies; larger ones get 413. Bodies are
	// buffered in memory up to this size. Default 1MiB.
	MaxBodyBytes int64
	// MaxDepth bounds the nesting of JSON bodies. Default 32.
	MaxDepth int
	// Strict rejects query parameters the operation does not declare and
	// body properties no schema declares (unless a schema allows them with
	// additionalProperties). Default false.
	Strict bool
	// ValidateResponses checks each response's status, Content-Type and
	// JSON body against the operation and logs what does not match, at
	// warn level. Responses are never changed or blocked. Meant for
	// development: it buffers up to MaxResponseBytes of each response.
	// Default false.
	ValidateResponses bool
	// MaxResponseBytes caps the bytes of one response kept for response
	// validation; a larger response is logged as not validated. Default
	// 1MiB.
	MaxResponseBytes int64
	// Logger receives response validation findings. Default: slog.Default(), so nothing is lost silently; pass a logger with slog.DiscardHandler to drop.
	Logger *slog.Logger
	// OnDecision, when set, is called once per validated request, for
	// metrics. It must be fast and safe for concurrent use.
	OnDecision func(Decision)
	// BasePath is the path prefix of every operation, e.g. "/v1"; "/"
	// means none. Default: the path of the document's servers URLs (with
	// their variables at their defaults) when they all agree; Load fails
	// when they disagree, and BasePath must then be set.
	BasePath string
	// NoPathParameters says the caller refuses every path that contains
	// ';' before it reaches the validator (the gateway does: servers
	// disagree on what a path parameter is part of). A matrix-style path
	// parameter is then an error at load, instead of an operation no
	// request can reach. Default false.
	NoPathParameters bool
	// BodyBudget, when set, bounds the bytes of bodies buffered at once
	// by every validator of the document (and any other sharing it); a
	// body that would exceed it gets 503 with Retry-After. Default: no
	// budget beyond MaxBodyBytes per request.
	BodyBudget *BodyBudget
}

// Spec is a loaded OpenAPI 3.0 or 3.1 document: its operations, as routes
// for a ServeMux, and their validators. It is immutable after Load and safe
// for concurrent use.
type Spec struct {
	name    string
	version string
	base    string // path prefix of every operation, "" for none
	opts    Options
	doc     any
	docURL  string
	oas30   bool
	defs    []*opDef
	routes  []Route
	// schemes and security are the document's security schemes and its
	// global security requirement (nil when it declares none).
	schemes  map[string]SecurityScheme
	security *Security
	// routeIndex finds a route by method and pattern (wildcard names
	// erased) in constant time, built once.
	routeIndex     map[string]int
	routeIndexOnce sync.Once
	// defsByKey groups defs by path template key, built once.
	defsByKey     map[string][]*opDef
	defsByKeyOnce sync.Once

	mu        sync.Mutex // guards compilers and defaults
	buildMu   sync.Mutex // serialises compilation: a schema compiler is not safe for concurrent use
	compilers map[schemaOptions]*compiler
	defaults  map[string]*Validator // by route key, with opts as given
}

// Route is one method and ServeMux pattern to register for a document's
// operations. Pattern is a path pattern in ServeMux syntax, e.g.
// "/items/{id}". Several operations share a Route when their paths differ
// only inside a segment ("/files/{name}.json" and "/files/{name}.xml" are
// both "/files/{p1}"): the Validator of the route tells them apart.
type Route struct {
	// Method is the HTTP method in upper case.
	Method string
	// Pattern is the ServeMux path pattern.
	Pattern string
	// Operations are the operations behind the route: each one's
	// operationId, or "METHOD /path/template" when it has none.
	Operations []string
	// MatrixSegments are the indexes of the path segments (0 is the one
	// after the leading '/') that hold a matrix-style parameter: the only
	// segments where a request path for this route may contain ';'.
	MatrixSegments []int
}

// Match returns the route as a ServeMux pattern with its method, e.g.
// "GET /items/{id}".
func (r Route) Match() string { return r.Method + " " + r.Pattern }

// opDef is one operation as declared, before compilation.
type opDef struct {
	id      string
	method  string
	tmpl    *pathTemplate
	ptr     string // JSON pointer of the operation object
	params  []paramDef
	body    *bodyDef
	resps   map[string]map[string]any // status → response object (resolved)
	respPtr map[string]string
	// security is the operation's security, else the document's; nil
	// when neither declares one.
	security *Security
	// matrix are the indexes of the path segments that hold a
	// matrix-style parameter.
	matrix []int
}

type paramDef struct {
	obj map[string]any
	ptr string // JSON pointer of the parameter object (after $ref)
}

type bodyDef struct {
	required bool
	content  map[string]any
	ptr      string
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Load reads and compiles the OpenAPI document at path (YAML or JSON).
// Relative $refs are resolved against the document's directory. It
// returns an error naming the file and the offending part for an invalid
// or unsupported document, and never panics on one.
func Load(path string, o Options) (*Spec, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	doc, err := loadDocument(abs)
	if err != nil {
		return nil, err
	}
	return newSpec(abs, doc, o)
}

// Parse compiles an OpenAPI document held in memory. name is the path the
// document would have on disk: its directory resolves relative $refs, and
// errors mention it.
func Parse(name string, data []byte, o Options) (*Spec, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	doc, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	return newSpec(abs, doc, o)
}

func newSpec(path string, doc any, o Options) (*Spec, error) {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Spec{name: path, opts: o, doc: doc, docURL: fileURL(path),
		compilers: map[schemaOptions]*compiler{}, defaults: map[string]*Validator{}}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, s.errorf("", "an OpenAPI document must be an object")
	}
	version, _ := root["openapi"].(string)
	switch {
	case strings.HasPrefix(version, "3.0."):
		s.oas30 = true
	case strings.HasPrefix(version, "3.1."):
		if d, ok := root["jsonSchemaDialect"].(string); ok && d != "https://spec.openapis.org/oas/3.1/dialect/base" &&
			d != "https://json-schema.org/draft/2020-12/schema" {
			return nil, s.errorf("/jsonSchemaDialect", "dialect %q is not supported: use JSON Schema 2020-12", capText(d, 80))
		}
	case root["swagger"] != nil:
		return nil, s.errorf("/swagger", "Swagger 2.0 is not supported: convert the document to OpenAPI 3")
	default:
		return nil, s.errorf("/openapi", "openapi version %q is not supported: use 3.0.x or 3.1.x", capText(version, 20))
	}
	s.version = version
	base, err := s.basePath(root)
	if err != nil {
		return nil, err
	}
	s.base = base
	if s.schemes, err = s.readSchemes(root); err != nil {
		return nil, err
	}
	if s.security, err = s.readSecurity(root["security"], "/security", s.schemes); err != nil {
		return nil, err
	}
	if err := s.collect(root); err != nil {
		return nil, err
	}
	// Compile every operation now, so that a broken schema fails at
	// start-up and not on the first request.
	for _, rt := range s.routes {
		v, err := s.build(rt, s.opts)
		if err != nil {
			return nil, err
		}
		s.defaults[rt.Match()] = v
	}
	return s, nil
}

func (s *Spec) errorf(ptr, format string, args ...any) error {
	where := s.name
	if ptr != "" {
		where += "#" + ptr
	}
	return fmt.Errorf("validate: %s: %s", where, fmt.Sprintf(format, args...))
}

// basePath finds the path prefix of the operations: Options.BasePath, or
// the path shared by every servers URL.
func (s *Spec) basePath(root map[string]any) (string, error) {
	clean := func(p string) string {
		p = strings.TrimRight(p, "/")
		if p != "" && !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		return p
	}
	if s.opts.BasePath != "" {
		return clean(s.opts.BasePath), nil
	}
	servers, _ := root["servers"].([]any)
	base, first := "", true
	for i, sv := range servers {
		m, _ := sv.(map[string]any)
		raw, _ := m["url"].(string)
		vars, _ := m["variables"].(map[string]any)
		for name, v := range vars {
			vm, _ := v.(map[string]any)
			if def, ok := vm["default"].(string); ok {
				raw = strings.ReplaceAll(raw, "{"+name+"}", def)
			}
		}
		u, err := url.Parse(raw)
		if err != nil || strings.ContainsAny(raw, "{}") {
			return "", s.errorf("/servers/"+strconv.Itoa(i)+"/url", "cannot read the base path of %q: set the base path explicitly", capText(raw, 80))
		}
		p := clean(u.Path)
		if first {
			base, first = p, false
		} else if p != base {
			return "", s.errorf("/servers", "servers have different base paths (%q and %q): set the base path explicitly", base, p)
		}
	}
	return base, nil
}

// BasePath returns the path prefix of every operation ("" for none).
func (s *Spec) BasePath() string { return s.base }

// Version returns the document's openapi version, e.g. "3.1.0".
func (s *Spec) Version() string { return s.version }

// Routes returns the routes to register, one per method and ServeMux
// pattern, sorted by pattern then method.
func (s *Spec) Routes() []Route {
	out := make([]Route, len(s.routes))
	copy(out, s.routes)
	for i := range out {
		out[i].Operations = append([]string(nil), out[i].Operations...)
		out[i].MatrixSegments = append([]int(nil), out[i].MatrixSegments...)
	}
	return out
}

// collect reads the paths and operations of the document.
func (s *Spec) collect(root map[string]any) error {
	paths, _ := root["paths"].(map[string]any)
	if len(paths) == 0 {
		if _, ok := root["paths"]; ok || root["webhooks"] == nil {
			return s.errorf("/paths", "the document declares no operations")
		}
	}
	templates := make([]string, 0, len(paths))
	for t := range paths {
		templates = append(templates, t)
	}
	sort.Strings(templates)
	byKey := map[string]string{} // erased pattern → template, to detect duplicates
	for _, t := range templates {
		itemPtr := "/paths/" + escapeToken(t)
		item, ok := paths[t].(map[string]any)
		if !ok {
			return s.errorf(itemPtr, "a path item must be an object")
		}
		if _, ok := item["$ref"]; ok {
			return s.errorf(itemPtr, "path item $ref is not supported: declare the operations under the path")
		}
		if err := s.checkKeys(item, itemPtr, pathItemKeys); err != nil {
			return err
		}
		tmpl, err := parseTemplate(s.base + t)
		if err != nil {
			return s.errorf(itemPtr, "%v", err)
		}
		if prev, dup := byKey[tmpl.key+"|"+exactKey(tmpl)]; dup {
			return s.errorf(itemPtr, "path %q is the same as %q", t, prev)
		}
		byKey[tmpl.key+"|"+exactKey(tmpl)] = t
		common, err := s.params(item["parameters"], itemPtr+"/parameters")
		if err != nil {
			return err
		}
		for _, m := range methods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			opPtr := itemPtr + "/" + m
			opObj, ok := raw.(map[string]any)
			if !ok {
				return s.errorf(opPtr, "an operation must be an object")
			}
			if err := s.checkKeys(opObj, opPtr, operationKeys); err != nil {
				return err
			}
			def, err := s.operation(strings.ToUpper(m), tmpl, opObj, opPtr, common)
			if err != nil {
				return err
			}
			s.defs = append(s.defs, def)
		}
	}
	// Group operations into routes by method and erased pattern.
	index := map[string]int{}
	for _, d := range s.defs {
		k := d.method + " " + d.tmpl.key
		i, ok := index[k]
		if !ok {
			i = len(s.routes)
			index[k] = i
			s.routes = append(s.routes, Route{Method: d.method, Pattern: d.tmpl.pattern})
		}
		s.routes[i].Operations = append(s.routes[i].Operations, d.id)
		for _, seg := range d.matrix {
			if !slices.Contains(s.routes[i].MatrixSegments, seg) {
				s.routes[i].MatrixSegments = append(s.routes[i].MatrixSegments, seg)
			}
		}
	}
	for i := range s.routes {
		slices.Sort(s.routes[i].MatrixSegments)
	}
	sort.SliceStable(s.routes, func(i, j int) bool {
		if s.routes[i].Pattern != s.routes[j].Pattern {
			return s.routes[i].Pattern < s.routes[j].Pattern
		}
		return s.routes[i].Method < s.routes[j].Method
	})
	return s.checkConflicts()
}

// exactKey distinguishes templates that share an erased pattern but differ
// inside segments.
func exactKey(t *pathTemplate) string {
	var b strings.Builder
	for _, seg := range t.segs {
		b.WriteByte('/')
		if seg.parts == nil {
			b.WriteString(seg.literal)
			continue
		}
		for i, p := range seg.parts {
			if i > 0 {
				b.WriteString("{}")
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

// checkConflicts registers every route on a scratch ServeMux, which panics
// on patterns it cannot order (such as "/a/{x}" and "/{y}/b"); the panic is
// turned into an error naming both.
func (s *Spec) checkConflicts() (err error) {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		func() {
			defer func() {
				if p := recover(); p != nil && err == nil {
					err = s.errorf("/paths", "operation %s conflicts with another one for routing: %v", rt.Match(), p)
				}
			}()
			mux.Handle(rt.Match(), http.NotFoundHandler())
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Spec) operation(method string, tmpl *pathTemplate, obj map[string]any, ptr string, common []paramDef) (*opDef, error) {
	d := &opDef{method: method, tmpl: tmpl, ptr: ptr, security: s.security}
	if raw, ok := obj["security"]; ok {
		sec, err := s.readSecurity(raw, ptr+"/security", s.schemes)
		if err != nil {
			return nil, err
		}
		if sec == nil {
			return nil, s.errorf(ptr+"/security", "security must be a list of security requirements")
		}
		d.security = sec
	}
	if id, ok := obj["operationId"].(string); ok && id != "" {
		d.id = id
	} else {
		d.id = method + " " + tmpl.raw
	}
	own, err := s.params(obj["parameters"], ptr+"/parameters")
	if err != nil {
		return nil, err
	}
	// Operation parameters override path item ones with the same name and
	// location.
	seen := map[string]bool{}
	for _, p := range own {
		seen[p.obj["in"].(string)+" "+p.obj["name"].(string)] = true
		d.params = append(d.params, p)
	}
	for _, p := range common {
		if !seen[p.obj["in"].(string)+" "+p.obj["name"].(string)] {
			d.params = append(d.params, p)
		}
	}
	declared := map[string]bool{}
	for _, p := range d.params {
		if p.obj["in"] == "path" {
			name := p.obj["name"].(string)
			i := tmpl.index(name)
			if i < 0 {
				return nil, s.errorf(p.ptr, "path parameter %q is not in the path %q", name, tmpl.raw)
			}
			declared[name] = true
			if p.obj["style"] == styleMatrix {
				seg := tmpl.segmentOf(i)
				if !tmpl.segs[seg].isParam {
					return nil, s.errorf(p.ptr, "parameter %q: style matrix needs the parameter to be a whole path segment, as in \"/items/{%s}\"", name, name)
				}
				d.matrix = append(d.matrix, seg)
			}
		}
	}
	for _, name := range tmpl.names {
		if !declared[name] {
			return nil, s.errorf(ptr, "path parameter %q is not declared", name)
		}
	}
	if rb, ok := obj["requestBody"]; ok {
		m, p, err := s.deref(rb, ptr+"/requestBody")
		if err != nil {
			return nil, err
		}
		if err := s.checkKeys(m, p, requestBodyKeys); err != nil {
			return nil, err
		}
		content, _ := m["content"].(map[string]any)
		if len(content) == 0 {
			return nil, s.errorf(p, "a request body needs content")
		}
		req, _ := m["required"].(bool)
		d.body = &bodyDef{required: req, content: content, ptr: p}
	}
	if rs, ok := obj["responses"].(map[string]any); ok {
		d.resps = map[string]map[string]any{}
		d.respPtr = map[string]string{}
		for code, r := range rs {
			m, p, err := s.deref(r, ptr+"/responses/"+escapeToken(code))
			if err != nil {
				return nil, err
			}
			if err := s.checkKeys(m, p, responseKeys); err != nil {
				return nil, err
			}
			d.resps[strings.ToUpper(code)] = m
			d.respPtr[strings.ToUpper(code)] = p
		}
	}
	return d, nil
}

// deref follows local $refs to an object, returning it and its pointer.
func (s *Spec) deref(v any, ptr string) (map[string]any, string, error) {
	for range 32 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, ptr, s.errorf(ptr, "expected an object")
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, ptr, nil
		}
		if !strings.HasPrefix(ref, "#/") {
			return nil, ptr, s.errorf(ptr, "$ref %q: only references within the document are supported here (schemas may refer to files)", capText(ref, 80))
		}
		ptr = ref[1:]
		v = lookupPointer(s.doc, ptr)
		if v == nil {
			return nil, ptr, s.errorf(ptr, "$ref %q points to nothing", capText(ref, 80))
		}
	}
	return nil, ptr, s.errorf(ptr, "$ref chain is too long")
}

func (s *Spec) params(v any, ptr string) ([]paramDef, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, s.errorf(ptr, "parameters must be a list")
	}
	var out []paramDef
	seen := map[string]bool{}
	for i, e := range list {
		m, p, err := s.deref(e, ptr+"/"+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		if err := s.checkKeys(m, p, parameterKeys); err != nil {
			return nil, err
		}
		name, _ := m["name"].(string)
		in, _ := m["in"].(string)
		if name == "" {
			return nil, s.errorf(p, "a parameter needs a name")
		}
		switch in {
		case "path", "query", "header", "cookie":
		default:
			return nil, s.errorf(p, "parameter %q: in must be path, query, header or cookie", name)
		}
		if seen[in+" "+name] {
			return nil, s.errorf(p, "parameter %q in %s is declared twice", name, in)
		}
		seen[in+" "+name] = true
		out = append(out, paramDef{obj: m, ptr: p})
	}
	return out, nil
}

// compiler returns the compiler for o, creating it on first use.
func (s *Spec) compiler(o schemaOptions) (*compiler, error) {
	o.root = filepath.Dir(s.name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.compilers[o]; ok {
		return c, nil
	}
	c := newCompiler(o)
	if err := c.add(s.docURL, s.doc, false); err != nil {
		return nil, err
	}
	s.compilers[o] = c
	return c, nil
}

// schemaAt compiles the schema at ptr in the document with cs. The strict
// variant is wrapped so that properties nothing evaluates are refused at
// the schema's root too.
func (s *Spec) schemaAt(cs compilerPair, ptr string) (*schemaRef, error) {
	s.mu.Lock()
	loc, err := cs.lax.splitURL(s.docURL, ptr)
	s.mu.Unlock()
	if err != nil {
		return nil, s.errorf(ptr, "%v", err)
	}
	lax, err := cs.lax.compile(loc)
	if err != nil {
		return nil, err
	}
	var strict *jsonschema.Schema
	if c := cs.strict; c != nil {
		s.mu.Lock()
		c.wrappers++
		wrapper := fileURL(filepath.Join(filepath.Dir(s.name), "rampart-strict-"+strconv.Itoa(c.wrappers)+".json"))
		sloc, err := c.splitURL(s.docURL, ptr)
		if err == nil {
			err = c.c.AddResource(wrapper, map[string]any{"$ref": sloc, "unevaluatedProperties": false})
		}
		s.mu.Unlock()
		if err != nil {
			return nil, s.errorf(ptr, "%v", err)
		}
		if strict, err = c.compile(wrapper); err != nil {
			return nil, err
		}
	}
	return &schemaRef{sch: newChecker(lax, strict), raw: lookupPointer(cs.lax.doc, ptr), rs: resolver{root: cs.lax.doc}}, nil
}

// fragment encodes a JSON pointer for a URI fragment (RFC 6901 §6).
func fragment(ptr string) string {
	toks := strings.Split(ptr, "/")
	for i, t := range toks {
		toks[i] = url.PathEscape(t)
	}
	return strings.Join(toks, "/")
}

// Validator returns the validator for one of the document's routes, as
// listed by Routes. c adjusts it the way a configured route with the same
// match does: Strict (turns strict mode on), MaxBodyBytes, MaxDepth and
// OnDecision override the Spec's Options when set; a body schema, content
// types or parameters cannot be added to an operation the document
// describes. The pattern may use any wildcard names.
func (s *Spec) Validator(method, pattern string, c Config) (*Validator, error) {
	rt, ok := s.route(method, pattern)
	if !ok {
		return nil, fmt.Errorf("validate: %s %s is not an operation of %s", method, pattern, s.name)
	}
	if !c.BodySchema.IsZero() || len(c.ContentTypes) > 0 || len(c.Query) > 0 || len(c.Path) > 0 || len(c.Headers) > 0 || c.BodyRequired != nil {
		return nil, fmt.Errorf("validate: %s: the OpenAPI document describes this operation; only strict, max_body_bytes and max_depth can be set on the route", rt.Match())
	}
	o := s.opts
	changed := false
	if c.Strict && !o.Strict {
		o.Strict, changed = true, true
	}
	if c.MaxBodyBytes > 0 {
		o.MaxBodyBytes, changed = c.MaxBodyBytes, true
	}
	if c.MaxDepth > 0 {
		o.MaxDepth, changed = c.MaxDepth, true
	}
	if c.OnDecision != nil {
		o.OnDecision, changed = c.OnDecision, true
	}
	if c.BodyBudget != nil && c.BodyBudget != o.BodyBudget {
		o.BodyBudget, changed = c.BodyBudget, true
	}
	if !changed {
		s.mu.Lock()
		v := s.defaults[rt.Match()]
		s.mu.Unlock()
		if v != nil {
			return v, nil
		}
	}
	return s.build(rt, o)
}

// route finds a route by method and pattern, ignoring wildcard names.
func (s *Spec) route(method, pattern string) (Route, bool) {
	s.routeIndexOnce.Do(func() {
		s.routeIndex = make(map[string]int, len(s.routes))
		for i, rt := range s.routes {
			k := rt.Method + " " + eraseWildcards(rt.Pattern)
			if _, dup := s.routeIndex[k]; !dup {
				s.routeIndex[k] = i
			}
		}
	})
	i, ok := s.routeIndex[strings.ToUpper(method)+" "+eraseWildcards(pattern)]
	if !ok {
		return Route{}, false
	}
	return s.routes[i], true
}

func eraseWildcards(p string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i])
		if p[i:i+j+1] == "{$}" {
			b.WriteString("{$}")
		} else {
			b.WriteString("{}")
		}
		p = p[i+j+1:]
	}
}

// build compiles the validator of a route.
func (s *Spec) build(rt Route, o Options) (*Validator, error) {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	v := &Validator{onDecision: o.OnDecision, logger: o.Logger, respMax: o.MaxResponseBytes, respCheck: o.ValidateResponses}
	for _, d := range s.defsFor(eraseWildcards(rt.Pattern)) {
		op, err := s.compileOp(d, o)
		if err != nil {
			return nil, err
		}
		v.siblings = append(v.siblings, op)
		if d.method == rt.Method {
			v.ops = append(v.ops, op)
		}
	}
	// The most specific template first: more literal text wins, as
	// OpenAPI's "concrete paths before templated ones".
	sort.SliceStable(v.ops, func(i, j int) bool { return v.ops[i].tmpl.literals > v.ops[j].tmpl.literals })
	return v, nil
}

// defsFor returns the operations whose templates share key.
func (s *Spec) defsFor(key string) []*opDef {
	s.defsByKeyOnce.Do(func() {
		s.defsByKey = map[string][]*opDef{}
		for _, d := range s.defs {
			s.defsByKey[d.tmpl.key] = append(s.defsByKey[d.tmpl.key], d)
		}
	})
	return s.defsByKey[key]
}

// compileOp compiles one operation's parameters, body and responses.
func (s *Spec) compileOp(d *opDef, o Options) (*operation, error) {
	var req compilerPair
	var err error
	if req.lax, err = s.compiler(schemaOptions{oas30: s.oas30}); err != nil {
		return nil, err
	}
	if o.Strict {
		if req.strict, err = s.compiler(schemaOptions{oas30: s.oas30, strict: true}); err != nil {
			return nil, err
		}
	}
	op := &operation{id: d.id, method: d.method, tmpl: d.tmpl, strict: o.Strict, maxBody: o.MaxBodyBytes,
		maxDepth: o.MaxDepth, query: map[string]bool{}, budget: o.BodyBudget}
	for _, pd := range d.params {
		p, err := s.compileParam(req, pd)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		op.addQueryNames(p)
		op.params = append(op.params, p)
	}
	if d.body == nil {
		op.noBody = true
	} else {
		op.bodyReq = d.body.required
		ms, err := s.compileContent(req, d.body.content, d.body.ptr+"/content")
		if err != nil {
			return nil, err
		}
		op.media = ms
	}
	if o.ValidateResponses && d.resps != nil {
		resp, err := s.compiler(schemaOptions{oas30: s.oas30, response: true})
		if err != nil {
			return nil, err
		}
		op.responses = &responses{byStatus: map[string]*responseDef{}}
		for code, r := range d.resps {
			rd := &responseDef{}
			if content, ok := r["content"].(map[string]any); ok && len(content) > 0 {
				rd.media, err = s.compileContent(compilerPair{lax: resp}, content, d.respPtr[code]+"/content")
				if err != nil {
					return nil, err
				}
			}
			op.responses.byStatus[code] = rd
		}
	}
	return op, nil
}

func (s *Spec) compileContent(c compilerPair, content map[string]any, ptr string) ([]*media, error) {
	var ms []*media
	types := make([]string, 0, len(content))
	for mt := range content {
		types = append(types, mt)
	}
	sort.Strings(types)
	for _, mt := range types {
		mptr := ptr + "/" + escapeToken(mt)
		m, err := newMedia(mt)
		if err != nil {
			return nil, s.errorf(mptr, "%v", err)
		}
		obj, _ := content[mt].(map[string]any)
		if err := s.checkKeys(obj, mptr, mediaTypeKeys); err != nil {
			return nil, err
		}
		if _, ok := obj["schema"]; ok && m.kind != bodyOther {
			ref, err := s.schemaAt(c, mptr+"/schema")
			if err != nil {
				return nil, err
			}
			m.schema, m.raw, m.rs = ref.sch, ref.raw, ref.rs
		}
		ms = append(ms, m)
	}
	sortMedia(ms)
	return ms, nil
}

// ignoredHeaders are header parameters OpenAPI says to ignore: HTTP itself
// defines them.
var ignoredHeaders = map[string]bool{"Accept": true, "Content-Type": true, "Authorization": true}

func (s *Spec) compileParam(c compilerPair, pd paramDef) (*param, error) {
	m := pd.obj
	p := &param{name: m["name"].(string), in: m["in"].(string), explode: true}
	if p.in == "header" {
		p.name = http.CanonicalHeaderKey(p.name)
		if ignoredHeaders[p.name] {
			return nil, nil
		}
	}
	p.required, _ = m["required"].(bool)
	if p.in == "path" {
		p.required = true
	}
	style, _ := m["style"].(string)
	if style == "" {
		style = defaultStyle(p.in)
	}
	p.style = style
	if explode, ok := m["explode"].(bool); ok {
		p.explode = explode
	} else {
		// "When style is form, the default value is true. For all other
		// styles, the default value is false."
		p.explode = style == styleForm
	}
	schemaPtr := pd.ptr + "/schema"
	if content, ok := m["content"].(map[string]any); ok {
		if len(content) != 1 {
			return nil, s.errorf(pd.ptr, "parameter %q: content must have exactly one media type", p.name)
		}
		if _, ok := m["style"]; ok {
			return nil, s.errorf(pd.ptr, "parameter %q: style and content are mutually exclusive", p.name)
		}
		for mt, v := range content {
			mm, err := newMedia(mt)
			switch {
			case err == nil && mm.kind == bodyJSON:
				p.json = true
			case err == nil && mm.typ == "text" && mm.sub == "plain":
				p.text = true
			default:
				return nil, s.errorf(pd.ptr, "parameter %q: content %q is not supported for parameters: use application/json or text/plain", p.name, capText(mt, 40))
			}
			if obj, ok := v.(map[string]any); !ok || obj["schema"] == nil {
				return p, nil
			}
			schemaPtr = pd.ptr + "/content/" + escapeToken(mt) + "/schema"
		}
	} else if m["schema"] == nil {
		return nil, s.errorf(pd.ptr, "parameter %q needs a schema or content", p.name)
	}
	ref, err := s.schemaAt(c, schemaPtr)
	if err != nil {
		return nil, err
	}
	p.schema, p.raw, p.rs = ref.sch, ref.raw, ref.rs
	if p.json || p.text {
		return p, nil
	}
	p.types = ref.rs.types(ref.raw)
	if err := p.checkStyle(); err != "" {
		return nil, s.errorf(pd.ptr, "parameter %q: %s", p.name, err)
	}
	if p.style == styleMatrix && s.opts.NoPathParameters {
		return nil, s.errorf(pd.ptr, "parameter %q: style matrix puts ';' in the path, which is refused before routing (servers disagree on which path a ';' parameter belongs to): use style simple or label", p.name)
	}
	return p, nil
}

// styles lists the styles OpenAPI defines for each location.
var styles = map[string][]string{
	"path":   {styleSimple, styleLabel, styleMatrix},
	"query":  {styleForm, styleSpaceDelimited, stylePipeDelimited, styleDeepObject},
	"header": {styleSimple},
	"cookie": {styleForm},
}

// checkStyle refuses the combinations of style, explode and type that the
// specification does not define, and shapes it does not serialise (arrays
// of arrays, objects of objects outside deepObject): a value Rampart would
// have to guess how to read is an error at load, not a guess.
func (p *param) checkStyle() string {
	known := false
	for _, st := range styles[p.in] {
		known = known || st == p.style
	}
	if !known {
		return "style " + strconv.Quote(capText(p.style, 20)) + " is not defined for " + p.in + " parameters (use " + strings.Join(styles[p.in], ", ") + ")"
	}
	if p.types&tArray != 0 && p.types != tArray {
		return "a parameter that is an array must be only an array"
	}
	if p.types&tObject != 0 && p.types != tObject && p.types != tAny {
		return "a parameter that is an object must be only an object"
	}
	switch p.style {
	case styleSpaceDelimited, stylePipeDelimited:
		if p.types != tArray && p.types != tObject {
			return "style " + p.style + " is for arrays and objects"
		}
		if p.types == tObject && p.explode {
			return "style " + p.style + " with explode: true is not defined for objects"
		}
	case styleDeepObject:
		if p.types != tObject {
			return "style deepObject is for objects"
		}
		if !p.explode {
			return "style deepObject needs explode: true"
		}
	}
	switch p.types {
	case tArray:
		p.items = p.rs.types(p.rs.items(p.raw))
		if p.items&(tArray|tObject) != 0 && p.items != tAny {
			return "arrays of arrays or objects have no serialisation in parameter styles: use content: application/json"
		}
	case tObject:
		m := p.rs.deref(p.raw)
		props, _ := m["properties"].(map[string]any)
		for name := range props {
			p.props = append(p.props, name)
			ts := p.rs.types(p.rs.property(p.raw, name))
			nested := ts&tObject != 0 && ts != tAny
			if ts&tArray != 0 && ts != tAny {
				its := p.rs.types(p.rs.items(p.rs.property(p.raw, name)))
				nested = nested || (its&(tArray|tObject) != 0 && its != tAny)
				if !p.exploded() && p.style != styleDeepObject {
					nested = true
				}
			}
			if nested && p.style != styleDeepObject {
				return "property " + strconv.Quote(capText(name, 40)) + " is not a primitive: only deepObject (or content: application/json) serialises nested values"
			}
		}
		sort.Strings(p.props)
		if p.exploded() && len(p.props) == 0 {
			return "an exploded form object needs declared properties: they are its query parameter names"
		}
	}
	return ""
}

// Handler returns a handler that serves the whole document: each request
// is routed to its operation and validated before reaching h. A request
// for a path the document does not declare gets 404, and for a declared
// path with another method 405 with an Allow header, both as problem
// details. Use it when the document is the only route table.
func (s *Spec) Handler(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		s.mu.Lock()
		v := s.defaults[rt.Match()]
		s.mu.Unlock()
		mux.Handle(rt.Match(), v.Handler(h))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler, pattern := mux.Handler(r)
		if pattern == "" {
			// ServeMux's own 404, 405 (with Allow) or redirect: keep its
			// status and headers, but answer with problem details.
			rec := &headerRecorder{h: http.Header{}}
			handler.ServeHTTP(rec, r)
			if rec.code >= 300 && rec.code < 400 {
				for k, vs := range rec.h {
					w.Header()[k] = vs
				}
				w.WriteHeader(rec.code)
				return
			}
			if rec.code == http.StatusMethodNotAllowed {
				// ServeMux matched the pattern with other methods; a
				// partial-segment template may still not match the path.
				if allow := s.allow(r); len(allow) > 0 {
					writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Allow: allow, kind: ErrMethodNotAllowed})
					return
				}
			}
			writeError(w, r, notFound)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// allow lists the methods of the operations whose templates match r's path
// exactly, sorted.
func (s *Spec) allow(r *http.Request) []string {
	segs, ok := splitPath(r.URL)
	if !ok {
		return nil
	}
	var allow []string
	for _, d := range s.defs {
		if _, ok := d.tmpl.match(segs); ok {
			allow = appendMethod(allow, d.method)
		}
	}
	sort.Strings(allow)
	return allow
}

// headerRecorder captures what ServeMux's built-in handlers answer.
type headerRecorder struct {
	h    http.Header
	code int
}

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *headerRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

// The fields of the OpenAPI 3.0 and 3.1 objects the validator reads. A
// misspelt field ("requestbody") would otherwise silently mean "absent" —
// here, an operation without a body — so unknown fields are errors, except
// specification extensions ("x-…").
var (
	pathItemKeys    = keySet("$ref summary description get put post delete options head patch trace servers parameters")
	operationKeys   = keySet("tags summary description externalDocs operationId parameters requestBody responses callbacks deprecated security servers")
	parameterKeys   = keySet("name in description required deprecated allowEmptyValue style explode allowReserved schema example examples content")
	requestBodyKeys = keySet("description content required")
	mediaTypeKeys   = keySet("schema example examples encoding")
	responseKeys    = keySet("description headers content links")
)

func keySet(s string) map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(s) {
		m[k] = true
	}
	return m
}

// checkKeys reports the first field of m (sorted) that the object does not
// define, with a suggestion when one is close.
func (s *Spec) checkKeys(m map[string]any, ptr string, allowed map[string]bool) error {
	var unknown []string
	for k := range m {
		if !allowed[k] && !strings.HasPrefix(k, "x-") {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	k := unknown[0]
	msg := "unknown field " + strconv.Quote(capText(k, 40))
	for a := range allowed {
		if strings.EqualFold(a, k) || (len(k) > 3 && suggest.Distance(a, k) <= 2) {
			msg += " (did you mean " + strconv.Quote(a) + "?)"
			break
		}
	}
	return s.errorf(ptr, "%s", msg)
}
