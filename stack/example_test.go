package stack_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/shield"
	"github.com/rampartsec/rampart/stack"
)

func ExampleParts_Handler() {
	ips, _ := clientip.New(clientip.Config{})
	_ = ips // pass it to access.Config, ratelimit.Config, … as Resolver
	hdr, _ := headers.New(headers.Config{})
	sh, _ := shield.New(shield.Config{})
	defer sh.Close()
	co, _ := cors.New(cors.Config{Origins: []string{"https://app.example"}})
	cs, _ := csrf.New(csrf.Config{})

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })
	// The order is the stack's, not the order of the fields.
	h := stack.Parts{CSRF: cs, CORS: co, Shield: sh, Headers: hdr}.Handler(app)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Println(w.Code, w.Body, w.Header().Get("X-Content-Type-Options"), w.Header().Get("X-Request-Id") != "")
	// Output: 200 hello nosniff true
}
