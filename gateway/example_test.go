package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
)

// Example builds a gateway from a configuration in code and serves it with
// net/http. In production, Run listens on the configured addresses instead.
func Example() {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from the app, client %s", r.Header.Get("X-Forwarded-For"))
	}))
	defer app.Close()

	c := config.Default()
	u, _ := config.ParseUpstream(app.URL)
	c.Upstream = config.Upstreams{u}
	c.Routes = []config.Route{{Match: "GET /hello"}}
	g, err := gateway.New(c, gateway.Options{})
	if err != nil {
		panic(err)
	}
	defer g.Close()
	front := httptest.NewServer(g)
	defer front.Close()

	for _, path := range []string{"/hello", "/admin"} {
		resp, err := http.Get(front.URL + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
		if resp.StatusCode == 200 {
			fmt.Println(string(body))
		}
	}
	// Output:
	// 200 text/plain; charset=utf-8
	// hello from the app, client 127.0.0.1
	// 404 application/problem+json
}
