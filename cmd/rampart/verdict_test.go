package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// head is the start of every case: production, loopback listeners on
// random ports, so that a configuration serve wrongly accepted would not
// collide with anything.
const head = "env: production\nlisten: \"127.0.0.1:0\"\nadmin: {listen: \"off\"}\n"

// up is a valid upstream line.
const up = "upstream: http://127.0.0.1:9\n"

// badConfigs are configurations serve must refuse; audit config must call
// each of them an error, with the same words. Files named in files are
// created beside the configuration first.
var badConfigs = []struct {
	name, yaml string
	files      map[string]string
}{
	{name: "no upstream", yaml: head},
	{name: "env misspelt", yaml: "env: prodution\nlisten: \"127.0.0.1:0\"\nadmin: {listen: \"off\"}\n" + up},
	{name: "unknown key", yaml: head + "upstrem: http://127.0.0.1:9\n"},
	{name: "unknown nested key", yaml: head + up + "limits: {max_body: 1MiB}\n"},
	{name: "wrong type", yaml: head + up + "limits: {max_body_bytes: [1]}\n"},
	{name: "duration without unit", yaml: head + up + "limits: {idle_timeout: 5}\n"},
	{name: "bad listen", yaml: "env: production\nlisten: \"8080\"\nadmin: {listen: \"off\"}\n" + up},
	{name: "bad admin listen", yaml: "env: production\nlisten: \"127.0.0.1:0\"\nadmin: {listen: \"nine\"}\n" + up},
	{name: "tls without key", yaml: head + up + "tls: {cert: a.pem}\n"},
	{name: "tls files missing", yaml: head + up + "tls: {cert: missing.crt, key: missing.key}\n"},
	{name: "client ip header", yaml: head + up + "client_ip_header: X-Client\n"},
	{name: "redis URL", yaml: head + up + "store: {redis: \"http://cache:6379\"}\n"},
	{name: "postgres URL", yaml: head + up + "store: {postgres: \"mysql://db\"}\n"},
	{name: "session cache too long", yaml: head + up + "store: {redis: \"redis://127.0.0.1:1\", session_cache: 5m}\n"},
	{name: "duplicate route", yaml: head + up + "routes: [{match: \"GET /a\"}, {match: \"GET /a\"}]\n"},
	{name: "bad route pattern", yaml: head + up + "routes: [{match: \"GET a\"}]\n"},
	{name: "route auth without auth", yaml: head + up + "routes: [{match: \"/\", auth: required}]\n"},
	{name: "log format", yaml: head + up + "log: {format: xml}\n"},
	{name: "log level", yaml: head + up + "log: {level: loud}\n"},
	{name: "header bytes", yaml: head + up + "limits: {max_header_bytes: 10}\n"},
	{name: "sessions without absolute timeout", yaml: head + up + "auth: {sessions: {idle_timeout: 30m}}\n"},
	{name: "sessions without idle timeout", yaml: head + up + "auth: {sessions: {absolute_timeout: 8h}}\n"},
	{name: "insecure session cookie", yaml: head + up + "auth: {sessions: {idle_timeout: 30m, absolute_timeout: 8h, unsafe_insecure_cookie: true}}\n"},
	{name: "tokens without signing key", yaml: head + up + "auth: {tokens: {access_ttl: 5m, refresh_ttl: 24h}}\n"},
	{name: "openapi file missing", yaml: head + up + "openapi: missing.yaml\n"},
	{name: "body schema file missing", yaml: head + up + "routes:\n  - match: \"POST /items\"\n    validate: {body_schema: missing.json}\n"},
	{name: "cors any origin with credentials", yaml: head + up + "cors: {origins: [\"*\"], credentials: true}\n"},
	{name: "cors origin with path", yaml: head + up + "cors: {origins: [\"https://app.example.com/x\"]}\n"},
	{name: "cors pattern over co.uk", yaml: head + up + "cors: {origins: [\"https://*.co.uk\"]}\n"},
	{name: "csrf pattern over com.au", yaml: head + up + "csrf: {trusted_origins: [\"https://*.com.au\"]}\n"},
	{name: "route cors pattern over public suffix", yaml: head + up + "routes:\n  - match: \"GET /api\"\n    cors: {origins: [\"https://*.com\"]}\n"},
	{name: "csrf key file missing", yaml: head + up + "csrf: {key_file: missing.key}\n"},
	{name: "csrf key too short", yaml: head + up + "csrf: {key_file: short.key}\n", files: map[string]string{"short.key": "0123456789"}},
	{name: "trust every proxy", yaml: head + up + "trusted_proxies: [0.0.0.0/0]\n"},
	{name: "trust two halves", yaml: head + up + "trusted_proxies: [0.0.0.0/1, 128.0.0.0/1]\n"},
	{name: "trust four quarters", yaml: head + up + "trusted_proxies: [0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/2, 192.0.0.0/2]\n"},
	{name: "trust all public IPv6", yaml: head + up + "trusted_proxies: [\"2000::/3\"]\n"},
	{name: "pprof on a public admin listener", yaml: "env: production\nlisten: \"127.0.0.1:0\"\nadmin: {listen: \"0.0.0.0:0\", pprof: true}\n" + up},
	{name: "upstream is the gateway", yaml: "env: production\nlisten: \"127.0.0.1:18080\"\nadmin: {listen: \"off\"}\nupstream: http://localhost:18080\n"},
	{name: "http origin with credentials", yaml: head + up + "cors: {origins: [\"http://app.example.com\"], credentials: true}\n"},
	{name: "http login redirect", yaml: head + up + "auth:\n  sessions: {idle_timeout: 30m, absolute_timeout: 8h}\n  login: {redirect_origins: [\"http://app.example.com\"]}\n"},
	{name: "shared hosting with credentials", yaml: head + up + "cors: {origins: [\"https://*.github.io\"], credentials: true}\n"},
	{name: "csrf over shared hosting", yaml: head + up + "csrf: {trusted_origins: [\"https://*.vercel.app\"]}\n"},
	{name: "ip list file missing", yaml: head + up + "allow: {ips_file: missing.txt}\n"},
	{name: "bad upstream in a list", yaml: head + "upstream: [http://127.0.0.1:9, \"ftp://x\"]\n"},
	{name: "one route, several mistakes", yaml: head + up + "routes:\n  - match: \"POST /a\"\n    validate: {body_schema: missing.json}\n    cors: {origins: [\"https://*.co.uk\"]}\n    allow_ips_file: missing.txt\n"},
	{name: "several auth methods wrong", yaml: head + up + "auth:\n  sessions: {idle_timeout: 30m}\n  tokens: {access_ttl: 5m, refresh_ttl: 24h, signing_key: nokey.pem}\n"},
	{name: "two documents", yaml: head + up + "---\nenv: development\n"},
	{name: "empty file", yaml: ""},
	{name: "yaml syntax", yaml: head + up + "cors: {origins: [\n"},
	{name: "top level list", yaml: "- env\n"},
	{name: "several stages at once", yaml: "env: prodution\nlisten: \"127.0.0.1:0\"\nadmin: {listen: \"off\"}\n" + up +
		"auth: {sessions: {idle_timeout: 30m}}\ncors: {origins: [\"*\"], credentials: true}\nopenapi: missing.yaml\n"},
}

// TestServeAndAuditConfigAgree holds `rampart audit config` and `rampart
// serve --config` to one verdict, on the real binary: every configuration
// serve refuses is an error (exit 2) of audit config, with identical lines.
func TestServeAndAuditConfigAgree(t *testing.T) {
	bin := testutil.BuildRampart(t)
	if len(badConfigs) < 40 {
		t.Fatalf("only %d cases", len(badConfigs))
	}
	for _, tc := range badConfigs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, body := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			file := filepath.Join(dir, "rampart.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			auditCode, auditErr := runBinary(t, bin, dir, "audit", "config", file)
			serveCode, serveErr := runBinary(t, bin, dir, "serve", "--config", file)
			if serveCode != exitUsage {
				t.Fatalf("serve: exit %d, want %d (refused)\n%s", serveCode, exitUsage, serveErr)
			}
			if auditCode != exitUsage {
				t.Fatalf("audit config: exit %d, want %d: serve refuses this file\nserve:\n%s\naudit:\n%s", auditCode, exitUsage, serveErr, auditErr)
			}
			a, s := errorLines(auditErr), errorLines(serveErr)
			if len(s) == 0 {
				t.Fatalf("serve printed no error line:\n%s", serveErr)
			}
			if !slices.Equal(a, s) {
				t.Fatalf("different words:\nserve:\n%s\naudit config:\n%s", strings.Join(s, "\n"), strings.Join(a, "\n"))
			}
			for _, l := range strings.Split(strings.TrimSpace(auditErr), "\n") {
				if !strings.HasPrefix(l, "rampart: error: ") && !strings.HasPrefix(l, "rampart: hint: ") {
					t.Errorf("line without the error prefix: %q", l)
				}
				if strings.HasPrefix(l, "rampart: error: ") && !strings.HasPrefix(l, "rampart: error: "+file) {
					t.Errorf("error line without the file: %q", l)
				}
				for _, doubled := range []string{"cors: cors:", "csrf: csrf:", "session: session:", ": session:", ": cors: ", ": csrf: ", "gateway:"} {
					if strings.Contains(l, doubled) {
						t.Errorf("Go package wording %q in %q", doubled, l)
					}
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "rampart.db")); err == nil {
				t.Errorf("a refused configuration created rampart.db")
			}
		})
	}
}

// TestAllAtOnce asserts that one run reports the mistakes of every stage:
// decoding, validation, each policy's constructor and the production guard.
func TestAllAtOnce(t *testing.T) {
	bin := testutil.BuildRampart(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "rampart.yaml")
	yaml := "env: prodution\n" + // validation
		"listen: \"127.0.0.1:0\"\n" +
		"admin: {listen: \"off\"}\n" +
		up +
		"limits: {idle_timeout: 5}\n" + // decoding
		"trusted_proxies: [0.0.0.0/1, 128.0.0.0/1]\n" + // the guard
		"auth: {sessions: {idle_timeout: 30m}}\n" + // the session policy
		"cors: {origins: [\"https://*.co.uk\"]}\n" + // the CORS policy
		"routes:\n  - match: \"POST /items\"\n    validate: {body_schema: missing.json}\n" + // a route's validator
		"    cors: {origins: [\"https://*.com.au\"]}\n" // and its CORS policy
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"audit", "config", file}, {"serve", "--config", file}} {
		code, stderr := runBinary(t, bin, dir, args...)
		if code != exitUsage {
			t.Fatalf("%v: exit %d, want %d", args, code, exitUsage)
		}
		for _, want := range []string{":1: env: ", ":5: limits.idle_timeout: ", ":6: trusted_proxies: ", ":7: auth.sessions: ", ":8: cors.origins[0]: ", ":11: routes[0].validate", ":12: routes[0].cors.origins[0]: "} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: no %q in one run:\n%s", args, want, stderr)
			}
		}
	}
}

// runBinary runs the rampart binary in dir with a bounded time and returns
// its exit code and standard error.
func runBinary(t *testing.T, bin, dir string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, ".cache"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("rampart %v did not exit: it started serving a configuration it must refuse\n%s", args, stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// errorLines returns the "rampart: error: " lines of out.
func errorLines(out string) []string {
	var lines []string
	for l := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(l, "rampart: error: ") {
			lines = append(lines, l)
		}
	}
	return lines
}
