package requestid_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/requestid"
)

func ExampleHandler() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The id is in the context for logs and error pages, and in the
		// request header for anything downstream.
		id := requestid.FromContext(r.Context())
		fmt.Println(len(id), id == r.Header.Get("X-Request-Id"))
	})
	h := requestid.Handler(requestid.Config{}, app)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output: 26 true
}
