package config

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// envRef is ${NAME} in a secret's value: an environment variable name.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// maxSecretFileBytes bounds a *_file secret.
const maxSecretFileBytes = 64 << 10

// secret is a setting that may hold a password: written inline (with
// ${ENV} references expanded) or read from a file named by its _file
// variant.
type secret struct {
	key, fileKey string
	value, file  *string
}

// secrets lists the settings that can carry credentials. Keys and other
// secrets that are files already (store.key_file, auth.tokens.signing_key,
// csrf.key_file, admin.token_file, client_secret_file) need no variant.
func (c *Config) secrets() []secret {
	return []secret{
		{"store.redis", "store.redis_file", &c.Store.Redis, &c.Store.RedisFile},
		{"store.postgres", "store.postgres_file", &c.Store.Postgres, &c.Store.PostgresFile},
	}
}

// resolveSecrets expands ${NAME} in the secret settings from the
// environment and reads the *_file variants, so a password need not be
// written into the configuration file. lookup is os.LookupEnv.
func (c *Config) resolveSecrets(lookup func(string) (string, bool)) Errors {
	var errs Errors
	for _, s := range c.secrets() {
		if *s.file != "" {
			if *s.value != "" {
				errs = append(errs, c.Errorf(s.fileKey, "set either %s or %s, not both", s.key, s.fileKey))
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
		}
	}
	// Webhook URLs and header values (an Authorization header) may
	// reference the environment too.
	for i := range c.Events.Webhooks {
		w := &c.Events.Webhooks[i]
		key := fmt.Sprintf("events.webhooks[%d]", i)
		if v, missing := expandEnv(w.URL, lookup); len(missing) > 0 {
			errs = append(errs, c.Errorf(key+".url", "environment variable %s is not set", strings.Join(missing, ", ")))
		} else {
			w.URL = v
		}
		for name, hv := range w.Headers {
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
// credential: a password written into store.redis or store.postgres
// rather than referenced with ${ENV} or read from a *_file. The keys it
// found are returned, for audit config.
func (c *Config) HoldsInlineSecret() []string {
	var keys []string
	for _, s := range c.secrets() {
		raw := c.rawSecret[s.key]
		if raw == "" || *s.file != "" {
			continue
		}
		if hasPassword(raw) {
			keys = append(keys, s.key)
		}
	}
	return keys
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
