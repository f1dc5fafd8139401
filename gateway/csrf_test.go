package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestCSRFThroughGateway(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, `routes:
  - match: "POST /notes"
  - match: "POST /hooks/{name}"
    csrf: "off"
`))
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"no browser headers (API client)", "/notes", nil, 200},
		{"same origin", "/notes", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://" + strings.TrimPrefix(h.url, "http://")}, 200},
		{"cross-site fetch metadata", "/notes", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403},
		{"cross-site origin only", "/notes", map[string]string{"Origin": "https://evil.example"}, 403},
		{"look-alike origin", "/notes", map[string]string{"Origin": "http://127.0.0.1.evil.example"}, 403},
		{"method override does not help", "/notes", map[string]string{"Origin": "https://evil.example", "X-HTTP-Method-Override": "GET"}, 403},
		{"webhook route exempt", "/hooks/github", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://github.com"}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", h.url+tc.path, strings.NewReader("title=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, body := do(t, nil, req)
			if tc.want == 403 {
				assertNeutral(t, resp, body, 403)
				return
			}
			if resp.StatusCode != tc.want {
				t.Errorf("got %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
		})
	}
}

func TestCSRFTokenMode(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, "csrf: {mode: token}\n"))
	client := &http.Client{Jar: newJar(t)}
	req, _ := http.NewRequest("GET", h.url+"/.rampart/csrf", nil)
	resp, body := do(t, client, req)
	if resp.StatusCode != 200 {
		t.Fatalf("token endpoint: got %d %s", resp.StatusCode, body)
	}
	var tok struct{ Token, Header string }
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.Token == "" || tok.Header == "" {
		t.Fatalf("token response %q: %v", body, err)
	}
	post := func(token string) int {
		req, _ := http.NewRequest("POST", h.url+"/notes", strings.NewReader("{}"))
		if token != "" {
			req.Header.Set(tok.Header, token)
		}
		resp, _ := do(t, client, req)
		return resp.StatusCode
	}
	if got := post(tok.Token); got != 200 {
		t.Errorf("with token: got %d, want 200", got)
	}
	if got := post(""); got != 403 {
		t.Errorf("without token: got %d, want 403", got)
	}
	// Forged: the last two characters changed to something else, whatever
	// they were (a fixed "AA" is a real token's ending one time in 4096).
	forged := []byte(tok.Token)
	for i := len(forged) - 2; i < len(forged); i++ {
		if forged[i] == 'A' {
			forged[i] = 'B'
		} else {
			forged[i] = 'A'
		}
	}
	if got := post(string(forged)); got != 403 {
		t.Errorf("forged token: got %d, want 403", got)
	}
	// A reload of the same file keeps tokens valid: without key_file the
	// signing key is the process's, not the configuration's.
	if err := h.g.Reload(parse(t, up.URL, "csrf: {mode: token}\n")); err != nil {
		t.Fatal(err)
	}
	if got := post(tok.Token); got != 200 {
		t.Errorf("a token rendered before a reload: got %d after it, want 200", got)
	}
	// A token from another session (another cookie jar) is refused.
	other := &http.Client{Jar: newJar(t)}
	req, _ = http.NewRequest("POST", h.url+"/notes", strings.NewReader("{}"))
	req.Header.Set(tok.Header, tok.Token)
	if resp, _ := do(t, other, req); resp.StatusCode != 403 {
		t.Errorf("token replayed from another session: got %d, want 403", resp.StatusCode)
	}
}

// TestPreflightBehindRouteLists: a route's CORS preflight is answered
// behind the same IP lists as the route: a client the route refuses gets no
// CORS answer either.
func TestPreflightBehindRouteLists(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, `cors: {origins: ["https://app.example.com"], methods: [PUT]}
routes:
  - match: "PUT /open"
  - match: "PUT /internal"
    allow_ips: [10.0.0.0/8]
`))
	preflight := func(path string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", h.url+path, nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		resp, _ := do(t, nil, req)
		return resp
	}
	if resp := preflight("/open"); resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("open route preflight: got %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if resp := preflight("/internal"); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("IP-restricted route preflight from outside: got %d %q, want 403 without CORS headers", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
