package headers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/problem"
)

// notSecurity are headers every Express response has that helmet does not
// set; everything else in helmet's response is compared byte for byte.
var notSecurity = map[string]bool{
	"Date": true, "Connection": true, "Keep-Alive": true, "Content-Length": true,
	"Content-Type": true, "Etag": true, "X-Request-Id": true,
}

func fetch(t *testing.T, u string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func proxyTo(t *testing.T, target string) *httputil.ReverseProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		problem.Write(w, r, problem.Problem{Status: http.StatusBadGateway, Policy: "upstream"})
	}
	return rp
}

// TestHelmetParityWithExpress compares the helmet preset, in front of a bare
// Express app, with helmet() itself inside the same app, byte for byte.
func TestHelmetParityWithExpress(t *testing.T) {
	dir := testutil.NodeAppsDir(t)
	helmetApp := testutil.StartNode(t, dir, "app.js", "MODE=helmet", "NODE_ENV=production")
	bareApp := testutil.StartNode(t, dir, "app.js", "MODE=bare", "NODE_ENV=production")

	var version struct{ Version string }
	mods := testutil.NodeModules(t, dir)
	if b, err := readFile(mods + "/helmet/package.json"); err != nil || json.Unmarshal(b, &version) != nil {
		t.Fatalf("reading helmet's version: %v", err)
	}
	if version.Version != headers.HelmetVersion {
		t.Fatalf("helmet installed: got %s, want %s (HelmetVersion)", version.Version, headers.HelmetVersion)
	}

	p := mustNew(t, headers.Config{})
	gw := httptest.NewServer(p.Handler(proxyTo(t, bareApp.URL)))
	defer gw.Close()

	for _, path := range []string{"/", "/json", "/headers"} {
		t.Run(path, func(t *testing.T) {
			want, _ := fetch(t, helmetApp.URL+path)
			got, _ := fetch(t, gw.URL+path)
			for k, v := range want.Header {
				if notSecurity[k] || (path == "/headers" && (k == "X-Frame-Options" || k == "Server" || k == "X-Runtime" || k == "X-Debug-Token")) {
					continue
				}
				// The documented deviations from helmet: a Referrer-Policy
				// that keeps same-origin form posts' Origin, and no
				// upgrade-insecure-requests over plain HTTP (this test's).
				switch k {
				case "Referrer-Policy":
					v = []string{"strict-origin-when-cross-origin"}
				case "Content-Security-Policy":
					v = []string{plainCSP(v[0])}
				}
				if g := got.Header.Values(k); strings.Join(g, "\n") != strings.Join(v, "\n") {
					t.Errorf("%s: got %q, want helmet's %q", k, g, v)
				}
			}
			for k := range got.Header {
				if !notSecurity[k] && want.Header.Values(k) == nil && !(path == "/headers" && k == "X-Frame-Options") {
					t.Errorf("%s: sent by rampart, not by helmet %s", k, headers.HelmetVersion)
				}
			}
			for _, leak := range []string{"X-Powered-By", "Server", "X-Runtime", "X-Debug-Token"} {
				if v := got.Header.Values(leak); v != nil {
					t.Errorf("%s leaked: %q", leak, v)
				}
			}
			if path == "/headers" && got.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
				t.Errorf("upstream's weaker X-Frame-Options won: %q", got.Header.Get("X-Frame-Options"))
			}
		})
	}
}

// TestHeadersOnEveryStatusFromExpress checks the preset on 200, 404, 429,
// 403, 500 and 502 responses: the app's own, rampart's policies' and the
// proxy's.
func TestHeadersOnEveryStatusFromExpress(t *testing.T) {
	app := testutil.StartNode(t, testutil.NodeAppsDir(t), "app.js", "MODE=bare", "NODE_ENV=production")
	dead := testutil.FreeAddr(t)
	mux := http.NewServeMux()
	mux.Handle("/", proxyTo(t, app.URL))
	mux.Handle("/down/", proxyTo(t, "http://"+dead))
	mux.HandleFunc("/limited", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		problem.Write(w, r, problem.Problem{Status: http.StatusTooManyRequests, Policy: "ratelimit"})
	})
	mux.HandleFunc("/admin", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.Problem{Status: http.StatusForbidden, Policy: "access"})
	})
	for _, preset := range []string{"helmet", "strict"} {
		p := mustNew(t, headers.Config{Preset: preset})
		want := p.Header()
		gw := httptest.NewServer(p.Handler(mux))
		t.Cleanup(gw.Close)
		for _, tc := range []struct {
			path   string
			status int
		}{{"/", 200}, {"/missing", 404}, {"/limited", 429}, {"/admin", 403}, {"/throw", 500}, {"/down/x", 502}} {
			t.Run(preset+tc.path, func(t *testing.T) {
				res, _ := fetch(t, gw.URL+tc.path)
				if res.StatusCode != tc.status {
					t.Fatalf("status: got %d, want %d", res.StatusCode, tc.status)
				}
				for k, v := range want {
					g := res.Header.Values(k)
					if k == "Content-Security-Policy" && preset == "strict" {
						if len(g) != 1 || !strings.Contains(g[0], "'nonce-") {
							t.Errorf("%s: got %q, want the strict CSP with a nonce", k, g)
						}
						continue
					}
					if k == "Content-Security-Policy" {
						v = []string{plainCSP(v[0])} // served over plain HTTP
					}
					if strings.Join(g, "\n") != strings.Join(v, "\n") {
						t.Errorf("%s: got %q, want %q", k, g, v)
					}
				}
				if res.Header.Get("X-Powered-By") != "" {
					t.Errorf("X-Powered-By leaked")
				}
			})
		}
	}
}

// TestNonceReachesExpress checks that the upstream gets the request's nonce
// in a header it can render, and never a client's.
func TestNonceReachesExpress(t *testing.T) {
	app := testutil.StartNode(t, testutil.NodeAppsDir(t), "app.js", "MODE=bare")
	p := mustNew(t, headers.Config{Preset: "strict"})
	gw := httptest.NewServer(p.Handler(proxyTo(t, app.URL)))
	defer gw.Close()
	res, body := fetch(t, gw.URL+"/nonce", headers.DefaultNonceHeader, "chosen-by-attacker")
	var got struct{ Nonce string }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if got.Nonce == "" || got.Nonce == "chosen-by-attacker" {
		t.Fatalf("app saw nonce %q", got.Nonce)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "'nonce-"+got.Nonce+"'") {
		t.Errorf("CSP %q does not carry the app's nonce %q", csp, got.Nonce)
	}
	res, page := fetch(t, gw.URL+"/")
	csp := res.Header.Get("Content-Security-Policy")
	m := nonceRE.FindStringSubmatch(csp)
	if m == nil || !strings.Contains(page, `<script nonce="`+m[1]+`">`) {
		t.Errorf("page script does not carry the CSP nonce: %q / %q", csp, page)
	}
}

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }
