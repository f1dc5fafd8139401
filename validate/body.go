package validate

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// bodyKind says how a media type's content is read for validation.
type bodyKind uint8

const (
	bodyOther     bodyKind = iota // accepted as declared, not inspected
	bodyJSON                      // application/json and */*+json
	bodyForm                      // application/x-www-form-urlencoded
	bodyMultipart                 // multipart/form-data
)

// maxMultipartParts bounds the parts of a multipart body.
const maxMultipartParts = 1000

// media is one accepted content type of a request or response body.
type media struct {
	typ, sub string // lower case; either may be "*"
	kind     bodyKind
	schema   *checker // nil: any content
	raw      any      // the adapted schema, to type form fields
	rs       resolver
}

// specificity orders media ranges: exact types before "type/*" before
// "*/*" (OpenAPI: "the most specific key is applicable").
func (m *media) specificity() int {
	switch {
	case m.typ == "*":
		return 0
	case m.sub == "*":
		return 1
	case strings.HasPrefix(m.sub, "*+"):
		return 2
	}
	return 3
}

func (m *media) matches(typ, sub string) bool {
	if m.typ != "*" && m.typ != typ {
		return false
	}
	if strings.HasPrefix(m.sub, "*+") {
		// "application/*+json": any structured syntax suffix (RFC 6839).
		return strings.HasSuffix(sub, m.sub[1:])
	}
	return m.sub == "*" || m.sub == sub
}

// newMedia parses a media range from a document or the configuration.
func newMedia(s string) (*media, error) {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil && !strings.HasPrefix(s, "*/*") {
		return nil, errors.New("invalid media type " + strconv.Quote(s))
	}
	if mt == "" {
		mt = "*/*"
	}
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok {
		return nil, errors.New("invalid media type " + strconv.Quote(s))
	}
	m := &media{typ: typ, sub: sub}
	switch {
	case typ == "application" && (sub == "json" || strings.HasSuffix(sub, "+json")), typ == "*" && sub == "*+json":
		m.kind = bodyJSON
	case typ == "application" && sub == "x-www-form-urlencoded":
		m.kind = bodyForm
	case typ == "multipart" && sub == "form-data":
		m.kind = bodyMultipart
	}
	return m, nil
}

func sortMedia(ms []*media) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].specificity() > ms[j].specificity() })
}

// pick returns the declared media type that applies to a Content-Type
// header value, or nil.
func pick(ms []*media, contentType string) (*media, map[string]string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, nil
	}
	typ, sub, _ := strings.Cut(mt, "/")
	for _, m := range ms {
		if m.matches(typ, sub) {
			if m.kind == bodyOther && strings.HasSuffix(sub, "+json") {
				// A wildcard range that admits a JSON document still gets
				// its syntax checked.
				return &media{typ: typ, sub: sub, kind: bodyJSON, schema: m.schema, raw: m.raw, rs: m.rs}, params
			}
			return m, params
		}
	}
	return nil, nil
}

// bufferedBody is a request body read into memory.
type bufferedBody struct{ bytes.Reader }

func (*bufferedBody) Close() error { return nil }

// readBody buffers r's body up to limit bytes and puts the bytes back so
// the next handler reads them again. ok is false when the body is larger
// than limit.
// With a budget, the bytes read are reserved in it, and held is what the
// caller must release once the request is done (also on error).
func readBody(r *http.Request, limit int64, budget *BodyBudget) (body []byte, held int64, tooLarge bool, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, 0, false, nil
	}
	if r.ContentLength > limit {
		return nil, 0, true, nil
	}
	size := r.ContentLength
	if size < 0 || size > 64<<10 {
		size = 512 // unknown or large: grow as the bytes arrive
	}
	var src io.Reader = io.LimitReader(r.Body, limit+1)
	var br *budgetReader
	if budget != nil {
		br = &budgetReader{r: src, b: budget}
		src = br
	}
	// A body of a declared length is read into a buffer of exactly that
	// size, plus one byte to see whether more follows; others grow.
	buf := make([]byte, size+1)
	n, err := io.ReadFull(src, buf)
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		buf, err = buf[:n], nil
	case nil:
		more := bytes.NewBuffer(buf)
		_, err = more.ReadFrom(src)
		buf = more.Bytes()
	}
	_ = r.Body.Close()
	if br != nil {
		held = br.held
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, held, true, nil
		}
		return nil, held, false, err
	}
	if int64(len(buf)) > limit {
		return nil, held, true, nil
	}
	body = buf
	r.Body = &bufferedBody{Reader: *bytes.NewReader(body)}
	r.GetBody = func() (io.ReadCloser, error) { return &bufferedBody{Reader: *bytes.NewReader(body)}, nil }
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return body, held, false, nil
}

// formValue reads an urlencoded or multipart body into an object, each
// field typed by the body schema.
func formValue(m *media, body []byte, params map[string]string) (map[string]any, []leaf) {
	fields := map[string][]string{}
	var order []string
	add := func(k, v string) {
		if _, seen := fields[k]; !seen {
			order = append(order, k)
		}
		fields[k] = append(fields[k], v)
	}
	switch m.kind {
	case bodyForm:
		if !utf8.Valid(body) {
			return nil, []leaf{{"", "body is not valid UTF-8"}}
		}
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, []leaf{{"", "body is not valid form data"}}
		}
		for k, vs := range q {
			for _, v := range vs {
				add(k, v)
			}
		}
	case bodyMultipart:
		boundary := params["boundary"]
		if boundary == "" {
			return nil, []leaf{{"", "multipart body has no boundary"}}
		}
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		for i := 0; ; i++ {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil || i >= maxMultipartParts {
				return nil, []leaf{{"", "body is not valid multipart data"}}
			}
			name := part.FormName()
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, []leaf{{"", "body is not valid multipart data"}}
			}
			if name == "" {
				return nil, []leaf{{"", "multipart part has no field name"}}
			}
			if part.FileName() == "" && !utf8.Valid(data) {
				return nil, []leaf{{"/" + escapeToken(name), "is not valid UTF-8"}}
			}
			add(name, string(data))
		}
	}
	obj := make(map[string]any, len(fields))
	var errs []leaf
	for _, k := range order {
		vs := fields[k]
		ps := m.rs.property(m.raw, k)
		ts := m.rs.types(ps)
		if ts == tArray {
			its := m.rs.types(m.rs.items(ps))
			a := make([]any, len(vs))
			for i, v := range vs {
				a[i] = coerce(v, its)
			}
			obj[k] = a
			continue
		}
		if len(vs) > 1 {
			errs = append(errs, leaf{"/" + escapeToken(k), "must appear once"})
			continue
		}
		obj[k] = coerce(vs[0], ts)
	}
	return obj, errs
}
