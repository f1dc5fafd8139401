package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/config"
)

// TestSecretsFromTheEnvironmentAndFiles: store.redis and store.postgres
// expand ${NAME} from the environment and can be read from *_file; an
// unset variable, a missing file or both forms at once are errors naming
// the file, line and key.
func TestSecretsFromTheEnvironmentAndFiles(t *testing.T) {
	t.Setenv("RAMPART_TEST_SECRET", "s3cr3t")
	dir := t.TempDir()
	pgFile := filepath.Join(dir, "pg-url")
	if err := os.WriteFile(pgFile, []byte("postgres://rampart:filepw@db:5432/rampart\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(body string) string {
		path := filepath.Join(dir, "rampart.yaml")
		if err := os.WriteFile(path, []byte("env: development\nupstream: http://127.0.0.1:3000\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	c, err := config.Load(write("store:\n  redis: \"redis://:${RAMPART_TEST_SECRET}@127.0.0.1:6379/0\"\n  postgres_file: pg-url\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Redis != "redis://:s3cr3t@127.0.0.1:6379/0" {
		t.Errorf("store.redis: got %q, want the variable expanded", c.Store.Redis)
	}
	if c.Store.Postgres != "postgres://rampart:filepw@db:5432/rampart" {
		t.Errorf("store.postgres: got %q, want the file's content without its line break", c.Store.Postgres)
	}
	if keys := c.HoldsInlineSecret(); len(keys) != 0 {
		t.Errorf("HoldsInlineSecret: got %v, want none (the password is in the environment and a file)", keys)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"unset variable", "store: {redis: \"redis://:${RAMPART_TEST_UNSET}@h:6379/0\"}\n", "rampart.yaml:3: store.redis: environment variable RAMPART_TEST_UNSET is not set"},
		{"missing file", "store: {redis_file: nope}\n", "rampart.yaml:3: store.redis_file: cannot read the secret file"},
		{"both forms", "store: {postgres: \"postgres://x\", postgres_file: pg-url}\n", "store.postgres_file: set either store.postgres or store.postgres_file, not both"},
	} {
		_, err := config.Load(write(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error shows a secret: %v", tc.name, err)
		}
	}

	inline, err := config.Load(write("store: {redis: \"redis://:hunter2@127.0.0.1:6379/0\", postgres: \"postgres://r:pw@db/rampart\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := inline.HoldsInlineSecret(); len(got) != 2 {
		t.Errorf("HoldsInlineSecret: got %v, want store.redis and store.postgres", got)
	}
}
