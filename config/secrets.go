package config

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// envRef is ${NAME} in a secret's value: an environment variable name.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// maxSecretFileBytes bounds a *_file secret.
const maxSecretFileBytes = 64 << 10

// secret is a setting that holds a credential, in two forms: written
// inline (with ${ENV} references expanded — the way to take it from the
// environment) or in a file named by its _file variant.
type secret struct {
	key, fileKey string
	value, file  *string
	// readFile makes the file's content the value at load (the store
	// URLs). Key and token files are read by what uses them, as raw bytes,
	// so that keys already in use keep working.
	readFile bool
	// url marks a URL or DSN, whose only secret part is its password.
	url bool
}

// secrets lists every setting that carries a credential: the store URLs,
// the record and CSRF keys, the admin token and the OpenID Connect client
// secrets. PEM keys (tls.key, auth.tokens.signing_key) are files only.
func (c *Config) secrets() []secret {
	out := []secret{
		{key: "store.redis", fileKey: "store.redis_file", value: &c.Store.Redis, file: &c.Store.RedisFile, readFile: true, url: true},
		{key: "store.postgres", fileKey: "store.postgres_file", value: &c.Store.Postgres, file: &c.Store.PostgresFile, readFile: true, url: true},
		{key: "store.key", fileKey: "store.key_file", value: &c.Store.Key, file: &c.Store.KeyFile},
		{key: "csrf.key", fileKey: "csrf.key_file", value: &c.CSRF.Key, file: &c.CSRF.KeyFile},
		{key: "admin.token", fileKey: "admin.token_file", value: &c.Admin.Token, file: &c.Admin.TokenFile},
	}
	for i := range c.Auth.Issuers {
		if l := c.Auth.Issuers[i].Login; l != nil {
			k := fmt.Sprintf("auth.issuers[%d].login.client_secret", i)
			out = append(out, secret{key: k, fileKey: k + "_file", value: &l.ClientSecret, file: &l.ClientSecretFile})
		}
	}
	return out
}

// resolveSecrets expands ${NAME} in the secret settings from the
// environment and reads the *_file variants that hold URLs, so a password
// need not be written into the configuration file. It records each
// setting as written, for HoldsInlineSecret. lookup is os.LookupEnv.
func (c *Config) resolveSecrets(lookup func(string) (string, bool)) Errors {
	var errs Errors
	c.rawSecret = map[string]string{}
	for _, s := range c.secrets() {
		c.rawSecret[s.key] = *s.value
		if *s.file != "" && *s.value != "" {
			errs = append(errs, c.Errorf(s.fileKey, "set either %s or %s, not both", s.key, s.fileKey))
			continue
		}
		if *s.file != "" {
			if !s.readFile {
				continue
			}
			v, err := readSecretFile(c.RelativePath(*s.file))
			if err != nil {
				errs = append(errs, c.Errorf(s.fileKey, "%v", err))
				continue
			}
			*s.value = v
			continue
		}
		if !strings.Contains(*s.value, "${") {
			continue
		}
		var missing []string
		*s.value = envRef.ReplaceAllStringFunc(*s.value, func(ref string) string {
			name := ref[2 : len(ref)-1]
			v, ok := lookup(name)
			if !ok {
				missing = append(missing, name)
			}
			return v
		})
		if len(missing) > 0 {
			errs = append(errs, c.Errorf(s.key, "environment variable %s is not set", strings.Join(missing, ", ")))
		} else if *s.value == "" {
			errs = append(errs, c.Errorf(s.key, "the environment variables it references are empty"))
		}
	}
	// Webhook URLs and header values (an Authorization header) may
	// reference the environment too.
	for i := range c.Events.Webhooks {
		w := &c.Events.Webhooks[i]
		key := fmt.Sprintf("events.webhooks[%d]", i)
		c.rawSecret[key+".url"] = w.URL
		if v, missing := expandEnv(w.URL, lookup); len(missing) > 0 {
			errs = append(errs, c.Errorf(key+".url", "environment variable %s is not set", strings.Join(missing, ", ")))
		} else {
			w.URL = v
		}
		for name, hv := range w.Headers {
			c.rawSecret[key+".headers."+name] = hv
			if v, missing := expandEnv(hv, lookup); len(missing) > 0 {
				errs = append(errs, c.Errorf(key+".headers", "%s: environment variable %s is not set", name, strings.Join(missing, ", ")))
			} else {
				w.Headers[name] = v
			}
		}
	}
	return errs
}

// expandEnv replaces ${NAME} in v from lookup, and lists the names that
// are not set.
func expandEnv(v string, lookup func(string) (string, bool)) (string, []string) {
	if !strings.Contains(v, "${") {
		return v, nil
	}
	var missing []string
	v = envRef.ReplaceAllStringFunc(v, func(ref string) string {
		name := ref[2 : len(ref)-1]
		got, ok := lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		return got
	})
	return v, missing
}

// readSecretFile reads a secret from path: its content without the final
// line break, as `echo … > file` writes it.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the secret file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("cannot read the secret file: %w", err)
	}
	if len(b) > maxSecretFileBytes {
		return "", fmt.Errorf("the secret file is larger than %d bytes", maxSecretFileBytes)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("the secret file %s is empty", path)
	}
	return v, nil
}

// HoldsInlineSecret reports whether the configuration file itself holds a
// credential: a password written into store.redis or store.postgres, or a
// key, token or client secret written out rather than referenced with
// ${ENV} or read from a *_file. The keys it found are returned, for audit
// config.
func (c *Config) HoldsInlineSecret() []string {
	var keys []string
	for _, s := range c.secrets() {
		raw := c.rawSecret[s.key]
		if raw == "" || *s.file != "" {
			continue
		}
		if s.url && hasPassword(raw) || !s.url && literal(raw) {
			keys = append(keys, s.key)
		}
	}
	// A webhook's URL may carry a password, and its headers a credential
	// for the receiver (Authorization, an API key).
	for i, w := range c.Events.Webhooks {
		key := fmt.Sprintf("events.webhooks[%d]", i)
		if hasPassword(c.rawSecret[key+".url"]) {
			keys = append(keys, key+".url")
		}
		names := make([]string, 0, len(w.Headers))
		for name := range w.Headers {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if credentialHeader(name) && literal(withoutScheme(c.rawSecret[key+".headers."+name])) {
				keys = append(keys, key+".headers."+name)
			}
		}
	}
	return keys
}

// literal reports whether raw, as written, holds something besides ${ENV}
// references.
func literal(raw string) bool {
	return strings.TrimSpace(envRef.ReplaceAllString(raw, "")) != ""
}

// withoutScheme drops the authentication scheme that starts a credential
// header's value ("Bearer ${TOKEN}" holds no secret of its own).
func withoutScheme(v string) string {
	v = strings.TrimSpace(v)
	scheme, rest, ok := strings.Cut(v, " ")
	if !ok {
		return v
	}
	switch strings.ToLower(scheme) {
	case "bearer", "basic", "token", "digest", "apikey", "api-key":
		return rest
	}
	return v
}

// credentialHeader reports whether a header of that name carries a
// credential: Authorization, Proxy-Authorization, or a name that says
// token, key, secret, password, signature or auth.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "token", "key", "secret", "password", "signature", "cookie"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// hasPassword reports whether a URL or key=value DSN, as written, carries
// a password that is not a ${ENV} reference.
func hasPassword(raw string) bool {
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		userinfo, _, found := strings.Cut(rest, "@")
		if !found || strings.ContainsAny(userinfo, "/") {
			return false
		}
		_, pw, ok := strings.Cut(userinfo, ":")
		return ok && pw != "" && !envRef.MatchString(pw)
	}
	for _, f := range strings.Fields(raw) {
		if v, ok := strings.CutPrefix(f, "password="); ok && v != "" && !envRef.MatchString(v) {
			return true
		}
	}
	return false
}
