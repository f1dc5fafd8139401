package validate

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rampartsec/rampart/problem"
)

// Defaults of the documented settings.
const (
	// DefaultMaxBodyBytes caps a validated request body.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxDepth bounds the nesting of JSON bodies and parameters.
	DefaultMaxDepth = 32
	// DefaultMaxResponseBytes caps how much of a response is buffered for
	// response validation.
	DefaultMaxResponseBytes = 1 << 20
	// maxFieldErrors caps the fields listed in one response.
	maxFieldErrors = 20
)

// policyName is the name the gateway's logs and metrics know this policy by.
const policyName = "validation"

// Sentinel errors, wrapped by *Error, for callers that branch on the kind of
// rejection.
var (
	// ErrInvalid: the request does not match its operation (400).
	ErrInvalid = errors.New("validate: request is invalid")
	// ErrUnsupportedMediaType: the body's Content-Type is not accepted (415).
	ErrUnsupportedMediaType = errors.New("validate: unsupported content type")
	// ErrBodyTooLarge: the body is larger than the limit (413).
	ErrBodyTooLarge = errors.New("validate: request body too large")
	// ErrNotFound: no operation of the document has this path (404).
	ErrNotFound = errors.New("validate: no such operation")
	// ErrMethodNotAllowed: the path exists, with other methods (405).
	ErrMethodNotAllowed = errors.New("validate: method not allowed")
	// ErrOverloaded: buffering the body would exceed the BodyBudget
	// (503, with Retry-After).
	ErrOverloaded = errors.New("validate: too many request bodies buffered")
)

// Error is a rejected request: the status to answer with, and for 400 every
// invalid field. Its text is for logs; Detail and Fields are safe to send.
type Error struct {
	// Status is the HTTP status for the response.
	Status int
	// Detail is a one-line explanation safe to show to the client.
	Detail string
	// Fields lists each invalid field, parameter or header, at most 20.
	Fields []problem.FieldError
	// Allow lists the methods the path accepts, for 405.
	Allow []string

	kind error
}

// Error describes the rejection for logs: its kind, detail and first
// fields. It holds no library internals.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.kind.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	for i, f := range e.Fields {
		if i == 3 {
			b.WriteString(", …")
			break
		}
		b.WriteString("; ")
		b.WriteString(f.Pointer + f.Parameter)
		b.WriteString(": ")
		b.WriteString(f.Detail)
	}
	return b.String()
}

// Unwrap returns the sentinel for the kind of rejection.
func (e *Error) Unwrap() error { return e.kind }

// Decision describes one validated request, for metrics.
type Decision struct {
	// Operation is the operation's id: its operationId, or "METHOD /path"
	// ("inline" for a Validator from New). It is empty when no operation
	// matched (404, 405).
	Operation string
	// Status is 0 when the request was allowed, else the rejection status.
	Status int
}

// Validator validates requests for one route: an operation of an OpenAPI
// document (sometimes several that share a ServeMux pattern, see
// Spec.Routes), or a route configured inline with Config. It is immutable
// after construction and safe for concurrent use.
type Validator struct {
	ops        []*operation // candidates, most specific path first
	siblings   []*operation // every operation sharing the ServeMux path, for 405
	onDecision func(Decision)
	logger     *slog.Logger
	respMax    int64
	respCheck  bool
}

var _ http.Handler = (*validating)(nil)

// operation is everything needed to validate one operation's requests.
type operation struct {
	id     string
	method string
	tmpl   *pathTemplate // nil: path parameters come from r.PathValue
	params []*param
	query  map[string]bool // declared query parameter names
	// deepObjects are the "name[" prefixes of deepObject parameters.
	deepObjects []string
	bodyReq     bool
	noBody      bool // the operation declares no request body
	media       []*media
	strict      bool
	maxBody     int64
	maxDepth    int
	responses   *responses
	budget      *BodyBudget // nil: bodies are not counted
}

// Check validates r against its operation. It reads the body (up to the
// limit) and replaces r.Body with the buffered bytes, so the next handler
// sees the same body. It writes no response. The error is an *Error.
//
// With a BodyBudget, the body's bytes count against it only while Check
// runs; Handler holds them until the next handler returns.
func (v *Validator) Check(r *http.Request) error {
	op, held, err := v.check(r)
	if op != nil {
		op.budget.release(held)
	}
	return err
}

// check validates r; held is what its body holds of the operation's
// budget, to release when the request is done.
func (v *Validator) check(r *http.Request) (*operation, int64, error) {
	op, vals, err := v.find(r)
	if err != nil {
		if v.onDecision != nil {
			v.onDecision(Decision{Status: err.Status})
		}
		return nil, 0, err
	}
	held, e := op.check(r, vals)
	if e != nil {
		v.decide(op, e.Status)
		return op, held, e
	}
	v.decide(op, 0)
	return op, held, nil
}

func (v *Validator) decide(op *operation, status int) {
	if v.onDecision != nil {
		v.onDecision(Decision{Operation: op.id, Status: status})
	}
}

// find picks the operation whose path template matches r precisely.
func (v *Validator) find(r *http.Request) (*operation, []string, *Error) {
	if len(v.ops) == 1 && v.ops[0].tmpl == nil {
		return v.ops[0], nil, nil
	}
	segs, ok := splitPath(r.URL)
	if !ok {
		return nil, nil, notFound
	}
	for _, op := range v.ops {
		if !op.allowsMethod(r.Method) {
			continue
		}
		if vals, ok := op.tmpl.match(segs); ok {
			return op, vals, nil
		}
	}
	var allow []string
	for _, op := range v.siblings {
		if _, ok := op.tmpl.match(segs); ok {
			allow = appendMethod(allow, op.method)
		}
	}
	if len(allow) > 0 {
		sort.Strings(allow)
		return nil, nil, &Error{Status: http.StatusMethodNotAllowed, Allow: allow, kind: ErrMethodNotAllowed}
	}
	return nil, nil, notFound
}

var notFound = &Error{Status: http.StatusNotFound, kind: ErrNotFound}

func appendMethod(allow []string, m string) []string {
	for _, a := range allow {
		if a == m {
			return allow
		}
	}
	allow = append(allow, m)
	if m == http.MethodGet {
		allow = appendMethod(allow, http.MethodHead)
	}
	return allow
}

// allowsMethod: a GET operation also serves HEAD, as ServeMux does.
func (op *operation) allowsMethod(m string) bool {
	return op.method == "" || op.method == m || (m == http.MethodHead && op.method == http.MethodGet)
}

// splitPath returns the unescaped segments of u's path after the leading
// slash; ok is false for a path that is not valid percent-encoding.
func splitPath(u *url.URL) ([]string, bool) {
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		return nil, false
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if strings.IndexByte(s, '%') >= 0 {
			un, err := url.PathUnescape(s)
			if err != nil {
				return nil, false
			}
			segs[i] = un
		}
	}
	return segs, true
}

// check validates r against op; vals are the path parameter values found
// by the template, in op.tmpl's order.
func (op *operation) check(r *http.Request, vals []string) (held int64, _ *Error) {
	var fields []problem.FieldError
	total := 0
	addField := func(f problem.FieldError) {
		total++
		if len(fields) < maxFieldErrors {
			fields = append(fields, f)
		}
	}
	var query url.Values
	if r.URL.RawQuery != "" {
		var err error
		query, err = url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return 0, invalid("the query string is malformed", nil, 0)
		}
	}
	src := &paramSource{r: r, query: query, path: func(name string) (string, bool) {
		if op.tmpl != nil {
			if i := op.tmpl.index(name); i >= 0 && i < len(vals) {
				return vals[i], true
			}
			return "", false
		}
		s := r.PathValue(name)
		return s, s != ""
	}}
	for _, p := range op.params {
		val, present, msg := p.read(src, op.maxDepth)
		if !present {
			if p.required {
				addField(problem.FieldError{Parameter: p.name, In: p.in, Detail: "is required"})
			}
			continue
		}
		if msg != "" {
			addField(problem.FieldError{Parameter: p.name, In: p.in, Detail: msg})
			continue
		}
		if p.schema == nil || p.fastValid(val, op.maxDepth) {
			continue
		}
		if err := p.schema.Validate(val); err != nil {
			for _, l := range leaves(err, val) {
				d := l.detail
				if l.pointer != "" {
					d = l.pointer + ": " + d
				}
				addField(problem.FieldError{Parameter: p.name, In: p.in, Detail: d})
			}
		}
	}
	if op.strict {
		for name := range query {
			if !op.knownQuery(name) {
				addField(problem.FieldError{Parameter: capText(sanitize(name), 40), In: "query", Detail: "is not a known parameter"})
			}
		}
	}
	held, e := op.checkBody(r, addField)
	if e != nil {
		return held, e
	}
	if total > 0 {
		return held, invalid("", fields, total)
	}
	return held, nil
}

func invalid(detail string, fields []problem.FieldError, total int) *Error {
	if detail == "" {
		if total == 1 {
			detail = "1 field of the request is invalid"
		} else {
			detail = strconv.Itoa(total) + " fields of the request are invalid"
		}
		if total > len(fields) {
			detail += "; the first " + strconv.Itoa(len(fields)) + " are listed"
		}
	}
	return &Error{Status: http.StatusBadRequest, Detail: detail, Fields: fields, kind: ErrInvalid}
}

// addQueryNames records the query parameter names p stands for, for
// strict mode: its own, or its properties' when they are parameters of
// their own (an exploded form object).
func (op *operation) addQueryNames(p *param) {
	if p.in != "query" {
		return
	}
	switch {
	case p.types == tObject && p.style == styleDeepObject:
		op.deepObjects = append(op.deepObjects, p.name+"[")
	case p.types == tObject && p.exploded():
		for _, k := range p.props {
			op.query[k] = true
		}
	default:
		op.query[p.name] = true
	}
}

// knownQuery reports whether a query parameter name is declared.
func (op *operation) knownQuery(name string) bool {
	if op.query[name] {
		return true
	}
	for _, prefix := range op.deepObjects {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// checkBody validates the body. It returns an *Error for a rejection that
// ends validation (413, 415, an unreadable body) and reports field errors
// through add.
func (op *operation) checkBody(r *http.Request, add func(problem.FieldError)) (int64, *Error) {
	body, held, tooLarge, err := readBody(r, op.maxBody, op.budget)
	return held, op.checkRead(r, body, tooLarge, err, add)
}

var overloaded = &Error{Status: http.StatusServiceUnavailable, Detail: "the server is busy; retry shortly", kind: ErrOverloaded}

func (op *operation) checkRead(r *http.Request, body []byte, tooLarge bool, err error, add func(problem.FieldError)) *Error {
	if errors.Is(err, errOverBudget) {
		return overloaded
	}
	if tooLarge {
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Detail: "the request body is larger than " + strconv.FormatInt(op.maxBody, 10) + " bytes", kind: ErrBodyTooLarge}
	}
	if err != nil {
		return invalid("the request body could not be read", nil, 0)
	}
	ctype := r.Header.Get("Content-Type")
	if len(body) == 0 {
		if op.bodyReq {
			add(problem.FieldError{Pointer: "", Detail: "a request body is required"})
		}
		return nil
	}
	if op.noBody {
		// Fail closed: an operation that declares no body gets none, so an
		// unvalidated payload cannot ride along to the application.
		if ctype != "" {
			return unsupported("this operation takes no request body")
		}
		return invalid("this operation takes no request body", nil, 0)
	}
	if ctype == "" {
		return unsupported("the request body has no Content-Type")
	}
	if len(r.Header.Values("Content-Type")) > 1 {
		// Servers disagree on which of several Content-Types counts.
		return unsupported("the request has more than one Content-Type")
	}
	m, params := pick(op.media, ctype)
	if m == nil {
		return unsupported("the Content-Type is not accepted here")
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") && m.kind != bodyOther {
		// A compressed body cannot be inspected without decompressing it
		// (a decompression bomb risk): bodies that are validated must come
		// uncompressed.
		return unsupported("compressed request bodies are not accepted here")
	}
	var doc any
	switch m.kind {
	case bodyJSON:
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return unsupported("JSON bodies must be UTF-8")
		}
		if m.schema != nil && m.schema.fast != nil && fastCheck(body, m.schema.fast, op.maxDepth) == fastValid {
			// Valid in one pass; anything else takes the full path below,
			// which decides and names the fields.
			return nil
		}
		v, err := decodeJSON(body, op.maxDepth)
		if err != nil {
			var se *syntaxError
			if errors.As(err, &se) {
				add(problem.FieldError{Pointer: se.pointer, Detail: se.msg})
			} else {
				add(problem.FieldError{Detail: "body is not valid UTF-8"})
			}
			return nil
		}
		doc = v
	case bodyForm, bodyMultipart:
		v, errs := formValue(m, body, params)
		for _, l := range errs {
			add(problem.FieldError{Pointer: l.pointer, Detail: l.detail})
		}
		if errs != nil {
			return nil
		}
		doc = v
	default:
		return nil
	}
	if m.schema == nil {
		return nil
	}
	if err := m.schema.Validate(doc); err != nil {
		for _, l := range leaves(err, doc) {
			add(problem.FieldError{Pointer: l.pointer, Detail: l.detail})
		}
	}
	return nil
}

func unsupported(detail string) *Error {
	return &Error{Status: http.StatusUnsupportedMediaType, Detail: detail, kind: ErrUnsupportedMediaType}
}

// leaves turns a schema library error about doc into client-safe
// messages.
func leaves(err error, doc any) []leaf {
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return dedupe(collect(ve, doc, nil))
	}
	// Fail closed: an error that is not a validation result still rejects.
	return []leaf{{"", "is invalid"}}
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

// sanitize keeps a client-chosen name printable for the error response.
func sanitize(s string) string {
	if safeText(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '<' || r == '>' || r == '&' || r == '"' || r == '\'' || r == '\\' {
			b.WriteByte('?')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Handler returns a handler that validates each request before calling h,
// and answers a rejected one itself with problem details (RFC 9457).
func (v *Validator) Handler(h http.Handler) http.Handler {
	return &validating{v: v, next: h}
}

type validating struct {
	v    *Validator
	next http.Handler
}

func (h *validating) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, held, err := h.v.check(r)
	if op != nil && held > 0 {
		// The buffered body lives until the application is done with it.
		defer op.budget.release(held)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if h.v.respCheck && op.responses != nil {
		h.v.serveChecked(w, r, op, h.next)
		return
	}
	h.next.ServeHTTP(w, r)
}

// writeError answers a rejected request.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		// Fail closed on anything unexpected, without details.
		e = &Error{Status: http.StatusBadRequest}
	}
	if len(e.Allow) > 0 {
		w.Header().Set("Allow", strings.Join(e.Allow, ", "))
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	problem.Write(w, r, problem.Problem{Status: e.Status, Detail: e.Detail, Errors: e.Fields, Policy: policyName, Reason: e.reason()})
}

// reason is the log reason of a refusal: the status's name and the first
// field at fault ("invalid_request body=/age", "invalid_request
// query=limit"), bounded, since field names can come from the client.
func (e *Error) reason() string {
	why := "invalid_request"
	switch e.Status {
	case http.StatusRequestEntityTooLarge:
		why = "body_too_large"
	case http.StatusUnsupportedMediaType:
		why = "unsupported_media_type"
	case http.StatusMethodNotAllowed:
		why = "method_not_allowed"
	case http.StatusNotFound:
		why = "unknown_operation"
	case http.StatusNotAcceptable:
		why = "not_acceptable"
	}
	if len(e.Fields) == 0 {
		return why
	}
	f := e.Fields[0]
	where := "body=" + f.Pointer
	if f.Parameter != "" {
		where = f.In + "=" + f.Parameter
	}
	if len(where) > 100 {
		where = where[:100]
	}
	return why + " " + where
}

// Policy is the name every middleware package gives its middleware
// (headers.Policy, cors.Policy, access.Policy, …): New returns one, and its
// Handler method wraps an http.Handler.
type Policy = Validator
