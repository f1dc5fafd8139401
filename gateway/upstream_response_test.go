package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/gateway"
)

// carelessApp sets cookies without any attribute and reflects any Origin
// with credentials: the two mistakes `rampart scan` reports as high.
func carelessApp(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "sid=abc; Path=/")
		w.Header().Add("Set-Cookie", "theme=dark; Path=/; SameSite=Strict")
		if o := r.Header.Get("Origin"); o != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Expose-Headers", "X-Secret")
		}
		fmt.Fprint(w, `{"secret":"the user's data"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func getWith(t *testing.T, url string, hdr ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

// TestUpstreamCookiesHardened: the app's bare cookies reach the browser
// with SameSite=Lax (and over HTTPS, which a trusted proxy reports,
// Secure); HttpOnly where configured; the app's own SameSite is kept.
func TestUpstreamCookiesHardened(t *testing.T) {
	t.Parallel()
	app := carelessApp(t)
	cookieOf := func(resp *http.Response, name string) *http.Cookie {
		for _, c := range resp.Cookies() {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no cookie %s in %q", name, resp.Header.Values("Set-Cookie"))
		return nil
	}
	for _, tc := range []struct {
		name       string
		yaml       string
		https      bool
		wantSecure bool
		httpOnly   bool
		sidSite    http.SameSite
	}{
		{"zero config over plain http", "", false, false, false, http.SameSiteLaxMode},
		{"zero config, proxy says https", "trusted_proxies: [127.0.0.1/32]\n", true, true, false, http.SameSiteLaxMode},
		{"http_only and a rule", "upstream_cookies: {http_only: [sid], rules: [{name: sid, same_site: strict}]}\n", false, false, true, http.SameSiteStrictMode},
		{"secure always", "upstream_cookies: {secure: always}\n", false, true, false, http.SameSiteLaxMode},
		{"off", "upstream_cookies: {secure: off, same_site: off}\n", true, false, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, parse(t, app.URL, tc.yaml))
			var resp *http.Response
			if tc.https {
				resp = getWith(t, h.url+"/", "X-Forwarded-Proto", "https")
			} else {
				resp = getWith(t, h.url+"/")
			}
			sid := cookieOf(resp, "sid")
			if sid.Secure != tc.wantSecure || sid.HttpOnly != tc.httpOnly || sid.SameSite != tc.sidSite {
				t.Errorf("sid: got Secure=%v HttpOnly=%v SameSite=%v, want %v %v %v (%q)", sid.Secure, sid.HttpOnly, sid.SameSite,
					tc.wantSecure, tc.httpOnly, tc.sidSite, resp.Header.Values("Set-Cookie"))
			}
			if theme := cookieOf(resp, "theme"); theme.SameSite != http.SameSiteStrictMode || theme.HttpOnly {
				t.Errorf("theme: the app's own SameSite=Strict must stay and HttpOnly stay off: %q", resp.Header.Values("Set-Cookie"))
			}
		})
	}
	if g, err := gateway.New(parse(t, app.URL, "upstream_cookies: {secure: yes}\n"), gateway.Options{}); err == nil || !strings.Contains(err.Error(), "upstream_cookies") {
		if g != nil {
			_ = g.Close()
		}
		t.Errorf("a bad setting: got %v, want an error naming upstream_cookies", err)
	}
}

// TestZeroConfigStripsReflectedCORS: with no cors setting, an app that
// reflects any Origin with credentials is no longer exploitable — the
// credentialed grant to another origin is stripped and logged once — while
// a grant to the site's own origin passes, and upstream_cors: pass keeps
// the app's headers.
func TestZeroConfigStripsReflectedCORS(t *testing.T) {
	t.Parallel()
	app := carelessApp(t)
	h := start(t, parse(t, app.URL, ""))
	for range 2 {
		resp := getWith(t, h.url+"/", "Origin", "https://evil.example")
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} {
			if v := resp.Header.Get(k); v != "" {
				t.Errorf("%s passed: %q", k, v)
			}
		}
	}
	if n := strings.Count(h.logs.String(), "upstream CORS stripped"); n != 1 {
		t.Errorf("finding logged %d times, want once per origin:\n%s", n, h.logs)
	}
	own := "http://" + h.url[len("http://"):]
	if got := getWith(t, h.url+"/", "Origin", own).Header.Get("Access-Control-Allow-Origin"); got != own {
		t.Errorf("the site's own origin: got ACAO %q, want %q", got, own)
	}
	pass := start(t, parse(t, app.URL, "upstream_cors: pass\n"))
	if got := getWith(t, pass.url+"/", "Origin", "https://evil.example").Header.Get("Access-Control-Allow-Origin"); got != "https://evil.example" {
		t.Errorf("upstream_cors: pass: got ACAO %q, want the app's", got)
	}
}
