package selftest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/selftest"
)

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, file string) *config.Config {
	t.Helper()
	c, errs := config.Read(file)
	if len(errs) > 0 {
		t.Fatalf("config: %v", errs)
	}
	return c
}

func run(t *testing.T, c *config.Config, classes ...string) *selftest.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := selftest.Run(ctx, c, selftest.Options{Classes: classes})
	if err != nil {
		t.Fatalf("selftest: %v", err)
	}
	return rep
}

func class(t *testing.T, rep *selftest.Report, name string) selftest.ClassResult {
	t.Helper()
	for _, c := range rep.Classes {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no class %s in the report", name)
	return selftest.ClassResult{}
}

func table(rep *selftest.Report) string {
	var b bytes.Buffer
	_ = rep.WriteTable(&b)
	return b.String()
}

// TestExampleHolds runs the whole corpus against rampart.example.yaml:
// every case holds, every class attacks something, and no case is left
// unjudged.
func TestExampleHolds(t *testing.T) {
	start := time.Now()
	rep := run(t, read(t, "../rampart.example.yaml"))
	took := time.Since(start)
	if rep.Failed > 0 {
		t.Fatalf("got %d failures, want none:\n%s", rep.Failed, table(rep))
	}
	for _, c := range rep.Classes {
		if c.Run == 0 {
			t.Errorf("class %s ran no case (%s)", c.Name, c.NotApplicable)
		}
		for _, s := range c.Skips {
			t.Errorf("%s/%s on %s was not judged: %s", c.Name, s.Case, s.Target, s.Skipped)
		}
	}
	if rep.Run < 1000 {
		t.Errorf("got %d cases run, want the corpus instantiated on every target (over 1000)", rep.Run)
	}
	t.Logf("%d cases run in %s", rep.Run, took)
	if !testutil.RaceEnabled && took > 30*time.Second {
		t.Errorf("the run took %s; the corpus must stay fast enough for every deploy", took)
	}
}

// TestCorpus keeps the built-in corpus at its promised size: at least 250
// cases over at least 10 classes, each naming its source.
func TestCorpus(t *testing.T) {
	c, err := selftest.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	classes, cases := c.Count()
	if classes < 10 || cases < 250 {
		t.Errorf("got %d cases over %d classes, want at least 250 over 10", cases, classes)
	}
	for _, cl := range c.Classes {
		if cl.Title == "" || cl.Summary == "" || cl.Fix.Setting == "" {
			t.Errorf("class %s needs a title, a summary and a fix", cl.Name)
		}
		for _, cs := range cl.Cases {
			if cs.Source == "" || cs.Note == "" {
				t.Errorf("%s/%s needs a source and a note", cl.Name, cs.ID)
			}
		}
	}
}

func TestSelectUnknownClass(t *testing.T) {
	c, err := selftest.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select([]string{"path-confusion", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("got %v, want an error naming the unknown class", err)
	}
}

// weakened writes a configuration and returns it parsed.
func weakened(t *testing.T, yaml string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "rampart.yaml")
	write(t, file, "upstream: http://127.0.0.1:9\nadmin: {listen: \"off\"}\n"+yaml)
	return read(t, file)
}

// failsWith asserts that the class failed and that every failure names
// the rule.
func failsWith(t *testing.T, rep *selftest.Report, name, rule string) {
	t.Helper()
	c := class(t, rep, name)
	if c.Failed == 0 {
		t.Fatalf("class %s: got no failure, want the weakening found:\n%s", name, table(rep))
	}
	for _, f := range c.Failures {
		if !slices.Contains(f.Fix.Rules, rule) {
			t.Errorf("%s/%s: fix %v does not name %s", name, f.Case, f.Fix.Rules, rule)
		}
		if f.Request == "" || f.Reason == "" || f.Fix.Setting == "" {
			t.Errorf("%s/%s: a failure needs the request, the reason and the fix: %+v", name, f.Case, f)
		}
	}
	if !strings.Contains(table(rep), rule) {
		t.Errorf("the table does not name %s", rule)
	}
}

func TestWeakenedTrustedProxies(t *testing.T) {
	c := weakened(t, `
env: development
trusted_proxies: ["0.0.0.0/0", "::/0"]
routes:
  - match: "GET /public/{path...}"
  - match: "/internal/{path...}"
    allow_ips: ["10.0.0.0/8"]
`)
	rep := run(t, c, "forwarded-spoof")
	failsWith(t, rep, "forwarded-spoof", "trusted-proxies-everything")
	// The same setup with only the load balancer trusted holds.
	c = weakened(t, `
env: development
trusted_proxies: ["10.9.0.0/16"]
routes:
  - match: "GET /public/{path...}"
  - match: "/internal/{path...}"
    allow_ips: ["10.0.0.0/8"]
`)
	if rep := run(t, c, "forwarded-spoof"); rep.Failed > 0 || rep.Run == 0 {
		t.Errorf("narrow trusted_proxies: got %d failures of %d, want every case held:\n%s", rep.Failed, rep.Run, table(rep))
	}
}

const sessions = `
env: development
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
routes:
  - match: "GET /{$}"
    auth: none
  - match: "POST /api/notes"
`

func TestWeakenedCSRFOff(t *testing.T) {
	rep := run(t, weakened(t, sessions+"csrf: {mode: \"off\"}\n"), "csrf")
	failsWith(t, rep, "csrf", "csrf-off")
	if rep := run(t, weakened(t, sessions), "csrf"); rep.Failed > 0 || rep.Run == 0 {
		t.Errorf("csrf on: got %d failures of %d, want every case held:\n%s", rep.Failed, rep.Run, table(rep))
	}
}

func TestWeakenedCatchAllBesideAdmin(t *testing.T) {
	rep := run(t, weakened(t, `
env: development
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
routes:
  - match: "/{path...}"
    auth: none
  - match: "/admin/{path...}"
    roles: [admin]
`), "path-confusion")
	failsWith(t, rep, "path-confusion", "routes-undeclared")
	c := class(t, rep, "path-confusion")
	var cases []string
	for _, f := range c.Failures {
		cases = append(cases, f.Case)
	}
	if !slices.Contains(cases, "upper-first-segment") {
		t.Errorf("failed cases %v, want upper-first-segment among them (/ADMIN/… reaches the catch-all)", cases)
	}
}

func TestWeakenedWildcardOrigin(t *testing.T) {
	rep := run(t, weakened(t, `
env: development
cors: {origins: ["*"]}
routes:
  - match: "GET /api/{path...}"
`), "cors-origin")
	failsWith(t, rep, "cors-origin", "cors-any-origin")
	if rep := run(t, weakened(t, "env: development\ncors: {origins: [\"https://app.example.com\"]}\nroutes:\n  - match: \"GET /api/{path...}\"\n"), "cors-origin"); rep.Failed > 0 || rep.Run == 0 {
		t.Errorf("exact origin: got %d failures of %d, want every case held:\n%s", rep.Failed, rep.Run, table(rep))
	}
}

// TestWeakenedIssuerWithoutAudience: an issuer cannot be configured
// without an audience, so the selftest refuses the configuration, as serve
// would, naming the key.
func TestWeakenedIssuerWithoutAudience(t *testing.T) {
	c := weakened(t, `
env: development
auth:
  issuers:
    - issuer: https://idp.example.com
      jwks_url: https://idp.example.com/jwks.json
      algorithms: [ES256]
routes:
  - match: "GET /api/{path...}"
`)
	_, err := selftest.Run(context.Background(), c, selftest.Options{Classes: []string{"jwt"}})
	var ce *selftest.ConfigError
	if !errorsAs(err, &ce) || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("got %v, want a configuration error naming the audience", err)
	}
}

// TestIssuerHolds runs the token class against an issuer configured as it
// should be: every forged token is refused, and the control gets through.
func TestIssuerHolds(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			c := weakened(t, `
env: development
auth:
  issuers:
    - issuer: https://idp.example.com
      jwks_url: https://idp.example.com/jwks.json
      audience: my-api
      algorithms: [`+alg+`]
routes:
  - match: "GET /api/{path...}"
    roles: [reader]
`)
			rep := run(t, c, "jwt")
			jc := class(t, rep, "jwt")
			if jc.Failed > 0 || jc.Run < 30 || len(jc.Skips) > 0 {
				t.Errorf("got %d failures, %d run, skips %v; want every case held:\n%s", jc.Failed, jc.Run, jc.Skips, table(rep))
			}
		})
	}
}

func TestReportFormats(t *testing.T) {
	rep := run(t, weakened(t, sessions+"csrf: {mode: \"off\"}\n"), "csrf")
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Classes []struct {
			Class    string `json:"class"`
			Run      int    `json:"run"`
			Failed   int    `json:"failed"`
			Failures []struct {
				Request string   `json:"request"`
				Reached []string `json:"reached"`
				Fix     struct {
					Rules []string `json:"rules"`
				} `json:"fix"`
			} `json:"failures"`
		} `json:"classes"`
		StandIns []string `json:"stand_ins"`
	}
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	if len(decoded.Classes) != 1 || decoded.Classes[0].Failed == 0 || len(decoded.Classes[0].Failures[0].Reached) == 0 ||
		!strings.HasPrefix(decoded.Classes[0].Failures[0].Request, "POST ") || len(decoded.StandIns) == 0 {
		t.Errorf("JSON report lacks counts, requests, what reached the app or stand-ins:\n%s", js.String())
	}
	var sarif bytes.Buffer
	if err := rep.WriteSARIF(&sarif, "test"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sarif.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) == 0 ||
		!strings.HasPrefix(log.Runs[0].Results[0].RuleID, "selftest/csrf/") || log.Runs[0].Results[0].Locations[0].PhysicalLocation.Region == nil {
		t.Errorf("SARIF lacks results located at the setting:\n%s", sarif.String())
	}
}
