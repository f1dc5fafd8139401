package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// DefaultURL is npm's public registry.
const DefaultURL = "https://registry.npmjs.org"

// Client fetches from one npm registry.
type Client struct {
	// BaseURL is the registry, e.g. "https://registry.npmjs.org". Required.
	BaseURL string
	// HTTP is the client used; nil means one with Timeout as its timeout.
	HTTP *http.Client
	// Timeout bounds each request. Default 60 seconds.
	Timeout time.Duration
	// MaxTarball bounds an archive, in bytes. Default 64 MiB.
	MaxTarball int64
	// MaxDocument bounds a packument or another JSON document, in bytes.
	// Default 64 MiB (the packuments of much-published packages are tens of
	// megabytes).
	MaxDocument int64
}

// Person is a maintainer or publisher as packuments record them.
type Person struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// Signature is one registry signature of a version.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// AttestationRef says where a version's attestations are.
type AttestationRef struct {
	URL        string `json:"url"`
	Provenance *struct {
		PredicateType string `json:"predicateType"`
	} `json:"provenance,omitempty"`
}

// Dist is a version's distribution record.
type Dist struct {
	Integrity    string          `json:"integrity"`
	Shasum       string          `json:"shasum"`
	Tarball      string          `json:"tarball"`
	Signatures   []Signature     `json:"signatures"`
	Attestations *AttestationRef `json:"attestations,omitempty"`
}

// Version is one version's metadata.
type Version struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Scripts     map[string]string `json:"scripts"`
	Maintainers []Person          `json:"maintainers"`
	NPMUser     *Person           `json:"_npmUser,omitempty"`
	Repository  Repository        `json:"repository"`
	Dist        Dist              `json:"dist"`
}

// Repository is package.json's "repository": an object with a URL, or a
// string (a URL or a shorthand such as "github:owner/repo").
type Repository struct {
	Type      string `json:"type,omitempty"`
	URL       string `json:"url"`
	Directory string `json:"directory,omitempty"`
}

// UnmarshalJSON reads both forms; anything else is an empty Repository, so
// an odd value cannot fail the whole document.
func (r *Repository) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*r = Repository{URL: s}
		return nil
	}
	type plain Repository
	var p plain
	if json.Unmarshal(b, &p) == nil {
		*r = Repository(p)
	}
	return nil
}

// Packument is a package's metadata document.
type Packument struct {
	Name     string             `json:"name"`
	Versions map[string]Version `json:"versions"`
	// Time maps each version (and "created", "modified") to when it was
	// published.
	Time map[string]string `json:"time"`
}

// Published returns when version v was published, or the zero time.
func (p *Packument) Published(v string) time.Time {
	t, _ := time.Parse(time.RFC3339, p.Time[v])
	return t
}

// Errors callers branch on.
var (
	ErrNotFound = errors.New("registry: not found")
	ErrTooLarge = errors.New("registry: response larger than the bound")
	ErrForeign  = errors.New("registry: URL is not on the configured registry")
)

func (c *Client) base() (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("registry: %q is not an http(s) URL", c.BaseURL)
	}
	return u, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: c.timeout(), CheckRedirect: checkRedirect}
}

// checkRedirect follows at most five redirects and never from https to
// plain http: content is verified by its hash either way, but metadata and
// keys are not, and a downgrade would hand them to the network.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("registry: more than 5 redirects")
	}
	if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
		return fmt.Errorf("registry: redirect from https to %s refused", req.URL.Scheme)
	}
	return nil
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 60 * time.Second
}

// get fetches u with a bound on the body.
func (c *Client) get(ctx context.Context, u string, accept string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s", ErrNotFound, u)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("registry: %s: status %d", u, resp.StatusCode)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %s: %d bytes, bound %d", ErrTooLarge, u, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("registry: %s: %w", u, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s: bound %d bytes", ErrTooLarge, u, limit)
	}
	return data, nil
}

func (c *Client) maxDocument() int64 {
	if c.MaxDocument > 0 {
		return c.MaxDocument
	}
	return 64 << 20
}

// MaxTarballBytes returns the archive bound in force.
func (c *Client) MaxTarballBytes() int64 {
	if c.MaxTarball > 0 {
		return c.MaxTarball
	}
	return 64 << 20
}

// escapeName escapes a package name for a registry path: "@scope/name"
// becomes "@scope%2fname".
func escapeName(name string) string {
	return strings.Replace(url.PathEscape(name), "%40", "@", 1)
}

// Packument fetches the full metadata of a package.
func (c *Client) Packument(ctx context.Context, name string) (*Packument, error) {
	b, err := c.base()
	if err != nil {
		return nil, err
	}
	data, err := c.get(ctx, b.String()+"/"+escapeName(name), "application/json", c.maxDocument())
	if err != nil {
		return nil, err
	}
	var p Packument
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("registry: packument of %s: %w", name, err)
	}
	return &p, nil
}

// TarballURL returns where the archive of name@version is: resolved when
// it is on the registry's host, else the registry's conventional path.
func (c *Client) TarballURL(name, version, resolved string) (string, error) {
	b, err := c.base()
	if err != nil {
		return "", err
	}
	if r, err := url.Parse(resolved); err == nil && resolved != "" && (r.Scheme == "https" || r.Scheme == "http") && r.Host == b.Host {
		return resolved, nil
	}
	return b.String() + "/" + name + "/-/" + path.Base(name) + "-" + version + ".tgz", nil
}

// Tarball fetches an archive from u, which must be on the registry's host.
func (c *Client) Tarball(ctx context.Context, u string) ([]byte, error) {
	b, err := c.base()
	if err != nil {
		return nil, err
	}
	r, err := url.Parse(u)
	if err != nil || r.Host != b.Host || (r.Scheme != "https" && r.Scheme != "http") {
		return nil, fmt.Errorf("%w: %s", ErrForeign, u)
	}
	return c.get(ctx, u, "", c.MaxTarballBytes())
}

// Key is a registry signing key as /-/npm/v1/keys publishes it.
type Key struct {
	// Expires is when the key stopped being used, or nil.
	Expires *time.Time `json:"expires"`
	KeyID   string     `json:"keyid"`
	KeyType string     `json:"keytype"`
	Scheme  string     `json:"scheme"`
	// Key is the base64 DER SubjectPublicKeyInfo.
	Key string `json:"key"`
}

// Keys fetches the registry's signing keys.
func (c *Client) Keys(ctx context.Context) ([]Key, error) {
	b, err := c.base()
	if err != nil {
		return nil, err
	}
	data, err := c.get(ctx, b.String()+"/-/npm/v1/keys", "application/json", 1<<20)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Keys []Key `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("registry: keys: %w", err)
	}
	return doc.Keys, nil
}

// Attestation is one attestation of a version: a Sigstore bundle.
type Attestation struct {
	PredicateType string          `json:"predicateType"`
	Bundle        json.RawMessage `json:"bundle"`
}

// Attestations fetches the attestations of name@version from ref.URL (on
// the registry's host) or the registry's conventional path.
func (c *Client) Attestations(ctx context.Context, name, version string, ref *AttestationRef) ([]Attestation, error) {
	b, err := c.base()
	if err != nil {
		return nil, err
	}
	u := b.String() + "/-/npm/v1/attestations/" + escapeName(name) + "@" + version
	if ref != nil && ref.URL != "" {
		if r, err := url.Parse(ref.URL); err == nil && r.Host == b.Host {
			u = ref.URL
		}
	}
	data, err := c.get(ctx, u, "application/json", 4<<20)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Attestations []Attestation `json:"attestations"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("registry: attestations of %s@%s: %w", name, version, err)
	}
	return doc.Attestations, nil
}
