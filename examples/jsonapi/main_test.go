package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestJSONAPI(t *testing.T) {
	t.Parallel()
	const pw = "a test password for the demo"
	gw, err := newGateway(t.TempDir(), pw)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	srv := httptest.NewServer(gw)
	defer srv.Close()
	call := func(method, path, token, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := call("POST", "/.rampart/token", "", `{"username":"demo","password":"`+pw+`"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var pair struct {
		Access string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &pair); err != nil || pair.Access == "" {
		t.Fatalf("token body %s: %v", body, err)
	}
	tests := []struct {
		name, method, path, token, body string
		want                            int
		contains                        string
	}{
		{"no token", "GET", "/notes/1", "", "", 401, ""},
		{"forged token", "GET", "/notes/1", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZW1vIn0.", "", 401, ""},
		{"read", "GET", "/notes/1", pair.Access, "", 200, `"owner":"demo"`},
		{"create", "POST", "/notes", pair.Access, `{"title":"hello"}`, 201, `"owner":"demo"`},
		{"unknown field refused", "POST", "/notes", pair.Access, `{"title":"hello","admin":true}`, 400, ""},
		{"empty title refused", "POST", "/notes", pair.Access, `{"title":""}`, 400, ""},
		{"undeclared method", "DELETE", "/notes/1", pair.Access, "", 405, ""},
		{"undeclared route", "GET", "/admin", pair.Access, "", 404, ""},
	}
	for _, tc := range tests {
		resp, body := call(tc.method, tc.path, tc.token, tc.body)
		if resp.StatusCode != tc.want || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: got %d %s, want %d with %q", tc.name, resp.StatusCode, body, tc.want, tc.contains)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no security headers", tc.name)
		}
	}
}
