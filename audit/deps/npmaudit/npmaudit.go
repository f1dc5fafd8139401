package npmaudit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/npmsemver"
	"github.com/rampartsec/rampart/audit/deps/osv"
)

// DefaultRegistry is the public npm registry.
const DefaultRegistry = "https://registry.npmjs.org"

// BulkPath is the path of the bulk advisory endpoint under a registry.
const BulkPath = "/-/npm/v1/security/advisories/bulk"

// maxResponse bounds the registry's answer.
const maxResponse = 64 << 20

// Advisory is one advisory as the bulk endpoint returns it.
type Advisory struct {
	ID                 json.Number `json:"id"`
	URL                string      `json:"url"`
	Title              string      `json:"title"`
	Severity           string      `json:"severity"`
	VulnerableVersions string      `json:"vulnerable_versions"`
	CWE                []string    `json:"cwe,omitempty"`
	CVSS               *struct {
		Score        float64 `json:"score"`
		VectorString string  `json:"vectorString"`
	} `json:"cvss,omitempty"`
}

// Response is the bulk endpoint's answer: advisories by package name.
type Response map[string][]Advisory

// Source queries a registry's bulk advisory endpoint.
type Source struct {
	// Registry is the registry's base URL; empty means DefaultRegistry.
	Registry string
	// Client makes the request; nil means a client with a 60 second
	// timeout.
	Client *http.Client
}

var _ deps.Source = (*Source)(nil)

// Name returns "npm".
func (s *Source) Name() string { return "npm" }

// Endpoint returns the bulk endpoint URL for registry, checking that it is
// an http or https URL.
func Endpoint(registry string) (string, error) {
	if registry == "" {
		registry = DefaultRegistry
	}
	u, err := url.Parse(registry)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("npmaudit: registry %q is not an http(s) URL", registry)
	}
	return strings.TrimSuffix(u.String(), "/") + BulkPath, nil
}

// Fetch posts the versions of each package to the bulk endpoint and
// returns the advisories.
func (s *Source) Fetch(ctx context.Context, versions map[string][]string) (Response, error) {
	endpoint, err := Endpoint(s.Registry)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(versions)
	if err != nil {
		return nil, fmt.Errorf("npmaudit: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("npmaudit: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("npmaudit: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("npmaudit: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("npmaudit: %s answered %s", endpoint, resp.Status)
	}
	if len(data) > maxResponse {
		return nil, errors.New("npmaudit: the registry's answer is larger than 64 MiB")
	}
	var out Response
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("npmaudit: the registry's answer is not an advisory list: %w", err)
	}
	return out, nil
}

// Check asks the registry about every npm query and decides which versions
// each advisory affects, with npm audit's semantics. Queries of other
// ecosystems are returned as unchecked.
func (s *Source) Check(ctx context.Context, queries []deps.Query) (map[deps.Query][]deps.Advisory, []deps.Unchecked, error) {
	versions := map[string][]string{}
	var unchecked []deps.Unchecked
	for _, q := range queries {
		if q.Ecosystem != osv.EcosystemNPM {
			unchecked = append(unchecked, deps.Unchecked{Query: q, Reason: "the npm source checks npm packages only"})
			continue
		}
		if !slices.Contains(versions[q.Name], q.Version) {
			versions[q.Name] = append(versions[q.Name], q.Version)
		}
	}
	out := map[deps.Query][]deps.Advisory{}
	if len(versions) == 0 {
		return out, unchecked, nil
	}
	resp, err := s.Fetch(ctx, versions)
	if err != nil {
		return nil, nil, err
	}
	for _, q := range queries {
		if q.Ecosystem != osv.EcosystemNPM {
			continue
		}
		advs, bad := Affecting(resp[q.Name], q.Version)
		if bad != "" {
			unchecked = append(unchecked, deps.Unchecked{Query: q, Reason: bad})
			continue
		}
		out[q] = advs
	}
	return out, unchecked, nil
}

// Affecting returns the advisories among advs whose vulnerable range holds
// version. bad is non-empty when the version or a range cannot be read, in
// which case the answer is incomplete.
func Affecting(advs []Advisory, version string) (out []deps.Advisory, bad string) {
	v, err := npmsemver.ParseVersion(version, npmsemver.NPMAudit)
	if err != nil {
		if len(advs) == 0 {
			return nil, ""
		}
		return nil, "version is not a semantic version, so npm's advisory ranges cannot be applied"
	}
	out = []deps.Advisory{}
	for _, a := range advs {
		r, err := npmsemver.ParseRange(a.VulnerableVersions, npmsemver.NPMAudit)
		if err != nil {
			return nil, fmt.Sprintf("advisory %s has an unreadable range %q", a.ID, a.VulnerableVersions)
		}
		if !r.Contains(v) {
			continue
		}
		out = append(out, toAdvisory(a))
	}
	return out, ""
}

func toAdvisory(a Advisory) deps.Advisory {
	sev, _ := osv.ParseSeverity(a.Severity)
	if a.Severity == "info" {
		sev = osv.SeverityLow
	}
	adv := deps.Advisory{ID: a.ID.String(), Summary: a.Title, Severity: sev, URL: a.URL, Range: a.VulnerableVersions}
	if ghsa := ghsaOf(a.URL); ghsa != "" {
		if adv.ID == "" {
			adv.ID = ghsa
		} else if adv.ID != ghsa {
			adv.Aliases = []string{ghsa}
		}
	}
	return adv
}

// ghsaOf returns the GitHub advisory id in an advisory URL, or "".
func ghsaOf(u string) string {
	i := strings.Index(u, "GHSA-")
	if i < 0 {
		return ""
	}
	id := u[i:]
	if j := strings.IndexAny(id, "/?#"); j >= 0 {
		id = id[:j]
	}
	return id
}

// ToOSV converts an npm advisory about package name into an OSV record
// whose SEMVER ranges accept exactly the versions the node-semver range
// accepts under npm audit's options: one OSV range per comparator set, an
// exclusive lower bound turned into the next version up, an inclusive
// upper bound into last_affected.
func ToOSV(name string, a Advisory) (*osv.Vulnerability, error) {
	r, err := npmsemver.ParseRange(a.VulnerableVersions, npmsemver.NPMAudit)
	if err != nil {
		return nil, fmt.Errorf("npmaudit: advisory %s: %w", a.ID, err)
	}
	id := a.ID.String()
	if _, err := strconv.Atoi(id); err == nil || id == "" {
		id = "NPM-" + id
	}
	v := &osv.Vulnerability{ID: id, Summary: a.Title}
	if ghsa := ghsaOf(a.URL); ghsa != "" {
		v.Aliases = []string{ghsa}
	}
	if sev := strings.ToUpper(a.Severity); sev != "" {
		v.DatabaseSpecific = json.RawMessage(fmt.Sprintf(`{"severity":%q}`, sev))
	}
	aff := osv.Affected{Package: osv.Package{Ecosystem: osv.EcosystemNPM, Name: name}}
	for _, iv := range r.Intervals() {
		var events []osv.Event
		switch {
		case iv.Lower.Unbounded:
			events = append(events, osv.Event{Introduced: "0"})
		case iv.Lower.Inclusive:
			events = append(events, osv.Event{Introduced: iv.Lower.Version.String()})
		default:
			events = append(events, osv.Event{Introduced: iv.Lower.Version.Successor().String()})
		}
		switch {
		case iv.Upper.Unbounded:
		case iv.Upper.Inclusive:
			events = append(events, osv.Event{LastAffected: iv.Upper.Version.String()})
		default:
			events = append(events, osv.Event{Fixed: iv.Upper.Version.String()})
		}
		aff.Ranges = append(aff.Ranges, osv.Range{Type: "SEMVER", Events: events})
	}
	v.Affected = []osv.Affected{aff}
	return v, nil
}
