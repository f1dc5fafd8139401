package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// request is what the load generator sends.
type request struct {
	method   string
	path     string
	headers  map[string]string
	body     string
	bodyFile string // read into body at start, relative to the repository
}

// scenario is one rampart configuration to compare with the bare proxy.
type scenario struct {
	name        string
	description string
	// config is a YAML template; {{upstream}} and {{listen}} are replaced.
	// Empty means zero-config (command-line flags only).
	config  string
	request request
	// alt, when set, is a second rampart configuration measured in the same
	// rounds, to isolate the cost of one feature: the report adds the ratio
	// rampart / alt.
	alt     string
	altName string
	// altNeedsPrepare says only alt needs what prepare starts: when
	// prepare fails (redis-server missing), alt is skipped with a note
	// and the scenario goes on.
	altNeedsPrepare bool
	// prepare, when set, runs before rampart starts: it may start services
	// and returns more template values ({{name}} → value) and a cleanup.
	prepare func(bin, dir string) (vars map[string]string, cleanup func(), err error)
	// login, when set, runs once rampart listens (at base) and returns
	// request headers carrying a credential; with alt, once per
	// configuration.
	login func(base string) (map[string]string, error)
	// after, when set, runs after the configuration is written (at path),
	// before rampart starts: for example to add a user.
	after func(bin, path string) error
	// express says the Express stack of bench/node does this scenario's
	// work, so -compare measures it too.
	express bool
}

// accessConfig is 50 routes, an IP allow list of 200 prefixes and a deny
// list, a Host allow-list and per-route lists on some routes.
var accessConfig = func() string {
	var b strings.Builder
	b.WriteString("env: production\nlisten: \"{{listen}}\"\nupstream: \"{{upstream}}\"\nadmin: {listen: \"off\"}\n")
	b.WriteString("allow:\n  hosts: [\"127.0.0.1\", \"localhost\"]\n  deny_ips: [\"192.0.2.0/24\", \"2001:db8::/32\"]\n  ips: [\"127.0.0.0/8\", \"::1\"")
	for i := range 198 {
		fmt.Fprintf(&b, ", \"10.%d.%d.0/24\"", i/250, i%250)
	}
	b.WriteString("]\nroutes:\n")
	for i := range 50 {
		fmt.Fprintf(&b, "  - match: \"GET /api/r%d/{id}\"\n", i)
		if i%10 == 0 {
			b.WriteString("    allow_ips: [\"127.0.0.0/8\"]\n")
		}
	}
	return b.String()
}()

// allScenarios returns every scenario by name.
func allScenarios() map[string]scenario {
	all := map[string]scenario{}
	for name, sc := range baseScenarios {
		all[name] = sc
	}
	for name, sc := range authScenarios() {
		all[name] = sc
	}
	all["full"] = fullScenario()
	return all
}

var baseScenarios = map[string]scenario{
	"shield": {
		name:        "shield",
		description: "The error shield's cost on 2xx responses: zero-config (shield on) against the same with `errors: {shield: false}`, GET /.",
		config:      "env: production\nlisten: \"{{listen}}\"\nupstream: \"{{upstream}}\"\nadmin: {listen: \"off\"}\n",
		alt:         "env: production\nlisten: \"{{listen}}\"\nupstream: \"{{upstream}}\"\nadmin: {listen: \"off\"}\nerrors: {shield: false}\n",
		altName:     "rampart, shield off",
		request:     request{method: "GET", path: "/"},
	},
	"overload": {
		name:        "overload",
		description: "The cost of the overload and abuse limits (connections and requests in flight per client, overall and per upstream, the stream-reset budget): zero-config (limits on, the default) against the same with every limit at 0 (off), GET /.",
		config:      "env: production\nlisten: \"{{listen}}\"\nupstream: \"{{upstream}}\"\nadmin: {listen: \"off\"}\n",
		alt:         "env: production\nlisten: \"{{listen}}\"\nupstream: \"{{upstream}}\"\nadmin: {listen: \"off\"}\nlimits: {max_conns_per_client: 0, max_inflight_per_client: 0, max_inflight: 0, max_upstream_inflight: 0}\n",
		altName:     "rampart, limits off",
		request:     request{method: "GET", path: "/"},
	},
	"ratelimit": {
		name:        "ratelimit",
		description: "Zero-config plus a global per-IP limit (in memory) set high enough never to trigger: every request is counted, GET /.",
		config:      "env: production\nlisten: \"{{listen}}\"\nupstream: \"{{upstream}}\"\nadmin: {listen: \"off\"}\nrate_limits: [{name: per-ip, key: ip, limit: 1000000, per: 1s}]\n",
		request:     request{method: "GET", path: "/"},
	},
	"validation": {
		name:        "validation",
		description: "Zero-config plus an OpenAPI document: POST /items/7 with a 1 KB JSON body of 20 fields validated against its schema (validate/testdata/bench.openapi.yaml).",
		config:      "env: production\nlisten: \"{{listen}}\"\nupstream: \"{{upstream}}\"\nadmin: {listen: \"off\"}\nopenapi: \"{{repo}}/validate/testdata/bench.openapi.yaml\"\n",
		request: request{method: "POST", path: "/items/7", headers: map[string]string{"Content-Type": "application/json"},
			bodyFile: "validate/testdata/bench-item.json"},
	},
	"access": {
		name:        "access",
		description: "50 routes (default deny), a 200-prefix IP allow list, a deny list, a Host allow-list and route IP lists; GET /api/r30/7 (a route with its own IP list).",
		config:      accessConfig,
		request:     request{method: "GET", path: "/api/r30/7"},
	},
	"zero-config": {
		name:        "zero-config",
		description: "`rampart serve --upstream URL`: every default on, access log on (to a file), GET /.",
		request:     request{method: "GET", path: "/"},
	},
}

func scenarioNames() []string {
	var names []string
	for n := range allScenarios() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// args returns rampart's command line for the scenario's configuration cfg
// (sc.config or sc.alt), written to a file named after tag.
func (sc scenario) args(cfg, tag, dir, upstream, listen string, vars map[string]string) ([]string, error) {
	if cfg == "" {
		return []string{"serve", "--upstream", upstream, "--listen", listen, "--admin", "off"}, nil
	}
	repo, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	pairs := []string{"{{upstream}}", upstream, "{{listen}}", listen, "{{dir}}", dir, "{{repo}}", repo, "{{scenario}}", sc.name, "{{tag}}", tag}
	for k, v := range vars {
		pairs = append(pairs, "{{"+k+"}}", v)
	}
	text := strings.NewReplacer(pairs...).Replace(cfg)
	path := filepath.Join(dir, sc.name+"-"+tag+".yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return nil, err
	}
	return []string{"serve", "--config", path}, nil
}

// with returns a copy of r with headers added.
func (r request) with(headers map[string]string) request {
	h := make(map[string]string, len(r.headers)+len(headers))
	for k, v := range r.headers {
		h[k] = v
	}
	for k, v := range headers {
		h[k] = v
	}
	r.headers = h
	return r
}

// check sends the request once and requires a 2xx answer, so a
// misconfigured system cannot produce fast error pages and call it speed.
func (r request) check(base string) error {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, base+r.path, body)
	if err != nil {
		return err
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("check request got %d: %s", resp.StatusCode, b)
	}
	return nil
}
