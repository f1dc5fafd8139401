package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
)

func TestAdminAccessInProduction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, admin, env string
		wantErr          string
	}{
		{"loopback needs nothing", "listen: 127.0.0.1:9090", "production", ""},
		{"localhost needs nothing", "listen: localhost:9090", "production", ""},
		{"off needs nothing", "listen: \"off\"", "production", ""},
		{"all interfaces without token", "listen: \":9090\"", "production", "admin.token_file"},
		{"public address without token", "listen: 10.0.0.5:9090", "production", "admin.token_file"},
		{"token", "listen: \":9090\"\n  token_file: /run/secrets/admin-token", "production", ""},
		{"token from the environment", "listen: \":9090\"\n  token: ${PATH}", "production", ""},
		{"client CA", "listen: \":9090\"\n  cert_file: a.pem\n  key_file: a.key\n  client_ca: ca.pem", "production", ""},
		{"development", "listen: \":9090\"", "development", ""},
		{"cert without key", "listen: 127.0.0.1:9090\n  cert_file: a.pem", "production", "admin.key_file"},
		{"client CA without TLS", "listen: 127.0.0.1:9090\n  client_ca: ca.pem", "production", "admin.client_ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "env: " + tc.env + "\nupstream: http://127.0.0.1:3000\nadmin:\n  " + tc.admin + "\n"
			c, err := config.Parse("rampart.yaml", []byte(src))
			if err == nil {
				err = c.AdminAccessError()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error naming %s", err, tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), "rampart.yaml:"):
				t.Errorf("error %q does not name the file and line", err)
			}
		})
	}
}

func TestEventsConfig(t *testing.T) {
	t.Setenv("RAMPART_TEST_HOOK", "hook-secret")
	src := `upstream: http://127.0.0.1:3000
events:
  ring_size: 500
  instance: edge-1
  webhooks:
    - url: https://siem.example.com/in
      headers:
        Authorization: "Bearer ${RAMPART_TEST_HOOK}"
      batch_size: 10
      flush_interval: 250ms
`
	c, err := config.Parse("rampart.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.Events.RingSize != 500 || c.Events.Instance != "edge-1" || len(c.Events.Webhooks) != 1 {
		t.Fatalf("got %+v", c.Events)
	}
	w := c.Events.Webhooks[0]
	if got := w.Headers["Authorization"]; got != "Bearer hook-secret" {
		t.Errorf("header: got %q, want the environment expanded", got)
	}
	if w.BatchSize != 10 || w.FlushInterval != 250*time.Millisecond {
		t.Errorf("got %+v", w)
	}

	for _, tc := range []struct{ name, events, key string }{
		{"ring too large", "ring_size: 2000000", "events.ring_size"},
		{"negative ring", "ring_size: -1", "events.ring_size"},
		{"webhook without url", "webhooks: [{batch_size: 5}]", "events.webhooks[0].url"},
		{"webhook not http", "webhooks: [{url: \"ftp://x/\"}]", "events.webhooks[0].url"},
		{"negative queue", "webhooks: [{url: \"http://x/\", queue_size: -1}]", "events.webhooks[0].queue_size"},
		{"missing env", "webhooks: [{url: \"http://x/\", headers: {X-Key: \"${RAMPART_TEST_UNSET_HOOK}\"}}]", "events.webhooks[0].headers"},
		{"unknown key", "webhook: []", "events.webhook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("rampart.yaml", []byte("upstream: http://127.0.0.1:3000\nevents:\n  "+tc.events+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("got %v, want an error naming %s", err, tc.key)
			}
		})
	}
}
