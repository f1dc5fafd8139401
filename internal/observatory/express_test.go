package observatory_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/internal/observatory"
	"github.com/rampartsec/rampart/internal/testutil"
)

// front serves h over TLS for localhost and redirects plain HTTP to it, the
// same for every candidate, so only the headers differ.
func front(t *testing.T, h http.Handler, cert tls.Certificate) (httpPort, httpsPort int) {
	t.Helper()
	tlsLn := tls.NewListener(testutil.Listen(t), &tls.Config{Certificates: []tls.Certificate{cert}})
	plainLn := testutil.Listen(t)
	httpsPort = tlsLn.Addr().(*net.TCPAddr).Port
	httpPort = plainLn.Addr().(*net.TCPAddr).Port
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://localhost:"+strconv.Itoa(httpsPort)+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
	for _, s := range []struct {
		ln net.Listener
		h  http.Handler
	}{{tlsLn, h}, {plainLn, redirect}} {
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(s.ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	return httpPort, httpsPort
}

// cookies answers every request with the given Set-Cookie lines.
func cookies(lines ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, l := range lines {
			w.Header().Add("Set-Cookie", l)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>cookies</title>"))
	})
}

func proxy(t *testing.T, target string) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	return httputil.NewSingleHostReverseProxy(u)
}

// TestScoresAgainstHelmet is the acceptance check for the presets: a bare
// Express app behind the helmet preset scores at least as high as the same
// app with helmet(), and the strict preset scores higher. The Go scorer is
// checked against the real MDN HTTP Observatory code on every candidate.
func TestScoresAgainstHelmet(t *testing.T) {
	dir := testutil.NodeAppsDir(t)
	helmetApp := testutil.StartNode(t, dir, "app.js", "MODE=helmet", "NODE_ENV=production")
	bareApp := testutil.StartNode(t, dir, "app.js", "MODE=bare", "NODE_ENV=production")
	certFile, keyFile, pool := testutil.SelfSignedCert(t, t.TempDir())
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	npmDir, _ := filepath.Abs("testdata/npm")
	modules := testutil.NodeModules(t, npmDir)
	node := testutil.RequireBinary(t, "node")

	policy := func(preset string) http.Handler {
		p, err := headers.New(headers.Config{Preset: preset})
		if err != nil {
			t.Fatal(err)
		}
		return p.Handler(proxy(t, bareApp.URL))
	}
	candidates := []struct {
		name string
		h    http.Handler
	}{
		{"express with helmet()", proxy(t, helmetApp.URL)},
		{"bare express behind the helmet preset", policy("helmet")},
		{"bare express behind the strict preset", policy("strict")},
		{"bare express alone", proxy(t, bareApp.URL)},
		// Cookies the npm scorer's cookie jar judges: SameSite missing or
		// invalid, prefixes that tough-cookie refuses.
		{"session cookie without SameSite", cookies("sessionid=1; Path=/; Secure; HttpOnly", "csrftoken=2; Path=/; Secure")},
		{"invalid SameSite and refused prefixes", cookies("prefs=1; Path=/; Secure; SameSite=Lox",
			"__Host-sess=1; Path=/; Domain=localhost; Secure; HttpOnly; SameSite=Lax", "__Secure-login=1; Path=/; HttpOnly; SameSite=Lax")},
	}
	scores := map[string]int{}
	for _, c := range candidates {
		httpPort, httpsPort := front(t, c.h, cert)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		site, err := observatory.Retrieve(ctx, observatory.Target{Hostname: "localhost", HTTPPort: httpPort, HTTPSPort: httpsPort, Roots: pool})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		got := observatory.Score(site)
		scores[c.name] = got.Score
		t.Logf("%s: Go score %d (%s)", c.name, got.Score, got.Grade)

		ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, node, filepath.Join(npmDir, "score.mjs"), modules, "localhost", strconv.Itoa(httpPort), strconv.Itoa(httpsPort))
		cmd.Env = append(cmd.Environ(), "NODE_EXTRA_CA_CERTS="+certFile, "NODE_PATH="+modules)
		out, err := cmd.Output()
		cancel()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("%s: MDN HTTP Observatory: %v\n%s", c.name, err, stderr)
		}
		var want observatory.Result
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatalf("%s: %v: %s", c.name, err, out)
		}
		t.Logf("%s: MDN HTTP Observatory score %d (%s)", c.name, want.Score, want.Grade)
		if got.Score != want.Score || got.Grade != want.Grade {
			t.Errorf("%s: Go scorer %d %s, observatory %d %s", c.name, got.Score, got.Grade, want.Score, want.Grade)
		}
		for name, w := range want.Tests {
			if g := got.Tests[name]; g != w {
				t.Errorf("%s: %s: Go %+v, observatory %+v", c.name, name, g, w)
			}
		}
	}
	helmet := scores["express with helmet()"]
	if p := scores["bare express behind the helmet preset"]; p < helmet {
		t.Errorf("helmet preset scored %d, below helmet()'s %d", p, helmet)
	}
	if s := scores["bare express behind the strict preset"]; s <= helmet {
		t.Errorf("strict preset scored %d, not above helmet()'s %d", s, helmet)
	}
}
