package access_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/access/canonical"
	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/problem"
)

// TestBypasses runs testdata/bypasses.json over real TCP with raw request
// lines through the canonicaliser, the access policy, an http.ServeMux
// with the table's routes (unmatched requests refused like the gateway
// does) and an httputil.ReverseProxy to a loopback upstream that echoes the
// request target and Host it received.
func TestBypasses(t *testing.T) {
	t.Parallel()
	tbl := testutil.LoadBypasses(t, "testdata/bypasses.json")
	if len(tbl.Cases) < 40 {
		t.Fatalf("got %d cases, want at least 40", len(tbl.Cases))
	}

	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream-Target", r.RequestURI)
		w.Header().Set("X-Upstream-Host", r.Host)
		_, _ = w.Write([]byte("upstream"))
	}))
	t.Cleanup(upstream.Close)
	target, _ := url.Parse(upstream.URL)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
	}}

	policy, err := access.New(access.Config{Hosts: tbl.Config.Hosts, Resolver: resolver(t, tbl.Config.TrustedProxies...)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	var patterns []string
	for _, rc := range tbl.Config.Routes {
		rp, err := policy.Route(access.Route{AllowIPs: prefixes(t, rc.AllowIPs...)})
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle(rc.Match, rp.Handler(proxy))
		patterns = append(patterns, rc.Match)
	}
	mux.Handle("/", denyUnmatched(mux, patterns))

	srv := &http.Server{Handler: canonical.Handler(policy.Handler(mux)), ReadHeaderTimeout: testutil.RawTimeout}
	ln := testutil.Listen(t)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	for _, tc := range tbl.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			resp := testutil.Raw(t, ln.Addr().String(), tc.Request())
			if resp.StatusCode != tc.Status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.Status)
			}
			got := resp.Header.Get("X-Upstream-Target")
			if got != tc.UpstreamTarget {
				t.Errorf("upstream received: got %q, want %q", got, tc.UpstreamTarget)
			}
			if tc.UpstreamHost != "" {
				if h := resp.Header.Get("X-Upstream-Host"); h != tc.UpstreamHost {
					t.Errorf("upstream host: got %q, want %q", h, tc.UpstreamHost)
				}
			}
		})
	}
}

// denyUnmatched answers requests no route matched as the gateway does: 405
// with Allow when the path exists for another method, 404 otherwise.
func denyUnmatched(mux *http.ServeMux, patterns []string) http.Handler {
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	for _, p := range patterns {
		if m, _, ok := strings.Cut(p, " "); ok && !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range methods {
			probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			problem.Write(w, r, problem.Problem{Status: http.StatusMethodNotAllowed, Policy: "routes"})
			return
		}
		problem.Write(w, r, problem.Problem{Status: http.StatusNotFound, Policy: "routes"})
	})
}

func prefixes(t testing.TB, ss ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				t.Fatalf("bad prefix %q: %v", s, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out
}
