package config_test

import (
	"testing"

	"github.com/rampartsec/rampart/config"
)

// FuzzParse checks that no input, however malformed, makes Parse panic, and
// that every error it returns names the file.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"upstream: http://127.0.0.1:3000\n",
		"env: development\nlisten: ':8080'\nupstream: [http://a, http://b]\nlimits: {max_body_bytes: 1MiB, idle_timeout: 1d}\n",
		"routes:\n  - match: 'GET /a/{id}'\n    max_body_bytes: 1KiB\n",
		"a: &x [1, 2]\nb: *x\n",
		"trusted_proxies: ['::ffff:10.0.0.0/104', 10.0.0.1]\n",
		"{",
		"- - - -",
		"log: {access: true, level: debug}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("f.yaml", data)
		if err == nil {
			if c == nil {
				t.Fatal("nil config without error")
			}
			if verr := c.Validate(); verr != nil {
				t.Fatalf("parsed config fails Validate: %v", verr)
			}
			return
		}
		if msg := err.Error(); len(msg) < 6 || msg[:6] != "f.yaml" {
			t.Fatalf("error does not name the file: %q", msg)
		}
	})
}
