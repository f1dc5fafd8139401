package auth_test

import (
	"strings"
	"testing"

	"github.com/rampartsec/rampart/auth"
)

// TestAccountReason: the account a refused sign-in named joins the reason
// as one escaped word, so a crafted name cannot add words or fields.
func TestAccountReason(t *testing.T) {
	t.Parallel()
	tests := []struct{ reason, account, want string }{
		{"throttled", "", "throttled"},
		{"throttled", "alice", "throttled account=alice"},
		{"invalid_credentials", "bob@example.com", "invalid_credentials account=bob%40example.com"},
		{"throttled", "x rule=evil", "throttled account=x+rule%3Devil"},
		{"throttled", "a\nb", "throttled account=a%0Ab"},
		{"throttled", strings.Repeat("é", 40), "throttled account=" + strings.Repeat("%C3%A9", 32)},
	}
	for _, tc := range tests {
		got := auth.AccountReason(tc.reason, tc.account)
		if got != tc.want {
			t.Errorf("AccountReason(%q, %q) = %q, want %q", tc.reason, tc.account, got, tc.want)
		}
		if n := len(strings.Fields(got)); n > 2 {
			t.Errorf("AccountReason(%q, %q) = %q: %d words", tc.reason, tc.account, got, n)
		}
	}
}
