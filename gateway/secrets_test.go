package gateway_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
)

// TestSecretsFromTheEnvironment: the admin token and the CSRF key can come
// from the environment; the token guards POST /reload exactly as one read
// from admin.token_file, and keys too short are refused naming the key.
// Not parallel: it sets environment variables.
func TestSecretsFromTheEnvironment(t *testing.T) {
	up := echoUpstream(t)
	const token = "0123456789abcdef0123456789abcdef"
	t.Setenv("RAMPART_GW_ADMIN_TOKEN", token)
	t.Setenv("RAMPART_GW_CSRF_KEY", "csrf-key-0123456789abcdef0123456789")
	t.Setenv("RAMPART_GW_SHORT", "short")
	src := "upstream: \"" + up.URL + "\"\nadmin: {token: \"${RAMPART_GW_ADMIN_TOKEN}\"}\ncsrf: {mode: token, key: \"${RAMPART_GW_CSRF_KEY}\"}\n"
	load := func() (*config.Config, error) { return config.Parse("rampart.yaml", []byte(src)) }
	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(c, gateway.Options{Loader: load})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	for _, tc := range []struct {
		name, auth string
		code       int
	}{
		{"missing", "", 401},
		{"wrong", "Bearer 0123456789abcdef0123456789abcdee", 401},
		{"the variable's name", "Bearer ${RAMPART_GW_ADMIN_TOKEN}", 401},
		{"right", "Bearer " + token, 200},
	} {
		r := httptest.NewRequest("POST", "/reload", nil)
		r.RemoteAddr = "192.0.2.7:5555"
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		g.AdminHandler().ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("reload with %s token: got %d, want %d\n%s", tc.name, w.Code, tc.code, w.Body)
		}
	}

	for _, tc := range []struct{ body, want string }{
		{"admin: {token: \"${RAMPART_GW_SHORT}\"}\n", "admin.token: the token is shorter than 16 characters"},
		{"csrf: {mode: token, key: \"${RAMPART_GW_SHORT}\"}\n", "csrf.key: the key must be at least 32 bytes"},
	} {
		_, err := gateway.New(parse(t, up.URL, tc.body), gateway.Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "short\"") {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}
