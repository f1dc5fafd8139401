package problem

import (
	"encoding/json"
	"html"
	"net/http"
	"strconv"
	"strings"

	"github.com/rampartsec/rampart/requestid"
)

// Problem is one neutral error response.
type Problem struct {
	// Status is the HTTP status code. Required.
	Status int
	// Title is a short generic summary. Default: the status text.
	Title string
	// Detail is an optional explanation that is safe to show to anyone. It
	// must never hold internal error text.
	Detail string
	// Type is a URI identifying the problem type. Default "about:blank".
	Type string
	// Policy names the policy that decided, for logs and metrics. It is not
	// sent to the client.
	Policy string
	// Reason says why, for the log line of the refusal: which rule, which
	// check, which header ("rule per-ip", "host_not_allowed",
	// "x-forwarded-host"). It is not sent to the client. Optional.
	Reason string
	// Errors lists individual problems, for example each invalid field of a
	// request body. Optional.
	Errors []FieldError
}

// FieldError is one invalid part of a request.
type FieldError struct {
	// Pointer is a JSON Pointer (RFC 6901) into the request body.
	Pointer string `json:"pointer,omitempty"`
	// Parameter names a query, path, header or cookie parameter.
	Parameter string `json:"parameter,omitempty"`
	// In says where Parameter is: query, path, header or cookie.
	In string `json:"in,omitempty"`
	// Detail says what is wrong, e.g. "must be an integer, got 2.5".
	Detail string `json:"detail"`
}

// Recorder is implemented by response writers that want to know which
// policy produced a response, such as an access logger's. Write finds it by
// unwrapping the writer chain (see http.ResponseController).
type Recorder interface {
	RecordDecision(policy string)
}

// ReasonRecorder is implemented by response writers that want to know why
// a policy refused, such as an access logger's.
type ReasonRecorder interface {
	RecordReason(reason string)
}

// RecordReason tells the first ReasonRecorder in w's unwrap chain why the
// response was a refusal. It does nothing when there is none.
func RecordReason(w http.ResponseWriter, reason string) {
	for w != nil {
		if rec, ok := w.(ReasonRecorder); ok {
			rec.RecordReason(reason)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// Record tells the first Recorder in w's unwrap chain that policy decided the
// response. It does nothing when there is none.
func Record(w http.ResponseWriter, policy string) {
	for w != nil {
		if rec, ok := w.(Recorder); ok {
			rec.RecordDecision(policy)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// IncidentID returns the id that ties a response to the log: the request id
// in r's context, or the X-Request-Id already set on the response.
func IncidentID(w http.ResponseWriter, r *http.Request) string {
	if id := requestid.FromContext(r.Context()); id != "" {
		return id
	}
	if id := w.Header().Get(requestid.Header); id != "" {
		return id
	}
	id := requestid.New()
	w.Header().Set(requestid.Header, id)
	return id
}

// representationHeaders describe a body that is being replaced; they must not
// survive onto the neutral one.
var representationHeaders = []string{
	"Content-Encoding", "Content-Length", "Content-Language", "Content-Location",
	"Content-Range", "Content-Disposition", "ETag", "Last-Modified", "Expires",
	"Accept-Ranges", "Set-Cookie",
}

// Write sends p as the response to r: problem+json or HTML by r's Accept
// header, with the incident id. Headers already set on w (security headers,
// Retry-After, Allow, WWW-Authenticate) are kept, except those that describe
// a body.
func Write(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Policy != "" {
		Record(w, p.Policy)
	}
	if p.Reason != "" {
		RecordReason(w, p.Reason)
	}
	id := IncidentID(w, r)
	var body []byte
	var ctype string
	if WantsHTML(r) {
		body, ctype = renderHTML(p, id), "text/html; charset=utf-8"
	} else {
		body, ctype = renderJSON(p, id), "application/problem+json"
	}
	h := w.Header()
	for _, k := range representationHeaders {
		h.Del(k)
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// WantsHTML reports whether the client prefers an HTML page: a browser
// navigation asks for text/html ahead of any JSON type.
func WantsHTML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	h := strings.Index(accept, "text/html")
	if h < 0 {
		return false
	}
	j := strings.Index(accept, "json")
	return j < 0 || h < j
}

func (p *Problem) title() string {
	if p.Title != "" {
		return p.Title
	}
	if t := http.StatusText(p.Status); t != "" {
		return t
	}
	return "Error"
}

func renderJSON(p Problem, id string) []byte {
	b := make([]byte, 0, 160)
	b = append(b, `{"type":`...)
	typ := p.Type
	if typ == "" {
		typ = "about:blank"
	}
	b = appendJSONString(b, typ)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, p.title())
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(p.Status), 10)
	if p.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, p.Detail)
	}
	b = append(b, `,"incident":`...)
	b = appendJSONString(b, id)
	if len(p.Errors) > 0 {
		errs, err := json.Marshal(p.Errors)
		if err == nil {
			b = append(b, `,"errors":`...)
			b = append(b, errs...)
		}
	}
	b = append(b, "}\n"...)
	return b
}

func appendJSONString(b []byte, s string) []byte {
	// Fast path: nothing to escape (the common case for titles and ids).
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func renderHTML(p Problem, id string) []byte {
	title := html.EscapeString(strconv.Itoa(p.Status) + " " + p.title())
	var b strings.Builder
	b.Grow(512)
	b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"robots\" content=\"noindex\">\n<title>")
	b.WriteString(title)
	b.WriteString("</title>\n</head>\n<body>\n<main>\n<h1>")
	b.WriteString(title)
	b.WriteString("</h1>\n")
	if p.Detail != "" {
		b.WriteString("<p>")
		b.WriteString(html.EscapeString(p.Detail))
		b.WriteString("</p>\n")
	}
	if len(p.Errors) > 0 {
		b.WriteString("<ul>\n")
		for _, e := range p.Errors {
			b.WriteString("<li>")
			if where := e.Pointer + e.Parameter; where != "" {
				b.WriteString("<code>")
				b.WriteString(html.EscapeString(where))
				b.WriteString("</code>: ")
			}
			b.WriteString(html.EscapeString(e.Detail))
			b.WriteString("</li>\n")
		}
		b.WriteString("</ul>\n")
	}
	b.WriteString("<p>Incident id: <code>")
	b.WriteString(html.EscapeString(id))
	b.WriteString("</code>. Quote it if you contact the site's operators.</p>\n</main>\n</body>\n</html>\n")
	return []byte(b.String())
}
