package shield_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/requestid"
	"github.com/rampartsec/rampart/shield"
)

func Example() {
	s, err := shield.New(shield.Config{}) // shields 5xx, inspects 4xx
	if err != nil {
		panic(err)
	}
	defer s.Close()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 14")
	})
	r := httptest.NewRequest("GET", "/orders", nil)
	r = r.WithContext(requestid.NewContext(r.Context(), "01j0example"))
	rec := httptest.NewRecorder()
	s.Handler(app).ServeHTTP(rec, r)
	fmt.Println(rec.Code)
	fmt.Print(rec.Body.String())
	// Output:
	// 500
	// {"type":"about:blank","title":"Internal Server Error","status":500,"incident":"01j0example"}
}
