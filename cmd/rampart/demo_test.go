package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// TestDemo runs the real `rampart demo` and walks through what its banner
// suggests: login, the API with a token, the URL allow-list, validation,
// the error shield, CSRF, security headers and login protection.
func TestDemo(t *testing.T) {
	t.Parallel()
	listen := testutil.FreeAddr(t)
	cmd := exec.Command(testutil.BuildRampart(t), "demo", "--listen", listen, "--admin", "off")
	stdout, stderr := &testutil.Buffer{}, &testutil.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + listen
	if !testutil.WaitFor(10*time.Second, func() bool { return strings.Contains(stdout.String(), "Press Ctrl-C") }) {
		t.Fatalf("no banner:\n%s\n%s", stdout, stderr)
	}
	if !strings.Contains(stdout.String(), base) {
		t.Errorf("banner does not show the gateway URL %s:\n%s", base, stdout)
	}
	m := regexp.MustCompile(`Demo user: (\S+)  password: (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("banner does not show the demo user:\n%s", stdout)
	}
	user, pw := m[1], m[2]

	send := func(method, path, ctype, body string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, _ := send("GET", "/api/notes", "", ""); resp.StatusCode != 401 {
		t.Errorf("GET /api/notes without credentials: got %d, want 401", resp.StatusCode)
	}
	resp, body := send("POST", "/.rampart/token", "application/json", `{"username":"`+user+`","password":"`+pw+`"}`)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token: got %d %s", resp.StatusCode, body)
	}
	bearer := "Bearer " + tok.AccessToken
	if resp, body := send("GET", "/api/notes", "", "", "Authorization", bearer); resp.StatusCode != 200 || !strings.Contains(body, "Welcome") {
		t.Errorf("GET /api/notes with a token: got %d %q", resp.StatusCode, body)
	}
	if resp, body := send("GET", "/internal/debug", "", "", "Authorization", bearer); resp.StatusCode != 404 || strings.Contains(body, "next_id") {
		t.Errorf("undeclared debug page: got %d %q, want a neutral 404", resp.StatusCode, body)
	}
	if resp, body := send("POST", "/api/notes", "application/json", `{"text": 42}`, "Authorization", bearer); resp.StatusCode != 400 || !strings.Contains(body, "/text") {
		t.Errorf("invalid note: got %d %s, want 400 naming /text", resp.StatusCode, body)
	}
	if resp, _ := send("PUT", "/api/notes", "", "", "Authorization", bearer); resp.StatusCode != 405 {
		t.Errorf("PUT /api/notes: got %d, want 405", resp.StatusCode)
	}
	if resp, body := send("GET", "/api/crash", "", "", "Authorization", bearer); resp.StatusCode != 500 || strings.Contains(body, "notes.js") || !strings.Contains(body, "incident") {
		t.Errorf("GET /api/crash: got %d %q, want a neutral 500", resp.StatusCode, body)
	}
	resp, _ = send("POST", "/notes", "application/x-www-form-urlencoded", "text=x", "Origin", "https://evil.example")
	if resp.StatusCode != 403 {
		t.Errorf("cross-site form post: got %d, want 403", resp.StatusCode)
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Powered-By") != "" {
		t.Errorf("security headers missing or leaking headers present: %v", resp.Header)
	}
	// A browser is sent to the login page, which the demo user can use.
	if resp, _ := send("GET", "/", "", "", "Accept", "text/html"); resp.StatusCode != 200 && resp.StatusCode != 303 {
		t.Errorf("GET / in a browser: got %d", resp.StatusCode)
	}
	// Login protection: wrong passwords lock the account for this client.
	var last int
	for range 4 {
		resp, _ := send("POST", "/.rampart/login", "application/json", `{"username":"`+user+`","password":"definitely not the password"}`)
		last = resp.StatusCode
	}
	if last != 429 {
		t.Errorf("after repeated wrong passwords: got %d, want 429", last)
	}
}
