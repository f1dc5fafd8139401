package gateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/rampartsec/rampart/gateway"
)

const securityDoc = `openapi: 3.1.0
info: {title: secured, version: "1"}
security: [{bearer: []}]
paths:
  /public:
    get:
      security: []
      responses: {"200": {description: ok}}
  /notes:
    get:
      responses: {"200": {description: ok}}
  /reports:
    get:
      security: [{oauth: [reports:read]}]
      responses: {"200": {description: ok}}
  /reports/admin:
    delete:
      security: [{oauth: [reports:read, reports:delete]}]
      responses: {"204": {description: gone}}
  /either:
    get:
      security: [{session: []}, {oauth: [reports:read]}]
      responses: {"200": {description: ok}}
  /both:
    get:
      security: [{session: [], bearer: []}]
      responses: {"200": {description: ok}}
  /maybe:
    get:
      security: [{}, {bearer: []}]
      responses: {"200": {description: ok}}
  /editors:
    get:
      security: [{bearer: [editor]}]
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer, bearerFormat: JWT}
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: https://idp.example/token
          scopes: {"reports:read": read, "reports:delete": delete}
    session: {type: apiKey, in: cookie, name: __Host-rampart-session}
`

// testIssuer signs access tokens for an external provider whose public
// key the gateway is given as a file.
type testIssuer struct {
	iss    string
	key    *ecdsa.PrivateKey
	pemDir string
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "idp.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testIssuer{iss: "https://idp.example", key: key, pemDir: dir}
}

func (ti *testIssuer) config() string {
	return fmt.Sprintf("  issuers: [{issuer: %q, public_key: %q, audience: api, algorithms: [ES256]}]\n", ti.iss, filepath.Join(ti.pemDir, "idp.pem"))
}

func (ti *testIssuer) token(t *testing.T, sub string, scopes ...string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ti.key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(map[string]any{
		"iss": ti.iss, "aud": "api", "sub": sub, "scope": strings.Join(scopes, " "),
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// securedGateway runs a gateway whose only route table is securityDoc,
// with sessions, Rampart's tokens and an external issuer configured.
func securedGateway(t *testing.T, doc string) (*harness, *testIssuer, string) {
	t.Helper()
	up := echoUpstream(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "openapi.yaml")
	if err := os.WriteFile(spec, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "rampart.db")
	ti := newTestIssuer(t)
	y := fmt.Sprintf(`store: {sqlite: %q}
env: development
login_protection: {delay: 1ms}
openapi: %q
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
  tokens: {access_ttl: 5m, refresh_ttl: 24h}
%s`, db, spec, ti.config())
	seedUser(t, db, "alice", "editor")
	return start(t, parse(t, up.URL, y)), ti, db
}

// TestOpenAPISecurityThroughGateway: with no routes: at all, the
// document's security requirements decide who reaches each operation.
func TestOpenAPISecurityThroughGateway(t *testing.T) {
	t.Parallel()
	h, ti, _ := securedGateway(t, securityDoc)

	// A session and a Rampart access token for alice.
	req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":"alice","password":%q}`, testPassword)))
	req.Header.Set("Content-Type", "application/json")
	resp, body := do(t, nil, req)
	if resp.StatusCode != 200 {
		t.Fatalf("login: got %d %s", resp.StatusCode, body)
	}
	var session string
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-rampart-session" {
			session = ck.Value
		}
	}
	req, _ = http.NewRequest("POST", h.url+"/.rampart/token", strings.NewReader(fmt.Sprintf(`{"username":"alice","password":%q}`, testPassword)))
	req.Header.Set("Content-Type", "application/json")
	resp, body = do(t, nil, req)
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &pair) != nil || pair.AccessToken == "" {
		t.Fatalf("token: got %d %s", resp.StatusCode, body)
	}
	rampartToken := pair.AccessToken
	reader := ti.token(t, "svc-reader", "reports:read")
	deleter := ti.token(t, "svc-admin", "reports:read", "reports:delete")
	alienKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged := (&testIssuer{iss: ti.iss, key: alienKey}).token(t, "svc-admin", "reports:read", "reports:delete")

	type cred struct{ bearer, session string }
	anon := cred{}
	tests := []struct {
		name, method, path string
		c                  cred
		want               int
		user               string // the identity the upstream must see
	}{
		{"public without credentials", "GET", "/public", anon, 200, ""},
		{"global bearer: anonymous", "GET", "/notes", anon, 401, ""},
		{"global bearer: Rampart token", "GET", "/notes", cred{bearer: rampartToken}, 200, "alice"},
		{"global bearer: issuer token", "GET", "/notes", cred{bearer: reader}, 200, "svc-reader"},
		{"global bearer: forged token", "GET", "/notes", cred{bearer: forged}, 401, ""},
		{"global bearer: a session is not a bearer token", "GET", "/notes", cred{session: session}, 401, ""},
		{"scope: anonymous", "GET", "/reports", anon, 401, ""},
		{"scope: present", "GET", "/reports", cred{bearer: reader}, 200, "svc-reader"},
		{"scope: token without scopes", "GET", "/reports", cred{bearer: rampartToken}, 403, ""},
		{"two scopes: one missing", "DELETE", "/reports/admin", cred{bearer: reader}, 403, ""},
		{"two scopes: both", "DELETE", "/reports/admin", cred{bearer: deleter}, 200, "svc-admin"},
		{"OR: session", "GET", "/either", cred{session: session}, 200, "alice"},
		{"OR: scoped token", "GET", "/either", cred{bearer: reader}, 200, "svc-reader"},
		{"OR: token without the scope", "GET", "/either", cred{bearer: rampartToken}, 403, ""},
		{"OR: anonymous", "GET", "/either", anon, 401, ""},
		{"AND: session only", "GET", "/both", cred{session: session}, 401, ""},
		{"AND: token only", "GET", "/both", cred{bearer: rampartToken}, 401, ""},
		{"AND: both, same user", "GET", "/both", cred{session: session, bearer: rampartToken}, 200, "alice"},
		{"AND: both, different users", "GET", "/both", cred{session: session, bearer: reader}, 403, ""},
		{"anonymous alternative: anonymous", "GET", "/maybe", anon, 200, ""},
		{"anonymous alternative: token", "GET", "/maybe", cred{bearer: rampartToken}, 200, "alice"},
		{"anonymous alternative: forged token", "GET", "/maybe", cred{bearer: forged}, 401, ""},
		{"role: has it", "GET", "/editors", cred{bearer: rampartToken}, 200, "alice"},
		{"role: lacks it", "GET", "/editors", cred{bearer: reader}, 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.url+tc.path, nil)
			if tc.c.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.c.bearer)
			}
			if tc.c.session != "" {
				req.AddCookie(&http.Cookie{Name: "__Host-rampart-session", Value: tc.c.session})
			}
			req.Header.Set("X-Rampart-User", "spoofed")
			resp, body := do(t, nil, req)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want != 200 {
				assertNeutral(t, resp, body, tc.want)
				if tc.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				return
			}
			if got := decodeSeen(t, body).Header.Get("X-Rampart-User"); got != tc.user {
				t.Errorf("upstream identity: got %q, want %q", got, tc.user)
			}
		})
	}
}

// TestOpenAPISecurityRoutes: a routes: entry may tighten an operation's
// security, never loosen it without the explicit override.
func TestOpenAPISecurityRoutes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec := filepath.Join(dir, "openapi.yaml")
	if err := os.WriteFile(spec, []byte(securityDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	ti := newTestIssuer(t)
	base := fmt.Sprintf("upstream: http://127.0.0.1:1\nenv: development\nopenapi: %q\nauth:\n  tokens: {access_ttl: 5m, refresh_ttl: 24h}\n  sessions: {idle_timeout: 30m, absolute_timeout: 12h}\n%s", spec, ti.config())
	build := func(routes string) error {
		c, err := parseConfig(base + "store: {sqlite: " + fmt.Sprintf("%q", filepath.Join(t.TempDir(), "r.db")) + "}\n" + routes)
		if err != nil {
			return err
		}
		return gateway.Check(c)
	}
	tests := []struct {
		name, routes, wantErr string
	}{
		{"tighten a public operation", "routes:\n  - match: \"GET /public\"\n    auth: required\n", ""},
		{"add a role", "routes:\n  - match: \"GET /notes\"\n    roles: [admin]\n", ""},
		{"loosen to none", "routes:\n  - match: \"GET /notes\"\n    auth: none\n", "loosens the security"},
		{"loosen to optional", "routes:\n  - match: \"GET /reports\"\n    auth: optional\n", "loosens the security"},
		{"loosen with the override", "routes:\n  - match: \"GET /notes\"\n    auth: none\n    unsafe_override_security: true\n", ""},
		{"override that loosens nothing", "routes:\n  - match: \"GET /notes\"\n    unsafe_override_security: true\n", "does not loosen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := build(tc.routes)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "routes[0].auth") && !strings.Contains(err.Error(), "routes[0].unsafe_override_security") {
				t.Errorf("error does not name the key: %v", err)
			}
		})
	}
}

// TestOpenAPISecurityUnenforceable: a scheme Rampart cannot check is a
// start-up error, never a route anyone can call.
func TestOpenAPISecurityUnenforceable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, schemes, auth, wantErr string
	}{
		{"mutual TLS", "{type: mutualTLS}", "  tokens: {access_ttl: 5m, refresh_ttl: 24h}\n", "cannot enforce mutualTLS"},
		{"basic", "{type: http, scheme: basic}", "  tokens: {access_ttl: 5m, refresh_ttl: 24h}\n", "cannot enforce http basic"},
		{"unknown api key header", "{type: apiKey, in: header, name: X-API-Key}", "  tokens: {access_ttl: 5m, refresh_ttl: 24h}\n", "cannot enforce an apiKey in header"},
		{"a cookie that is not the session's", "{type: apiKey, in: cookie, name: sid}", "  sessions: {idle_timeout: 30m, absolute_timeout: 12h}\n", "is not the session cookie"},
		{"bearer without tokens", "{type: http, scheme: bearer}", "  sessions: {idle_timeout: 30m, absolute_timeout: 12h}\n", "configure auth.tokens or auth.issuers"},
		{"bearer without any authentication", "{type: http, scheme: bearer}", "", "configure auth.tokens or auth.issuers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := filepath.Join(dir, "openapi.yaml")
			doc := "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths:\n  /x:\n    get:\n      security: [{s: []}]\n      responses: {\"200\": {description: ok}}\ncomponents:\n  securitySchemes:\n    s: " + tc.schemes + "\n"
			if err := os.WriteFile(spec, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			y := fmt.Sprintf("upstream: http://127.0.0.1:1\nenv: development\nopenapi: %q\nstore: {sqlite: %q}\n", spec, filepath.Join(dir, "r.db"))
			if tc.auth != "" {
				y += "auth:\n" + tc.auth
			}
			c, err := parseConfig(y)
			if err != nil {
				t.Fatal(err)
			}
			err = gateway.Check(c)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
