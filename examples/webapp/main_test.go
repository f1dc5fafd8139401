package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestWebApp(t *testing.T) {
	t.Parallel()
	const pw = "a test password for the demo"
	gw, err := newGateway(t.TempDir(), pw)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	srv := httptest.NewServer(gw)
	defer srv.Close()
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client := &http.Client{CheckRedirect: noRedirect}
	var cookies []*http.Cookie
	send := func(method, path string, form url.Values, hdr ...string) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, srv.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept", "text/html")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		for _, c := range cookies {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		cookies = append(cookies, resp.Cookies()...)
		return resp, string(b)
	}
	sameSite := []string{"Origin", srv.URL, "Sec-Fetch-Site", "same-origin"}

	// Signed out: the browser is sent to the login page.
	if resp, _ := send("GET", "/", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/.rampart/login") {
		t.Fatalf("signed out: got %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ := send("POST", "/.rampart/login", url.Values{"username": {"demo"}, "password": {pw}}, sameSite...)
	if resp.StatusCode/100 != 3 {
		t.Fatalf("login: got %d", resp.StatusCode)
	}
	resp, body := send("GET", "/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Signed in as demo") {
		t.Fatalf("notes page: got %d %s", resp.StatusCode, body)
	}
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token rendered: %s", body)
	}
	// The form post with the rendered token is accepted.
	if resp, body := send("POST", "/notes", url.Values{"text": {"first note"}, "csrf_token": {m[1]}}, sameSite...); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form post: got %d %s", resp.StatusCode, body)
	}
	if _, body := send("GET", "/", nil); !strings.Contains(body, "first note") {
		t.Errorf("the note was not saved: %s", body)
	}
	// Without the token, or from another site, it is refused.
	if resp, _ := send("POST", "/notes", url.Values{"text": {"forged"}}, sameSite...); resp.StatusCode != 403 {
		t.Errorf("post without a token: got %d, want 403", resp.StatusCode)
	}
	if resp, _ := send("POST", "/notes", url.Values{"text": {"forged"}, "csrf_token": {m[1]}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
		t.Errorf("cross-site post: got %d, want 403", resp.StatusCode)
	}
}
