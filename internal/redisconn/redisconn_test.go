package redisconn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/redisconn"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		ok        bool
	}{
		{"plain", "redis://127.0.0.1:6379/0", true},
		{"tls with password", "rediss://user:pw@redis.example:6380/2", true},
		{"empty", "", false},
		{"wrong scheme keeps the password out", "http://user:hunter2@host", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := redisconn.Open(tc.url, 50*time.Millisecond)
			if (err == nil) != tc.ok {
				t.Fatalf("got error %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if strings.Contains(err.Error(), "hunter2") || !strings.HasPrefix(err.Error(), "redisconn: ") {
					t.Errorf("got %q", err)
				}
				return
			}
			defer c.Close()
			o := c.Options()
			if o.ReadTimeout != 50*time.Millisecond || o.MaxRetries > 0 || o.DialTimeout < o.ReadTimeout {
				t.Errorf("got read timeout %v, retries %d, dial timeout %v", o.ReadTimeout, o.MaxRetries, o.DialTimeout)
			}
		})
	}
}
