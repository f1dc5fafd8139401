package cookies_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/cookies"
)

func mustNew(t testing.TB, c cookies.Config) *cookies.Hardener {
	t.Helper()
	h, err := cookies.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHarden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   cookies.Config
		https bool
		in    string
		want  string
	}{
		{"defaults over https", cookies.Config{}, true, "sid=abc; Path=/", "sid=abc; Path=/; SameSite=Lax; Secure"},
		{"defaults over plain http: no Secure", cookies.Config{}, false, "sid=abc; Path=/", "sid=abc; Path=/; SameSite=Lax"},
		{"existing attributes kept", cookies.Config{}, true, "sid=abc; Path=/; secure; SameSite=Strict", "sid=abc; Path=/; secure; SameSite=Strict"},
		{"no attributes at all", cookies.Config{}, true, "a=b", "a=b; SameSite=Lax; Secure"},
		{"value with = and ; in quotes untouched", cookies.Config{}, true, `t="x=y"; Max-Age=60`, `t="x=y"; Max-Age=60; SameSite=Lax; Secure`},
		{"secure always", cookies.Config{Secure: "always"}, false, "sid=abc", "sid=abc; SameSite=Lax; Secure"},
		{"secure off", cookies.Config{Secure: "off"}, true, "sid=abc", "sid=abc; SameSite=Lax"},
		{"same_site off", cookies.Config{SameSite: "off"}, true, "sid=abc", "sid=abc; Secure"},
		{"same_site strict added", cookies.Config{SameSite: "strict"}, true, "sid=abc", "sid=abc; SameSite=Strict; Secure"},
		{"http_only by name", cookies.Config{HTTPOnly: []string{"sid"}}, true, "sid=abc", "sid=abc; SameSite=Lax; Secure; HttpOnly"},
		{"http_only by name leaves others", cookies.Config{HTTPOnly: []string{"sid"}}, true, "ui=dark", "ui=dark; SameSite=Lax; Secure"},
		{"http_only all", cookies.Config{HTTPOnly: []string{"*"}}, true, "ui=dark; HttpOnly", "ui=dark; HttpOnly; SameSite=Lax; Secure"},
		{"rule replaces same_site", cookies.Config{Rules: []cookies.Rule{{Name: "sid", SameSite: "strict", HTTPOnly: true}}}, true,
			"sid=abc; SameSite=None; Path=/", "sid=abc; Path=/; SameSite=Strict; Secure; HttpOnly"},
		{"rule secure off for one cookie", cookies.Config{Rules: []cookies.Rule{{Name: "legacy", Secure: "off"}}}, true, "legacy=1", "legacy=1; SameSite=Lax"},
		{"rule does not touch other names", cookies.Config{Rules: []cookies.Rule{{Name: "sid", HTTPOnly: true}}}, true, "sidx=1", "sidx=1; SameSite=Lax; Secure"},
		{"not a cookie line", cookies.Config{}, true, "garbage", "garbage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"Set-Cookie": {tt.in}}
			mustNew(t, tt.cfg).Harden(h, tt.https)
			if got := h.Get("Set-Cookie"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// What the hardened line says must be what a browser reads.
			if tt.in != "garbage" {
				c, err := http.ParseSetCookie(h.Get("Set-Cookie"))
				if err != nil {
					t.Fatalf("hardened line does not parse: %v", err)
				}
				if want := strings.ToLower(tt.want); strings.Contains(want, "secure") != c.Secure || strings.Contains(want, "httponly") != c.HttpOnly {
					t.Errorf("parsed %+v from %q", c, h.Get("Set-Cookie"))
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  cookies.Config
		want string
	}{
		{"secure typo", cookies.Config{Secure: "yes"}, "secure must be auto, always or off"},
		{"same_site typo", cookies.Config{SameSite: "lox"}, "same_site must be lax, strict, none or off"},
		{"bad http_only name", cookies.Config{HTTPOnly: []string{"a b"}}, "http_only[0]"},
		{"rule without name", cookies.Config{Rules: []cookies.Rule{{HTTPOnly: true}}}, "rules[0].name"},
		{"rule with pattern", cookies.Config{Rules: []cookies.Rule{{Name: "*"}}}, "rules[0].name"},
		{"duplicate rule", cookies.Config{Rules: []cookies.Rule{{Name: "a"}, {Name: "a"}}}, "rules[1].name"},
		{"rule same_site typo", cookies.Config{Rules: []cookies.Rule{{Name: "a", SameSite: "x"}}}, "rules[0].same_site"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := cookies.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestHandler: an upstream's unhardened session cookie reaches the client
// hardened, over HTTPS with Secure and over plain HTTP without.
func TestHandler(t *testing.T) {
	t.Parallel()
	h := mustNew(t, cookies.Config{HTTPOnly: []string{"sid"}}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "sid=abc; Path=/")
		w.Header().Add("Set-Cookie", "theme=dark; Path=/")
		_, _ = w.Write([]byte("ok"))
	}))
	for _, target := range []string{"https://app.test/", "http://app.test/"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		got := rec.Result().Cookies()
		if len(got) != 2 {
			t.Fatalf("%s: got %d cookies", target, len(got))
		}
		https := strings.HasPrefix(target, "https")
		for _, c := range got {
			if c.Secure != https || c.SameSite != http.SameSiteLaxMode || c.HttpOnly != (c.Name == "sid") {
				t.Errorf("%s: %s: got Secure=%v HttpOnly=%v SameSite=%v", target, c.Name, c.Secure, c.HttpOnly, c.SameSite)
			}
		}
	}
}
