package suggest_test

import (
	"testing"

	"github.com/rampartsec/rampart/internal/suggest"
)

func TestDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"max_body_byte", "max_body_bytes", 1}, {"scirpt-src", "script-src", 2}} {
		if got := suggest.Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q): got %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	t.Parallel()
	names := []string{"idle_timeout", "read_timeout", "write_timeout"}
	if got := suggest.Closest("idle_timout", names, 2); got != "idle_timeout" {
		t.Errorf("got %q, want idle_timeout", got)
	}
	if got := suggest.Closest("listen", names, 2); got != "" {
		t.Errorf("got %q, want no suggestion", got)
	}
}
