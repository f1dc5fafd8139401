package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/selftest"
)

// TestSelftestDemoHolds runs the whole corpus against the configuration
// `rampart demo` serves: every case holds.
func TestSelftestDemoHolds(t *testing.T) {
	cfg, err := demoConfig("http://127.0.0.1:9", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := selftest.Run(ctx, cfg, selftest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_ = rep.WriteTable(&out)
	if rep.Failed > 0 || rep.Run < 500 {
		t.Fatalf("got %d failures of %d run, want every case held:\n%s", rep.Failed, rep.Run, out.String())
	}
	for _, c := range rep.Classes {
		for _, s := range c.Skips {
			t.Errorf("%s/%s on %s was not judged: %s", c.Name, s.Case, s.Target, s.Skipped)
		}
	}
	t.Logf("%d cases in %.1fs", rep.Run, rep.Seconds)
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	c := newCLI(strings.NewReader(""), &o, &e, func(string) string { return "" })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code = c.main(ctx, args)
	return code, o.String(), e.String()
}

func TestSelftestCLI(t *testing.T) {
	dir := t.TempDir()
	weak := filepath.Join(dir, "weak.yaml")
	if err := os.WriteFile(weak, []byte(`upstream: http://127.0.0.1:9
env: development
cors: {origins: ["*"]}
routes:
  - match: "GET /api/{path...}"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(`upstream: http://127.0.0.1:9
env: development
cors: {origins: ["https://app.example.com"]}
routes:
  - match: "GET /api/{path...}"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("upstream: http://127.0.0.1:9\nroutes:\n  - match: \"GET /a\"\n    auth: sometimes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no config", []string{"selftest"}, 2, "", "selftest needs a configuration"},
		{"unknown class", []string{"selftest", "--config", good, "--only", "path-confusion,nope"}, 2, "", `unknown class "nope"`},
		{"unknown format", []string{"selftest", "--config", good, "--format", "xml"}, 2, "", `unknown format "xml"`},
		{"unknown severity", []string{"selftest", "--config", good, "--fail-on", "urgent"}, 2, "", `unknown severity "urgent"`},
		{"unsafe without target", []string{"selftest", "--config", good, "--unsafe"}, 2, "", "apply to --target only"},
		{"invalid config", []string{"selftest", "--config", bad}, 2, "", "bad.yaml:4: routes[0].auth"},
		{"foreign target", []string{"selftest", "--config", good, "--target", "http://192.0.2.1:8080"}, 2, "", "--i-own-this-target"},
		{"held", []string{"selftest", "--config", good, "--only", "cors-origin"}, 0, "every case held", ""},
		{"failed", []string{"selftest", "--config", weak, "--only", "cors-origin"}, 1, "cors-any-origin", ""},
		{"failed below threshold", []string{"selftest", "--config", weak, "--only", "cors-origin", "--fail-on", "critical"}, 0, "FAIL cors-origin/", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("got exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
	code, stdout, _ := runCLI(t, "selftest", "--config", weak, "--only", "cors-origin", "--format", "json")
	var rep struct {
		Classes []struct {
			Class  string `json:"class"`
			Run    int    `json:"run"`
			Failed int    `json:"failed"`
		} `json:"classes"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 1 || len(rep.Classes) != 1 || rep.Classes[0].Failed == 0 {
		t.Errorf("--format json: exit %d, %v, %+v", code, err, rep)
	}
}
