package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
)

func TestAdminReload(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	const token = "0123456789abcdef0123456789abcdef"
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		Result string
		Errors []struct {
			File, Key, Message string
			Line               int
		}
		RestartRequired []string `json:"restart_required"`
	}
	post := func(t *testing.T, h http.Handler, remote string, hdr ...string) (int, result) {
		t.Helper()
		r := httptest.NewRequest("POST", "http://127.0.0.1:9090/reload", nil)
		r.RemoteAddr = remote
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var res result
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q, body %q", ct, w.Body)
		}
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
		return w.Code, res
	}

	t.Run("loopback without token", func(t *testing.T) {
		t.Parallel()
		var next atomic.Pointer[string]
		good := "limits:\n  max_body_bytes: 1KiB\n"
		next.Store(&good)
		load := func() (*config.Config, error) {
			return config.Parse("rampart.yaml", []byte("upstream: \""+up.URL+"\"\n"+*next.Load()))
		}
		c, _ := load()
		g, err := gateway.New(c, gateway.Options{Loader: load})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		h := g.AdminHandler()

		if code, res := post(t, h, "127.0.0.1:5555"); code != 200 || res.Result != "success" || res.RestartRequired == nil {
			t.Errorf("reload: got %d %+v, want 200 success", code, res)
		}
		bad := "limits:\n  max_body_bytes: lots\nlisten: \":1\"\nrate_limits: 3\n"
		next.Store(&bad)
		code, res := post(t, h, "[::1]:5555")
		if code != http.StatusUnprocessableEntity || res.Result != "failure" || len(res.Errors) != 2 {
			t.Fatalf("bad reload: got %d %+v, want 422 with two errors", code, res)
		}
		if e := res.Errors[0]; e.File != "rampart.yaml" || e.Line != 3 || e.Key != "limits.max_body_bytes" {
			t.Errorf("first error %+v, want rampart.yaml:3 limits.max_body_bytes", e)
		}
		if g.Config().Limits.MaxBodyBytes != 1<<10 {
			t.Errorf("a failed reload changed the configuration")
		}
		restart := "listen: \":1\"\n"
		next.Store(&restart)
		if code, res := post(t, h, "127.0.0.1:5555"); code != 200 || strings.Join(res.RestartRequired, ",") != "listen" {
			t.Errorf("reload changing listen: got %d %+v, want success with restart_required [listen]", code, res)
		}
		if code, _ := post(t, h, "192.0.2.7:5555"); code != http.StatusForbidden {
			t.Errorf("reload from a remote address without a token: got %d, want 403", code)
		}
		if code, _ := post(t, h, "127.0.0.1:5555", "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
			t.Errorf("cross-site browser request: got %d, want 403", code)
		}
		if code, _ := post(t, h, "127.0.0.1:5555", "Origin", "https://evil.example"); code != http.StatusForbidden {
			t.Errorf("foreign Origin: got %d, want 403", code)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/reload", nil))
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET /reload: got %d, want 405", w.Code)
		}
	})

	t.Run("token", func(t *testing.T) {
		t.Parallel()
		src := "upstream: \"" + up.URL + "\"\nadmin:\n  token_file: " + tokenFile + "\n"
		load := func() (*config.Config, error) { return config.Parse("rampart.yaml", []byte(src)) }
		c, _ := load()
		g, err := gateway.New(c, gateway.Options{Loader: load})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		h := g.AdminHandler()
		for _, tc := range []struct {
			name, auth string
			code       int
		}{
			{"missing", "", 401},
			{"wrong", "Bearer 0123456789abcdef0123456789abcdee", 401},
			{"basic", "Basic " + token, 401},
			{"right", "Bearer " + token, 200},
		} {
			code, _ := post(t, h, "192.0.2.7:5555", "Authorization", tc.auth)
			if code != tc.code {
				t.Errorf("%s: got %d, want %d", tc.name, code, tc.code)
			}
		}
	})

	t.Run("no file", func(t *testing.T) {
		t.Parallel()
		g, err := gateway.New(parse(t, up.URL, ""), gateway.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		if code, res := post(t, g.AdminHandler(), "127.0.0.1:1"); code != http.StatusConflict || !strings.Contains(res.Errors[0].Message, "zero-config") {
			t.Errorf("got %d %+v, want 409", code, res)
		}
	})

	t.Run("short token refused", func(t *testing.T) {
		t.Parallel()
		short := filepath.Join(t.TempDir(), "short")
		_ = os.WriteFile(short, []byte("abc"), 0o600)
		_, err := gateway.New(parse(t, up.URL, "admin:\n  token_file: "+short+"\n"), gateway.Options{})
		if err == nil || !strings.Contains(err.Error(), "admin.token_file") {
			t.Errorf("got %v, want an error naming admin.token_file", err)
		}
	})
}
