package cors_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/rampartsec/rampart/cors"
)

func ExamplePolicy_Handler() {
	p, err := cors.New(cors.Config{
		Origins:     []string{"https://app.example.com", "https://*.example.org"},
		Credentials: true,
		Methods:     []string{"GET", "POST", "PUT", "DELETE"},
		Headers:     []string{"Content-Type", "Authorization"},
		MaxAge:      10 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	api := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"items":[]}`)
	}))

	// A preflight from the allowed single-page app is answered by the policy.
	r := httptest.NewRequest("OPTIONS", "https://api.example.com/items", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", "content-type")
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Allow-Methods"))

	// A look-alike origin gets no CORS header: the browser keeps the
	// response from the page.
	r = httptest.NewRequest("GET", "https://api.example.com/items", nil)
	r.Header.Set("Origin", "https://app.example.com.evil.net")
	w = httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Printf("%d %q %s\n", w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Vary"))
	// Output:
	// 204 https://app.example.com GET, POST, PUT, DELETE
	// 200 "" Origin
}

func ExampleNew_credentialsWithWildcard() {
	_, err := cors.New(cors.Config{Origins: []string{"*"}, Credentials: true})
	fmt.Println(err)
	// Output:
	// cors: origins[0]: "*" cannot be combined with credentials: list the origins that may send cookies
}
