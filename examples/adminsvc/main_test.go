package main

import (
	"net/http/httptest"
	"testing"
)

func TestAdminService(t *testing.T) {
	t.Parallel()
	gw, err := newGateway()
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	tests := []struct {
		name, method, path, peer, xff string
		want                          int
	}{
		{"office reads stats", "GET", "/stats", "10.1.2.3", "", 200},
		{"internet refused", "GET", "/stats", "203.0.113.7", "", 403},
		{"spoofed X-Forwarded-For from the internet refused", "GET", "/stats", "203.0.113.7", "10.1.2.3", 403},
		{"through the load balancer, the real client decides", "GET", "/stats", "10.0.0.2", "203.0.113.7", 403},
		{"through the load balancer from the office", "GET", "/stats", "10.0.0.2", "10.1.2.3", 200},
		{"office cannot purge", "POST", "/cache/purge", "10.1.2.3", "", 403},
		{"operators purge", "POST", "/cache/purge", "10.20.0.9", "", 200},
		{"load balancer health check", "GET", "/healthz", "10.0.0.2", "", 200},
		{"office cannot probe health", "GET", "/healthz", "10.1.2.3", "", 403},
		{"undeclared route", "GET", "/debug/vars", "10.1.2.3", "", 404},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		r.Host = "admin.internal"
		r.RemoteAddr = tc.peer + ":40000"
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s: got %d, want %d: %s", tc.name, w.Code, tc.want, w.Body)
		}
	}
}
