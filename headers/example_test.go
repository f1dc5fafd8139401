package headers_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/rampartsec/rampart/headers"
)

func ExampleNew() {
	p, err := headers.New(headers.Config{}) // helmet's defaults
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "Express") // removed on the way out
		fmt.Fprintln(w, "hello")
	})
	rec := httptest.NewRecorder()
	p.Handler(app).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Header().Get("X-Frame-Options"))
	fmt.Println(rec.Header().Get("Strict-Transport-Security"))
	fmt.Printf("%q\n", rec.Header().Get("X-Powered-By"))
	// Output:
	// SAMEORIGIN
	// max-age=31536000; includeSubDomains
	// ""
}

func ExampleNonceFromContext() {
	p, err := headers.New(headers.Config{Preset: headers.PresetStrict})
	if err != nil {
		panic(err)
	}
	page := template.Must(template.New("").Parse(`<script nonce="{{.}}">init()</script>`))
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = page.Execute(w, headers.NonceFromContext(r.Context()))
	})
	rec := httptest.NewRecorder()
	p.Handler(app).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(len(rec.Body.String()) == len(`<script nonce="">init()</script>`)+22)
	// Output: true
}

func ExampleDirectives_Build() {
	d := headers.Directives{
		"default-src": {"'self'"},
		"img-src":     {"self", "https://cdn.example.com"},
	}
	_, err := d.Build()
	fmt.Fprintln(os.Stdout, err)
	// Output: headers: csp: img-src: keyword "self" must be quoted: "'self'"
}
