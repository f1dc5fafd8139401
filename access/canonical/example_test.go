package canonical_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/access/canonical"
)

func ExamplePath() {
	for _, p := range []string{"/public/%7Euser/caf%c3%a9", "/public/..%2fadmin", "/admin;x=1"} {
		c, err := canonical.Path(p)
		fmt.Printf("%q %v\n", c, err)
	}
	// Output:
	// "/public/~user/caf%C3%A9" <nil>
	// "" canonical: path contains an encoded slash
	// "/admin;x=1" canonical: path contains a path parameter
}

func ExampleHandler() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /public/{path...}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("upstream path:", r.URL.EscapedPath())
	})
	// The router only ever sees canonical paths.
	h := canonical.Handler(mux)
	for _, target := range []string{"/public/%61bout", "/public/%2e%2e/admin"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		fmt.Println(target, w.Code)
	}
	// Output:
	// upstream path: /public/about
	// /public/%61bout 200
	// /public/%2e%2e/admin 400
}
