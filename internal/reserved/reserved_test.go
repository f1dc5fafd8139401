package reserved_test

import (
	"net/http"
	"testing"

	"github.com/rampartsec/rampart/internal/reserved"
)

func TestStrip(t *testing.T) {
	t.Parallel()
	n := reserved.New("X-Rampart-User", "", "x-rampart-user").With("X-Rampart-CSP-Nonce")
	h := http.Header{
		"X-Rampart-User":      {"a"},
		"X_rampart_user":      {"b"},
		"X_RAMPART_USER":      {"c"},
		"X-Rampart-Csp-Nonce": {"d"},
		"X_rampart_csp_nonce": {"e"},
		"X-Rampart-Users":     {"kept"},
		"Accept":              {"kept"},
	}
	n.Strip(h)
	if len(h) != 2 || h.Get("Accept") != "kept" || h.Get("X-Rampart-Users") != "kept" {
		t.Errorf("got %v, want only Accept and X-Rampart-Users left", h)
	}
	var zero reserved.Names
	zero.Strip(h)
	if len(h) != 2 {
		t.Error("the zero Names removed headers")
	}
}

func BenchmarkStrip(b *testing.B) {
	n := reserved.New("X-Rampart-User", "X-Rampart-Roles", "X-Rampart-Scopes", "X-Rampart-CSP-Nonce", "X-Rampart-CSRF-Token")
	h := http.Header{"Accept": {"*/*"}, "User-Agent": {"x"}, "Cookie": {"a=b"}, "Host": {"h"}}
	b.ReportAllocs()
	for b.Loop() {
		n.Strip(h)
	}
}
