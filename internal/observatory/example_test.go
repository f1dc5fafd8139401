package observatory_test

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/internal/observatory"
)

func ExampleScore() {
	p, _ := headers.New(headers.Config{Preset: headers.PresetStrict})
	u, _ := url.Parse("https://example.com/")
	r := &observatory.Response{URL: u, Status: 200, Header: p.Header(), Verified: true}
	http := &observatory.Response{URL: &url.URL{Scheme: "http", Host: "example.com", Path: "/"}, Status: 301, Header: http.Header{}, Verified: true}
	res := observatory.Score(&observatory.Site{Hostname: "example.com", Final: r, HTTPS: r, HTTP: http,
		HTTPRedirects: []observatory.Redirect{{URL: http.URL, Status: 301}, {URL: u, Status: 200}}})
	fmt.Println(res.Score, res.Grade)
	// Output: 130 A+
}
