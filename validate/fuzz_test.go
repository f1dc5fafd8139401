package validate_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/validate"
)

// FuzzBody sends arbitrary bodies, content types and query strings through
// a whole document. Invariants: no panic; only the expected statuses; an
// accepted request reaches the application with exactly the bytes sent; a
// rejection is small whatever the input; the body is never read past the
// limit.
func FuzzBody(f *testing.F) {
	f.Add("application/json", "limit=5", []byte(validItem))
	f.Add("application/json", "", []byte(`{"name":"a","name":"b"}`))
	f.Add("application/json", "", []byte(`{"name":"\ud800","quantity":1e400}`))
	f.Add("application/json", "", []byte(strings.Repeat("[", 100)))
	f.Add("application/json; charset=utf-8", "", []byte(`{"quantity":9223372036854775808,"price":-0.0}`))
	f.Add("application/x-www-form-urlencoded", "", []byte("name=a&quantity=1&tags=x&tags=y"))
	f.Add("multipart/form-data; boundary=xyz", "", []byte("--xyz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nw\r\n--xyz--\r\n"))
	f.Add("text/plain", "a=%zz", []byte("hello"))
	const limit = 4096
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Reached", "1")
		_, _ = io.Copy(w, r.Body)
	})
	var handlers [2]http.Handler
	for i := range handlers {
		spec, err := validate.Load("testdata/items-3.0.yaml", validate.Options{MaxBodyBytes: limit, Strict: i == 1})
		if err != nil {
			f.Fatal(err)
		}
		handlers[i] = spec.Handler(echo)
	}
	f.Fuzz(func(t *testing.T, ctype, query string, body []byte) {
		h := handlers[len(body)%2]
		r := httptest.NewRequest("POST", "/items", nil)
		r.URL.RawQuery = query
		counting := &countingReader{r: bytes.NewReader(body)}
		r.Body = io.NopCloser(counting)
		r.ContentLength = -1
		r.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		reached := w.Header().Get("X-Reached") != ""
		switch w.Code {
		case 200:
			if !reached || !bytes.Equal(w.Body.Bytes(), body) {
				t.Fatalf("accepted, but the application got %q, want %q", w.Body, body)
			}
		case 400, 413, 415:
			if reached {
				t.Fatal("rejected, but the application was called")
			}
			if w.Body.Len() > 8192 {
				t.Fatalf("rejection of %d bytes", w.Body.Len())
			}
		default:
			t.Fatalf("unexpected status %d", w.Code)
		}
		if counting.n > limit+1 {
			t.Fatalf("read %d bytes, limit %d", counting.n, limit)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzParameters sends arbitrary paths, queries and headers.
func FuzzParameters(f *testing.F) {
	f.Add("/items/42", "limit=5&tag=a&tag=b&ids=1,2", tenant, "session=deadbeef")
	f.Add("/files/a.json", "filter=%7B%22color%22%3A1%7D", "", "")
	f.Add("/items/%ff", "sort=%ff&limit=1e999", "x", "session=;session=")
	f.Add("/files/{name}.json", ";;&&==", "\x00", "a=b")
	var handlers [2]http.Handler
	for i := range handlers {
		spec, err := validate.Load("testdata/items-3.1.yaml", validate.Options{Strict: i == 1})
		if err != nil {
			f.Fatal(err)
		}
		handlers[i] = spec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	}
	f.Fuzz(func(t *testing.T, path, query, header, cookie string) {
		h := handlers[len(query)%2]
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = path
		r.URL.RawPath = ""
		r.URL.RawQuery = query
		r.Header["X-Tenant"] = []string{header}
		r.Header["Cookie"] = []string{cookie}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 301, 307, 308, 400, 404, 405:
		default:
			t.Fatalf("unexpected status %d", w.Code)
		}
		if w.Body.Len() > 8192 {
			t.Fatalf("response of %d bytes", w.Body.Len())
		}
	})
}

// FuzzParameterStyles sends arbitrary path segments, queries, headers and
// cookies to operations with every family of parameter style (label,
// matrix, simple, deepObject, exploded form objects, pipe and space
// delimited, text content). Invariants: no panic; only the expected
// statuses; a small response whatever the input.
func FuzzParameterStyles(f *testing.F) {
	f.Add("label", ".1.2.3", "filter[status]=open&filter[meta][a]=b&filter[ids]=1&filter[ids]=2", "1,2.5", "pref=R,1,G,2,B,3")
	f.Add("matrix", ";R=1;G=2;B=3", "R=1&G=2&B=3&p=true|false&s=R%201%20G%202", "", "")
	f.Add("simple", "R=1,G=2,B=300", "filter[a][999999999]=x&filter"+strings.Repeat("[a]", 40)+"=1", "x, y", "pref=R")
	f.Add("matrix", ";R", "filter[=1&filter]=2&filter[]=3&filter=4", "1e1", "pref=,,,")
	f.Add("label", "", "t=%ff&p=|||&s=%20", "\xff", "pref=R,1,R,2")
	spec, err := validate.Load("testdata/styles.yaml", validate.Options{Strict: true})
	if err != nil {
		f.Fatal(err)
	}
	h := spec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.Fuzz(func(t *testing.T, op, segment, query, header, cookie string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = "/" + op + "/" + segment
		if len(op)%2 == 1 {
			r.URL.Path = "/query"
		}
		r.URL.RawPath = ""
		r.URL.RawQuery = query
		r.Header["X-List"] = []string{header}
		r.Header["Cookie"] = []string{cookie}
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, r)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("took %v", d)
		}
		switch w.Code {
		case 200, 301, 307, 308, 400, 404, 405:
		default:
			t.Fatalf("unexpected status %d", w.Code)
		}
		if w.Body.Len() > 8192 {
			t.Fatalf("response of %d bytes", w.Body.Len())
		}
	})
}
