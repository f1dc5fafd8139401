package config_test

import (
	"fmt"
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

// TestEverySecretFromTheEnvironment: the record key, the CSRF key, the
// admin token and OpenID Connect client secrets take ${NAME} too, exclude
// their *_file form, and count as inline secrets only when written out.
func TestEverySecretFromTheEnvironment(t *testing.T) {
	const storeKey = "0123456789abcdef0123456789abcdef-store"
	t.Setenv("RAMPART_TEST_STORE_KEY", storeKey)
	t.Setenv("RAMPART_TEST_CSRF_KEY", "0123456789abcdef0123456789abcdef-csrf")
	t.Setenv("RAMPART_TEST_ADMIN_TOKEN", "admin-token-0123456789")
	t.Setenv("RAMPART_TEST_OIDC_SECRET", "oidc-client-secret")
	t.Setenv("RAMPART_TEST_EMPTY", "")
	dir := t.TempDir()
	write := func(body string) string {
		path := filepath.Join(dir, "rampart.yaml")
		if err := os.WriteFile(path, []byte("env: development\nupstream: http://127.0.0.1:3000\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	login := `auth:
  issuers:
    - issuer: https://id.example.com
      jwks_url: https://id.example.com/jwks
      audience: rampart
      login:
        client_id: rampart
        client_secret: "%s"
        authorization_url: https://id.example.com/authorize
        token_url: https://id.example.com/token
        redirect_url: https://app.example.com/.rampart/oidc/callback
`
	c, err := config.Load(write(`store: {key: "${RAMPART_TEST_STORE_KEY}"}
csrf: {key: "${RAMPART_TEST_CSRF_KEY}"}
admin: {token: "${RAMPART_TEST_ADMIN_TOKEN}"}
` + fmt.Sprintf(login, "${RAMPART_TEST_OIDC_SECRET}")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, got, want string }{
		{"store.key", c.Store.Key, storeKey},
		{"csrf.key", c.CSRF.Key, "0123456789abcdef0123456789abcdef-csrf"},
		{"admin.token", c.Admin.Token, "admin-token-0123456789"},
		{"client_secret", c.Auth.Issuers[0].Login.ClientSecret, "oidc-client-secret"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.key, tc.got, tc.want)
		}
	}
	if keys := c.HoldsInlineSecret(); len(keys) != 0 {
		t.Errorf("HoldsInlineSecret: got %v, want none (every secret is in the environment)", keys)
	}

	// The same text as a variable and as a file is the same key: replicas
	// can move from one form to the other.
	keyFile := filepath.Join(dir, "store.key")
	if err := os.WriteFile(keyFile, []byte(storeKey), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := config.Load(write("store: {key_file: store.key}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ns1, k1, err1 := c.StoreNamespace()
	ns2, k2, err2 := fromFile.StoreNamespace()
	if err1 != nil || err2 != nil || ns1 != ns2 || string(k1) != string(k2) || string(k1) != storeKey {
		t.Errorf("StoreNamespace: env (%q, %v) and file (%q, %v) differ", ns1, err1, ns2, err2)
	}
	short, err := config.Load(write("store: {key: \"${RAMPART_TEST_OIDC_SECRET}\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := short.StoreNamespace(); err == nil || !strings.Contains(err.Error(), "rampart.yaml:3: store.key: the key must be at least 32 bytes") {
		t.Errorf("a short store.key: got %v, want an error naming the line and key", err)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"unset variable", "csrf: {key: \"${RAMPART_TEST_UNSET}\"}\n", "rampart.yaml:3: csrf.key: environment variable RAMPART_TEST_UNSET is not set"},
		{"empty variable", "admin: {token: \"${RAMPART_TEST_EMPTY}\"}\n", "rampart.yaml:3: admin.token: the environment variables it references are empty"},
		{"both store key forms", "store: {key: \"${RAMPART_TEST_STORE_KEY}\", key_file: store.key}\n", "store.key_file: set either store.key or store.key_file, not both"},
		{"both admin token forms", "admin: {token: \"${RAMPART_TEST_ADMIN_TOKEN}\", token_file: t}\n", "admin.token_file: set either admin.token or admin.token_file, not both"},
		{"both client secret forms", strings.Replace(fmt.Sprintf(login, "${RAMPART_TEST_OIDC_SECRET}"), "authorization_url", "client_secret_file: s\n        authorization_url", 1),
			"auth.issuers[0].login.client_secret_file: set either auth.issuers[0].login.client_secret or auth.issuers[0].login.client_secret_file, not both"},
	} {
		_, err := config.Load(write(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
		for _, secret := range []string{storeKey, "admin-token-0123456789", "oidc-client-secret"} {
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error shows a secret: %v", tc.name, err)
			}
		}
	}

	inline, err := config.Load(write(`store: {key: "0123456789abcdef0123456789abcdef-literal"}
csrf: {key: "prefix-${RAMPART_TEST_CSRF_KEY}"}
admin: {token: "${RAMPART_TEST_ADMIN_TOKEN}"}
` + fmt.Sprintf(login, "literal-client-secret")))
	if err != nil {
		t.Fatal(err)
	}
	got := inline.HoldsInlineSecret()
	want := []string{"store.key", "csrf.key", "auth.issuers[0].login.client_secret"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("HoldsInlineSecret: got %v, want %v (admin.token is only a reference)", got, want)
	}
}

// TestWebhookInlineSecrets: a webhook's URL password and its credential
// headers, written into the file, are inline secrets; references to the
// environment and ordinary headers are not.
func TestWebhookInlineSecrets(t *testing.T) {
	t.Setenv("RAMPART_TEST_HOOK_TOKEN", "hook-token-from-env")
	c, err := config.Parse("rampart.yaml", []byte(`upstream: http://127.0.0.1:3000
events:
  webhooks:
    - url: https://hooks:literal-password@siem.example/ingest
      headers: {Authorization: "Bearer literal-token", X-Api-Key: abc123, X-Source: rampart}
    - url: https://hooks:${RAMPART_TEST_HOOK_TOKEN}@siem.example/ingest
      headers: {Authorization: "Bearer ${RAMPART_TEST_HOOK_TOKEN}", X-Source: rampart}
    - url: https://siem.example/other
      headers: {proxy-authorization: "Basic dXNlcjpwYXNz", x-auth-token: t0ken, X-Signature: "${RAMPART_TEST_HOOK_TOKEN}", Cookie: "sid=abc", Accept: application/json}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.HoldsInlineSecret(), ",")
	want := "events.webhooks[0].url,events.webhooks[0].headers.Authorization,events.webhooks[0].headers.X-Api-Key," +
		"events.webhooks[2].headers.Cookie,events.webhooks[2].headers.proxy-authorization,events.webhooks[2].headers.x-auth-token"
	if got != want {
		t.Errorf("HoldsInlineSecret: got %s, want %s", got, want)
	}
	if h := c.Events.Webhooks[1].Headers["Authorization"]; h != "Bearer hook-token-from-env" {
		t.Errorf("the reference was not expanded: %q", h)
	}
}
