package validate_test

import (
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/validate"
)

// validItem is a body every version of the test documents accepts.
const validItem = `{"name":"Widget","quantity":3,"price":9.5,"weight":1.25,"serial":9007199254740992,
"email":"buyer@example.com","uuid":"123e4567-e89b-12d3-a456-426614174000","date":"2024-05-01",
"when":"2024-05-01T12:34:56Z","site":"https://example.com/w","ip4":"192.0.2.10","ip6":"2001:db8::1",
"color":"green","sku":"ABC-1234","note":null,"tags":["a","b"],"dimensions":{"width":1,"height":2},
"owner":{"login":"alice"},"payment":{"card":"4111111111111111"},"labels":{"k":"v"}}`

// withField returns validItem with one field replaced (raw JSON) or, with
// raw "", removed.
func withField(field, raw string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(validItem), &m); err != nil {
		panic(err)
	}
	if raw == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(raw)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

type reqCase struct {
	name   string
	method string
	target string
	ctype  string
	body   string
	header map[string]string
	status int
	field  string // a pointer or parameter the response must name
	detail string // a substring of that field's detail
}

var upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Upstream-Body-Bytes", itoa(len(b)))
	w.WriteHeader(http.StatusOK)
})

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

const tenant = "123e4567-e89b-12d3-a456-426614174000"

func requestCases() []reqCase {
	h := map[string]string{"X-Tenant": tenant}
	return []reqCase{
		// Routing: the document is the allow-list.
		{name: "declared operation", method: "GET", target: "/items", header: h, status: 200},
		{name: "undeclared path", method: "GET", target: "/internal/debug", status: 404},
		{name: "undeclared method", method: "PATCH", target: "/items", status: 405},
		{name: "literal path wins over template", method: "GET", target: "/items/mine", status: 200},
		{name: "trailing slash is another path", method: "GET", target: "/items/", status: 404},
		{name: "partial segment matches", method: "GET", target: "/files/report.json", status: 200},
		{name: "partial segment mismatch", method: "GET", target: "/files/report.txt", status: 404},
		{name: "partial segment other method", method: "GET", target: "/files/report.xml", status: 405},
		{name: "partial segment other method, no template matches", method: "DELETE", target: "/files/report.txt", status: 404},
		{name: "partial segment parameter checked", method: "GET", target: "/files/Report.json", status: 400, field: "name", detail: "pattern"},
		{name: "partial segment needs a value", method: "GET", target: "/files/.json", status: 404},
		{name: "HEAD follows GET", method: "HEAD", target: "/items/mine", status: 200},

		// Path parameters.
		{name: "path integer", method: "GET", target: "/items/42", status: 200},
		{name: "path not an integer", method: "GET", target: "/items/abc", status: 400, field: "id", detail: "must be an integer"},
		{name: "path below minimum", method: "GET", target: "/items/0", status: 400, field: "id", detail: "at least 1"},
		{name: "path int64 overflow", method: "GET", target: "/items/9223372036854775808", status: 400, field: "id", detail: "between"},
		{name: "path encoded slash is one segment", method: "GET", target: "/items/1%2F2", status: 400, field: "id", detail: "integer"},

		// Query parameters.
		{name: "query int32", method: "GET", target: "/items?limit=5", header: h, status: 200},
		{name: "query over maximum", method: "GET", target: "/items?limit=500", header: h, status: 400, field: "limit", detail: "at most 100, got 500"},
		{name: "query not a number", method: "GET", target: "/items?limit=ten", header: h, status: 400, field: "limit", detail: `must be an integer, got string "ten"`},
		{name: "query float for integer", method: "GET", target: "/items?limit=2.5", header: h, status: 400, field: "limit", detail: "must be an integer"},
		{name: "query repeated scalar", method: "GET", target: "/items?limit=5&limit=6", header: h, status: 400, field: "limit", detail: "once"},
		{name: "query enum", method: "GET", target: "/items?sort=name", header: h, status: 200},
		{name: "query not in enum", method: "GET", target: "/items?sort=evil", header: h, status: 400, field: "sort", detail: "one of"},
		{name: "query exploded array", method: "GET", target: "/items?tag=a&tag=b", header: h, status: 200},
		{name: "query array too long", method: "GET", target: "/items?tag=a&tag=b&tag=c&tag=d", header: h, status: 400, field: "tag", detail: "at most 3 items"},
		{name: "query array item too long", method: "GET", target: "/items?tag=aaaaaaaaaaaaaaa", header: h, status: 400, field: "tag", detail: "/0: must be at most 10 characters"},
		{name: "query comma array", method: "GET", target: "/items?ids=1,2,3", header: h, status: 200},
		{name: "query comma array bad item", method: "GET", target: "/items?ids=1,x", header: h, status: 400, field: "ids", detail: "/1: must be an integer"},
		{name: "query boolean", method: "GET", target: "/items?active=true", header: h, status: 200},
		{name: "query not a boolean", method: "GET", target: "/items?active=yes", header: h, status: 400, field: "active", detail: "must be a boolean"},
		{name: "query JSON content", method: "GET", target: `/items?filter=%7B%22color%22%3A%22red%22%7D`, header: h, status: 200},
		{name: "query JSON content unknown key", method: "GET", target: `/items?filter=%7B%22x%22%3A1%7D`, header: h, status: 400, field: "filter", detail: "/x: is not allowed"},
		{name: "query JSON content malformed", method: "GET", target: `/items?filter=%7B`, header: h, status: 400, field: "filter", detail: "valid JSON"},
		{name: "query unknown parameter without strict", method: "GET", target: "/items?debug=1", header: h, status: 200},
		{name: "query malformed encoding", method: "GET", target: "/items?limit=%zz", header: h, status: 400},
		{name: "query invalid UTF-8", method: "GET", target: "/items?sort=%ff", header: h, status: 400, field: "sort", detail: "UTF-8"},

		// Headers and cookies.
		{name: "header missing", method: "GET", target: "/items", status: 400, field: "X-Tenant", detail: "is required"},
		{name: "header bad uuid", method: "GET", target: "/items", header: map[string]string{"X-Tenant": "nope"}, status: 400, field: "X-Tenant", detail: "UUID"},
		{name: "cookie ok", method: "GET", target: "/items", header: map[string]string{"X-Tenant": tenant, "Cookie": "session=deadbeef"}, status: 200},
		{name: "cookie bad", method: "GET", target: "/items", header: map[string]string{"X-Tenant": tenant, "Cookie": "session=zz"}, status: 400, field: "session", detail: "pattern"},

		// JSON bodies: every keyword.
		{name: "valid body", method: "POST", target: "/items", ctype: "application/json", body: validItem, status: 200},
		{name: "content type with charset", method: "POST", target: "/items", ctype: "application/json; charset=utf-8", body: validItem, status: 200},
		{name: "content type other charset", method: "POST", target: "/items", ctype: "application/json; charset=latin1", body: validItem, status: 415},
		{name: "content type not accepted", method: "POST", target: "/items", ctype: "text/plain", body: validItem, status: 415},
		{name: "content type missing", method: "POST", target: "/items", body: validItem, status: 415},
		{name: "two content types", method: "POST", target: "/items", ctype: "application/json", header: map[string]string{"Content-Type": "text/plain"}, body: validItem, status: 415},
		{name: "compressed body", method: "POST", target: "/items", ctype: "application/json", header: map[string]string{"Content-Encoding": "gzip"}, body: validItem, status: 415},
		{name: "content type garbage", method: "POST", target: "/items", ctype: ";;", body: validItem, status: 415},
		{name: "body required", method: "POST", target: "/items", ctype: "application/json", status: 400, field: "", detail: "required"},
		{name: "body on operation without one", method: "DELETE", target: "/items/1", ctype: "application/json", body: "{}", status: 415},
		{name: "body without type on operation without one", method: "DELETE", target: "/items/1", body: "x", status: 400},
		{name: "malformed JSON", method: "POST", target: "/items", ctype: "application/json", body: `{"name": `, status: 400, detail: "malformed JSON"},
		{name: "trailing garbage", method: "POST", target: "/items", ctype: "application/json", body: validItem + `{}`, status: 400, detail: "malformed JSON"},
		{name: "duplicate key", method: "POST", target: "/items", ctype: "application/json", body: `{"name":"a","name":"b","quantity":1,"price":1}`, status: 400, field: "/name", detail: "duplicate"},
		{name: "duplicate nested key", method: "POST", target: "/items", ctype: "application/json", body: withField("dimensions", `{"width":1,"width":2}`), status: 400, field: "/dimensions/width", detail: "duplicate"},
		{name: "invalid UTF-8", method: "POST", target: "/items", ctype: "application/json", body: withField("name", "\"W\xffidget\""), status: 400, detail: "UTF-8"},
		{name: "lone surrogate escape", method: "POST", target: "/items", ctype: "application/json", body: withField("name", `"\ud800"`), status: 400, field: "/name", detail: "surrogate"},
		{name: "escaped replacement character is fine", method: "POST", target: "/items", ctype: "application/json", body: withField("name", `"\ufffd"`), status: 200},
		{name: "too deep", method: "POST", target: "/items", ctype: "application/json", body: withField("labels", strings.Repeat("[", 40)+strings.Repeat("]", 40)), status: 400, field: "/labels" + strings.Repeat("/0", 31), detail: "nesting deeper than 32"},
		{name: "huge exponent", method: "POST", target: "/items", ctype: "application/json", body: withField("price", "1e-999999999"), status: 400, field: "/price", detail: "out of range"},
		{name: "number beyond float64", method: "POST", target: "/items", ctype: "application/json", body: withField("weight", "1e309"), status: 400, field: "/weight", detail: "out of range"},
		{name: "not an object", method: "POST", target: "/items", ctype: "application/json", body: `[1]`, status: 400, field: "", detail: "must be an object, got an array"},
		{name: "type string", method: "POST", target: "/items", ctype: "application/json", body: withField("name", "5"), status: 400, field: "/name", detail: "must be a string, got 5"},
		{name: "integer got 2.5", method: "POST", target: "/items", ctype: "application/json", body: withField("quantity", "2.5"), status: 400, field: "/quantity", detail: "must be an integer, got 2.5"},
		{name: "integer 2.0 is an integer", method: "POST", target: "/items", ctype: "application/json", body: withField("quantity", "2.0"), status: 200},
		{name: "int32 overflow", method: "POST", target: "/items", ctype: "application/json", body: withField("quantity", "2147483648"), status: 400, field: "/quantity", detail: "between -2147483648 and 2147483647, got 2147483648"},
		{name: "int64 precision kept", method: "POST", target: "/items", ctype: "application/json", body: withField("serial", "9007199254740993"), status: 400, field: "/serial", detail: "at most 9007199254740992, got 9007199254740993"},
		{name: "integer without format fits int64", method: "POST", target: "/items", ctype: "application/json", body: withField("dimensions", `{"width":1}`), status: 200},
		{name: "float out of float32 range", method: "POST", target: "/items", ctype: "application/json", body: withField("weight", "1e39"), status: 400, field: "/weight", detail: "32-bit float"},
		{name: "exclusive minimum", method: "POST", target: "/items", ctype: "application/json", body: withField("price", "0"), status: 400, field: "/price", detail: "greater than 0"},
		{name: "minimum on nested", method: "POST", target: "/items", ctype: "application/json", body: withField("dimensions", `{"width":-1}`), status: 400, field: "/dimensions/width", detail: "at least 0"},
		{name: "minLength", method: "POST", target: "/items", ctype: "application/json", body: withField("name", `""`), status: 400, field: "/name", detail: "at least 1 character"},
		{name: "maxLength", method: "POST", target: "/items", ctype: "application/json", body: withField("name", `"`+strings.Repeat("x", 41)+`"`), status: 400, field: "/name", detail: "at most 40 characters"},
		{name: "email", method: "POST", target: "/items", ctype: "application/json", body: withField("email", `"nope"`), status: 400, field: "/email", detail: "email"},
		{name: "uuid", method: "POST", target: "/items", ctype: "application/json", body: withField("uuid", `"123"`), status: 400, field: "/uuid", detail: "UUID"},
		{name: "date", method: "POST", target: "/items", ctype: "application/json", body: withField("date", `"2024-02-30"`), status: 400, field: "/date", detail: "date"},
		{name: "date-time", method: "POST", target: "/items", ctype: "application/json", body: withField("when", `"2024-05-01 12:00"`), status: 400, field: "/when", detail: "RFC 3339"},
		{name: "uri", method: "POST", target: "/items", ctype: "application/json", body: withField("site", `"not a uri"`), status: 400, field: "/site", detail: "URI"},
		{name: "ipv4", method: "POST", target: "/items", ctype: "application/json", body: withField("ip4", `"256.1.1.1"`), status: 400, field: "/ip4", detail: "IPv4"},
		{name: "ipv6", method: "POST", target: "/items", ctype: "application/json", body: withField("ip6", `"2001:db8::g"`), status: 400, field: "/ip6", detail: "IPv6"},
		{name: "enum", method: "POST", target: "/items", ctype: "application/json", body: withField("color", `"purple"`), status: 400, field: "/color", detail: `one of: "red", "green", "blue"`},
		{name: "pattern", method: "POST", target: "/items", ctype: "application/json", body: withField("sku", `"abc"`), status: 400, field: "/sku", detail: "pattern"},
		{name: "required", method: "POST", target: "/items", ctype: "application/json", body: withField("name", ""), status: 400, field: "/name", detail: "is required"},
		{name: "readOnly not required in requests", method: "POST", target: "/items", ctype: "application/json", body: withField("id", ""), status: 200},
		{name: "additionalProperties false", method: "POST", target: "/items", ctype: "application/json", body: withField("isAdmin", "true"), status: 400, field: "/isAdmin", detail: "is not allowed"},
		{name: "additionalProperties schema", method: "POST", target: "/items", ctype: "application/json", body: withField("labels", `{"k":"`+strings.Repeat("v", 30)+`"}`), status: 400, field: "/labels/k", detail: "at most 20"},
		{name: "nullable accepts null", method: "POST", target: "/items", ctype: "application/json", body: withField("note", "null"), status: 200},
		{name: "not nullable rejects null", method: "POST", target: "/items", ctype: "application/json", body: withField("name", "null"), status: 400, field: "/name", detail: "got null"},
		{name: "uniqueItems", method: "POST", target: "/items", ctype: "application/json", body: withField("tags", `["a","a"]`), status: 400, field: "/tags", detail: "duplicate"},
		{name: "maxItems", method: "POST", target: "/items", ctype: "application/json", body: withField("tags", `["a","b","c","d","e","f"]`), status: 400, field: "/tags", detail: "at most 5 items"},
		{name: "ref required inside", method: "POST", target: "/items", ctype: "application/json", body: withField("owner", `{}`), status: 400, field: "/owner/login", detail: "is required"},
		{name: "oneOf first", method: "POST", target: "/items", ctype: "application/json", body: withField("payment", `{"iban":"DE89370400440532013000"}`), status: 200},
		{name: "oneOf none", method: "POST", target: "/items", ctype: "application/json", body: withField("payment", `{"bitcoin":"x"}`), status: 400, field: "/payment", detail: "exactly one"},
		{name: "oneOf both", method: "POST", target: "/items", ctype: "application/json", body: withField("payment", `{"card":"4111111111111111","iban":"DE89370400440532013000"}`), status: 400, field: "/payment", detail: "matched several"},
		{name: "external file ref", method: "POST", target: "/shapes", ctype: "application/json", body: `{"kind":"circle","size":null,"center":{"x":1,"y":2}}`, status: 200},
		{name: "external file ref invalid", method: "POST", target: "/shapes", ctype: "application/json", body: `{"kind":"circle","center":{"x":1}}`, status: 400, field: "/center/y", detail: "is required"},
		{name: "many errors listed", method: "POST", target: "/items", ctype: "application/json", body: `{"name":5,"quantity":"x","price":-1}`, status: 400, field: "/price", detail: "greater than 0"},

		// Forms.
		{name: "urlencoded", method: "POST", target: "/items", ctype: "application/x-www-form-urlencoded", body: "name=w&quantity=2&gift=true&tags=a&tags=b", status: 200},
		{name: "urlencoded bad integer", method: "POST", target: "/items", ctype: "application/x-www-form-urlencoded", body: "name=w&quantity=two", status: 400, field: "/quantity", detail: "must be an integer"},
		{name: "urlencoded missing", method: "POST", target: "/items", ctype: "application/x-www-form-urlencoded", body: "name=w", status: 400, field: "/quantity", detail: "is required"},
		{name: "urlencoded repeated scalar", method: "POST", target: "/items", ctype: "application/x-www-form-urlencoded", body: "name=w&name=x&quantity=1", status: 400, field: "/name", detail: "once"},
		{name: "urlencoded malformed", method: "POST", target: "/items", ctype: "application/x-www-form-urlencoded", body: "name=%zz", status: 400},
		{name: "multipart", method: "POST", target: "/items", ctype: "multipart", body: "name=w&quantity=2&photo=@png", status: 200},
		{name: "multipart bad", method: "POST", target: "/items", ctype: "multipart", body: "name=&quantity=2", status: 400, field: "/name", detail: "at least 1 character"},
		{name: "multipart no boundary", method: "POST", target: "/items", ctype: "multipart/form-data", body: "x", status: 400, detail: "boundary"},
		{name: "declared non-JSON type accepted", method: "PUT", target: "/files/a.xml", ctype: "application/xml", body: "<a/>", status: 200},
	}
}

// multipartBody builds a multipart body from "k=v&k=v"; a value "@x" is a
// file part.
func multipartBody(spec string) (string, string) {
	var b strings.Builder
	mw := multipart.NewWriter(&b)
	for _, kv := range strings.Split(spec, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(v, "@") {
			fw, _ := mw.CreateFormFile(k, "photo.png")
			_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\n\x00\xff"))
			continue
		}
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	return b.String(), mw.FormDataContentType()
}

type problemBody struct {
	Status int
	Detail string
	Errors []problem.FieldError
}

func runCase(t *testing.T, h http.Handler, tc reqCase) {
	t.Helper()
	body, ctype := tc.body, tc.ctype
	if ctype == "multipart" {
		body, ctype = multipartBody(tc.body)
	}
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(tc.method, tc.target, strings.NewReader(body))
	} else {
		r = httptest.NewRequest(tc.method, tc.target, nil)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for k, v := range tc.header {
		r.Header.Add(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != tc.status {
		t.Fatalf("status: got %d, want %d\n%s", w.Code, tc.status, w.Body)
	}
	if tc.status == http.StatusOK {
		if tc.method != "HEAD" && w.Header().Get("X-Upstream-Body-Bytes") != itoa(len(body)) {
			t.Errorf("upstream body bytes: got %s, want %d", w.Header().Get("X-Upstream-Body-Bytes"), len(body))
		}
		return
	}
	if tc.method == "HEAD" {
		return
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type: got %q, want application/problem+json", ct)
	}
	var p problemBody
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body: %v\n%s", err, w.Body)
	}
	if tc.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
		t.Errorf("405 without Allow")
	}
	if tc.detail == "" && tc.field == "" {
		return
	}
	for _, f := range p.Errors {
		where := f.Pointer + f.Parameter
		if where == tc.field && strings.Contains(f.Detail, tc.detail) {
			return
		}
	}
	if tc.field == "" && strings.Contains(p.Detail, tc.detail) {
		return
	}
	t.Errorf("no error for %q containing %q in\n%s", tc.field, tc.detail, w.Body)
}

func TestOpenAPIRequests(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"testdata/items-3.0.yaml", "testdata/items-3.1.yaml"} {
		spec, err := validate.Load(file, validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		h := spec.Handler(upstream)
		for _, tc := range requestCases() {
			t.Run(strings.TrimPrefix(file, "testdata/")+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				runCase(t, h, tc)
			})
		}
	}
}
