package scan_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/scan"
)

// A site with no security headers that says what it runs on.
func ExampleRun() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "Express")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>shop</title>")
	}))
	defer site.Close()

	rep, err := scan.Run(context.Background(), scan.Config{URL: site.URL, MaxRequests: 10})
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"csp", "x-content-type-options", "x-powered-by", "cors-credentials", "login-rate-limit", "https"} {
		c, _ := rep.Check(id)
		if c.Status == scan.Warn || c.Status == scan.Fail {
			fmt.Printf("%-22s %s (%s)\n", id, c.Status, c.Severity)
		} else {
			fmt.Printf("%-22s %s\n", id, c.Status)
		}
	}
	fmt.Println("within budget:", rep.Requests <= rep.MaxRequests)
	fmt.Println("grade:", rep.Observatory.Grade)
	// Output:
	// csp                    fail (high)
	// x-content-type-options warn (low)
	// x-powered-by           warn (moderate)
	// cors-credentials       pass
	// login-rate-limit       skip
	// https                  fail (high)
	// within budget: true
	// grade: F
}

func ExampleDefinitions() {
	for _, d := range scan.Definitions()[:3] {
		fmt.Printf("%d %s: %s\n", d.Item, d.ID, d.Title)
	}
	// Output:
	// 1 cookie-secure: cookies carry Secure
	// 1 cookie-httponly: session cookies carry HttpOnly
	// 1 cookie-samesite: cookies carry a valid SameSite
}
