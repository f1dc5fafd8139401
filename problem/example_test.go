package problem_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

func ExampleWrite() {
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.Problem{Status: http.StatusForbidden, Policy: "access"})
	})
	r := httptest.NewRequest("GET", "/admin", nil)
	r = r.WithContext(requestid.NewContext(r.Context(), "01j0example"))
	w := httptest.NewRecorder()
	deny.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body.String())
	// Output:
	// 403 application/problem+json
	// {"type":"about:blank","title":"Forbidden","status":403,"incident":"01j0example"}
}
