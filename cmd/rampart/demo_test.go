package main

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// TestDemo runs the real `rampart demo` and checks that the notes app is
// served through the gateway and that undeclared paths are refused.
func TestDemo(t *testing.T) {
	t.Parallel()
	listen := testutil.FreeAddr(t)
	cmd := exec.Command(rampartBinary(t), "demo", "--listen", listen, "--admin", "off")
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
	status := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := status("GET", "/api/notes"); code != 200 || !strings.Contains(body, "Welcome") {
		t.Errorf("GET /api/notes: got %d %q", code, body)
	}
	if code, body := status("GET", "/"); code != 200 || !strings.Contains(body, "<form") {
		t.Errorf("GET /: got %d", code)
	} else if !strings.Contains(body, "Notes") {
		t.Errorf("page: %q", body)
	}
	if code, body := status("GET", "/internal/debug"); code != 404 || strings.Contains(body, "next_id") {
		t.Errorf("undeclared debug page: got %d %q, want a neutral 404", code, body)
	}
	req0, _ := http.NewRequest("POST", base+"/api/notes", strings.NewReader(`{"text": 42}`))
	req0.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req0); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), "/text") {
			t.Errorf("invalid note: got %d %s, want 400 naming /text", resp.StatusCode, b)
		}
	}
	if code, _ := status("PUT", "/api/notes"); code != 405 {
		t.Errorf("PUT /api/notes: got %d, want 405", code)
	}
	if code, body := status("GET", "/api/crash"); code != 500 || strings.Contains(body, "notes.js") || !strings.Contains(body, "incident") {
		t.Errorf("GET /api/crash: got %d %q, want a neutral 500", code, body)
	}
	req, _ := http.NewRequest("POST", base+"/notes", strings.NewReader("text=x"))
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("cross-site form post: got %d, want 403", resp.StatusCode)
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Powered-By") != "" {
		t.Errorf("security headers missing or leaking headers present: %v", resp.Header)
	}
}
