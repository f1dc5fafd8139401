package observatory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Target says where to scan: a host name and, for test servers, the ports
// that stand in for 80 and 443.
type Target struct {
	Hostname  string
	HTTPPort  int // 0: 80
	HTTPSPort int // 0: 443
	// Roots are the trusted CAs; nil means the system's.
	Roots *x509.CertPool
	// Origin is sent in the CORS preflight. Default
	// "https://http-observatory.security.mozilla.org".
	Origin string
}

func (t Target) url(https bool) *url.URL {
	scheme, port := "http", t.HTTPPort
	if https {
		scheme, port = "https", t.HTTPSPort
	}
	host := t.Hostname
	if port != 0 {
		host += ":" + strconv.Itoa(port)
	}
	return &url.URL{Scheme: scheme, Host: host, Path: "/"}
}

// Retrieve fetches what Score needs, as the upstream retriever does: GET /
// over HTTP and HTTPS following redirects by hand, and a CORS preflight on
// the final URL. Each request is bounded by ctx and 10 seconds.
func Retrieve(ctx context.Context, t Target) (*Site, error) {
	if t.Origin == "" {
		t.Origin = "https://http-observatory.security.mozilla.org"
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: t.Roots}}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s := &Site{Hostname: t.Hostname, PreflightOrigin: t.Origin}
	follow := func(start *url.URL) (first, last *Response, chain []Redirect, body string) {
		u := start
		for range 11 {
			req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
			if err != nil {
				return
			}
			req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
			res, err := client.Do(req)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
			_ = res.Body.Close()
			r := &Response{URL: u, Status: res.StatusCode, Header: res.Header, Verified: true}
			s.SetCookies = append(s.SetCookies, res.Header.Values("Set-Cookie")...)
			chain = append(chain, Redirect{URL: u, Status: res.StatusCode})
			if first == nil {
				first = r
			}
			last, body = r, string(b)
			loc := res.Header.Get("Location")
			switch res.StatusCode {
			case 301, 302, 303, 307, 308:
				next, err := u.Parse(loc)
				if err != nil || loc == "" {
					return
				}
				u = next
				continue
			}
			return
		}
		return
	}
	var httpsLast *Response
	var httpsBody string
	s.HTTPS, httpsLast, _, httpsBody = follow(t.url(true))
	var httpLast *Response
	var httpBody string
	s.HTTP, httpLast, s.HTTPRedirects, httpBody = follow(t.url(false))
	s.Final, s.Body = httpsLast, httpsBody
	if s.Final == nil {
		s.Final, s.Body = httpLast, httpBody
	}
	if s.Final != nil {
		req, err := http.NewRequestWithContext(ctx, "OPTIONS", s.Final.URL.String(), nil)
		if err == nil {
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Origin", t.Origin)
			if res, err := client.Do(req); err == nil {
				_ = res.Body.Close()
				s.Preflight = &Response{URL: s.Final.URL, Status: res.StatusCode, Header: res.Header, Verified: true}
			}
		}
	}
	return s, nil
}
