package token

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

func TestVerifiedCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newVerifiedCache(8)
	for i := range 100 {
		c.put(sha256.Sum256([]byte(fmt.Sprint(i))), &accessClaims{ID: fmt.Sprint(i)})
		if n := c.len(); n > 8 {
			t.Fatalf("after %d puts: got %d entries, want at most 8", i+1, n)
		}
	}
	last := sha256.Sum256([]byte("99"))
	if got := c.get(last); got == nil || got.ID != "99" {
		t.Errorf("newest entry: got %v, want it kept", got)
	}
	if got := c.get(sha256.Sum256([]byte("never"))); got != nil {
		t.Errorf("unknown key: got %v, want nil", got)
	}
}
