package token_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writePEM(t, dir, "good.pem", newEd25519(t))
	public := writePEM(t, dir, "public.pem", newEd25519(t).Public())
	base := func() token.Config {
		return token.Config{AccessTTL: 15 * time.Minute, RefreshTTL: 720 * time.Hour, SigningKey: good, Store: token.NewMemoryStore()}
	}
	tests := []struct {
		name string
		edit func(*token.Config)
		want string // substring of the error; "" means valid
	}{
		{"valid", func(*token.Config) {}, ""},
		{"ephemeral key in development", func(c *token.Config) { c.SigningKey = ""; c.InsecureEphemeralKey = true }, ""},
		{"access_ttl missing", func(c *token.Config) { c.AccessTTL = 0 }, "access_ttl is required"},
		{"refresh_ttl missing", func(c *token.Config) { c.RefreshTTL = 0 }, "refresh_ttl is required"},
		{"access_ttl negative", func(c *token.Config) { c.AccessTTL = -time.Second }, "access_ttl must be positive"},
		{"access_ttl over the cap", func(c *token.Config) { c.AccessTTL = 2 * time.Hour }, "access_ttl is 2h0m0s, longer than the maximum 1h0m0s"},
		{"refresh_ttl over the cap", func(c *token.Config) { c.RefreshTTL = 100 * 24 * time.Hour }, "refresh_ttl is"},
		{"absolute over the cap", func(c *token.Config) { c.RefreshAbsoluteTTL = 400 * 24 * time.Hour }, "refresh_absolute_ttl is"},
		{"absolute shorter than idle", func(c *token.Config) { c.RefreshAbsoluteTTL = time.Hour }, "shorter than refresh_ttl"},
		{"clock skew over the cap", func(c *token.Config) { c.ClockSkew = time.Hour }, "clock_skew"},
		{"sub-second access ttl", func(c *token.Config) { c.AccessTTL = time.Millisecond }, "at least 1s"},
		{"no store", func(c *token.Config) { c.Store = nil }, "store is required"},
		{"no key", func(c *token.Config) { c.SigningKey = "" }, "signing_key is required"},
		{"missing key file", func(c *token.Config) { c.SigningKey = dir + "/nope.pem" }, "no such file"},
		{"public signing key", func(c *token.Config) { c.SigningKey = public }, "cannot sign"},
		{"bad verification key", func(c *token.Config) { c.VerificationKeys = []string{dir + "/nope.pem"} }, "nope.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := base()
			tc.edit(&c)
			_, err := token.New(c)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			case err != nil && !strings.HasPrefix(err.Error(), "token: "):
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestRefreshRotatesAndDetectsReuse(t *testing.T) {
	t.Parallel()
	var outcomes []string
	f := newFixture(t, func(c *token.Config) {
		c.OnDecision = func(op, outcome string) { outcomes = append(outcomes, op+":"+outcome) }
	})
	ctx := context.Background()
	first := f.issue(t, "alice", "admin")
	f.clock.Advance(time.Minute)
	second, err := f.m.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh returned the same tokens")
	}
	id, err := f.m.Verify(ctx, second.AccessToken)
	if err != nil || id.Subject != "alice" || !id.HasRole("admin") {
		t.Fatalf("refreshed access token: got %+v, %v", id, err)
	}
	third, err := f.m.Refresh(ctx, second.RefreshToken)
	if err != nil {
		t.Fatalf("second Refresh: %v", err)
	}
	// The first token was used: presenting it again is reuse.
	if _, err := f.m.Refresh(ctx, first.RefreshToken); !errors.Is(err, token.ErrRefreshReused) {
		t.Fatalf("replay: got %v, want %v", err, token.ErrRefreshReused)
	}
	// The whole family is gone, the newest token included.
	if _, err := f.m.Refresh(ctx, third.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
		t.Fatalf("newest token after reuse: got %v, want %v", err, token.ErrInvalidRefresh)
	}
	// Other families are untouched.
	other := f.issue(t, "alice")
	if _, err := f.m.Refresh(ctx, other.RefreshToken); err != nil {
		t.Fatalf("other family: got %v, want nil", err)
	}
	want := "refresh:ok verify:ok refresh:ok refresh:reused refresh:invalid refresh:ok"
	if got := strings.Join(outcomes, " "); got != want {
		t.Errorf("decisions: got %q, want %q", got, want)
	}
}

func TestRefreshRejectsMalformedTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, tok := range []string{"", "rrt_", "rrt_short", "xyz_" + strings.Repeat("A", 43), "rrt_" + strings.Repeat("!", 43), strings.Repeat("A", 10000)} {
		if _, err := f.m.Refresh(context.Background(), tok); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Errorf("Refresh(%.20q): got %v, want %v", tok, err, token.ErrInvalidRefresh)
		}
	}
}

func TestRefreshExpiries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil) // refresh 24h idle, 7 days absolute
	ctx := context.Background()
	p := f.issue(t, "alice")
	f.clock.Advance(25 * time.Hour)
	if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
		t.Fatalf("idle token: got %v, want %v", err, token.ErrInvalidRefresh)
	}
	// A client that refreshes every 23 hours never hits the idle limit,
	// but the family ends 7 days after the login.
	p = f.issue(t, "alice")
	for i := 1; i <= 7; i++ {
		f.clock.Advance(23 * time.Hour)
		next, err := f.m.Refresh(ctx, p.RefreshToken)
		if err != nil {
			t.Fatalf("refresh %d (%s after login): %v", i, time.Duration(i)*23*time.Hour, err)
		}
		p = next
	}
	f.clock.Advance(23 * time.Hour) // 184h after login
	if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
		t.Fatalf("after the absolute lifetime: got %v, want %v", err, token.ErrInvalidRefresh)
	}
}

// users is a fake PasswordVerifier and IdentityLoader.
type users struct {
	roles  map[string][]string
	locked map[string]bool
}

func (u *users) VerifyPassword(_ context.Context, name, password, _ string) (*auth.Identity, error) {
	if password != "correct horse" || u.roles[name] == nil || u.locked[name] {
		return nil, token.ErrInvalidCredentials
	}
	return &auth.Identity{Subject: name, Roles: u.roles[name]}, nil
}

func (u *users) LoadIdentity(_ context.Context, name string) (*auth.Identity, error) {
	if u.roles[name] == nil || u.locked[name] {
		return nil, token.ErrInvalidCredentials
	}
	return &auth.Identity{Subject: name, Roles: u.roles[name]}, nil
}

func TestRefreshReloadsIdentity(t *testing.T) {
	t.Parallel()
	u := &users{roles: map[string][]string{"alice": {"admin"}}, locked: map[string]bool{}}
	f := newFixture(t, func(c *token.Config) { c.Passwords = u })
	ctx := context.Background()
	p := f.issue(t, "alice", "admin")
	u.roles["alice"] = []string{"viewer"}
	p, err := f.m.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.m.Verify(ctx, p.AccessToken)
	if err != nil || id.HasRole("admin") || !id.HasRole("viewer") {
		t.Fatalf("roles after change: got %+v, %v, want viewer only", id, err)
	}
	u.locked["alice"] = true
	if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
		t.Fatalf("locked user: got %v, want %v", err, token.ErrInvalidRefresh)
	}
	// Unlocking does not resurrect the family.
	u.locked["alice"] = false
	if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
		t.Fatalf("after unlock: got %v, want %v", err, token.ErrInvalidRefresh)
	}
}

// flakyUsers fails LoadIdentity like a user store that is down, while
// down is set.
type flakyUsers struct {
	*users
	down *atomic.Bool
}

func (u flakyUsers) LoadIdentity(ctx context.Context, name string) (*auth.Identity, error) {
	if u.down.Load() {
		return nil, errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	}
	return u.users.LoadIdentity(ctx, name)
}

func TestRefreshWhenTheUserStoreFails(t *testing.T) {
	t.Parallel()
	down := &atomic.Bool{}
	f := newFixture(t, func(c *token.Config) {
		c.Passwords = flakyUsers{&users{roles: map[string][]string{"alice": {"admin"}}}, down}
	})
	ctx := context.Background()
	p := f.issue(t, "alice")
	down.Store(true)
	for range 3 {
		_, err := f.m.Refresh(ctx, p.RefreshToken)
		if !errors.Is(err, token.ErrUnavailable) || errors.Is(err, token.ErrInvalidRefresh) || errors.Is(err, token.ErrRefreshReused) {
			t.Fatalf("during the outage: got %v, want ErrUnavailable", err)
		}
	}
	// The store is back: the client's retry with the same token works,
	// and nothing was revoked.
	down.Store(false)
	next, err := f.m.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatalf("retry after the outage: got %v, want a new pair", err)
	}
	// Reuse detection is intact: the old token is now used up (and the
	// retry window is over).
	f.clock.Advance(token.DefaultRefreshRetryWindow)
	if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrRefreshReused) {
		t.Fatalf("replay of the exchanged token: got %v, want %v", err, token.ErrRefreshReused)
	}
	if _, err := f.m.Refresh(ctx, next.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
		t.Fatalf("successor after reuse: got %v, want %v", err, token.ErrInvalidRefresh)
	}
}

// downStore is a refresh-token store whose every call fails while down is
// set, as Redis or PostgreSQL do when stopped.
type downStore struct {
	token.Store
	down *atomic.Bool
}

var errStoreDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (s downStore) Family(ctx context.Context, h [sha256.Size]byte, now time.Time) (token.Family, error) {
	if s.down.Load() {
		return token.Family{}, errStoreDown
	}
	return s.Store.Family(ctx, h, now)
}

func (s downStore) Rotate(ctx context.Context, old [sha256.Size]byte, next token.RefreshToken, now time.Time) (token.Family, error) {
	if s.down.Load() {
		return token.Family{}, errStoreDown
	}
	return s.Store.Rotate(ctx, old, next, now)
}

func (s downStore) RevokeFamily(ctx context.Context, id string, now time.Time) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.Store.RevokeFamily(ctx, id, now)
}

func (s downStore) CreateFamily(ctx context.Context, f token.Family, t token.RefreshToken) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.Store.CreateFamily(ctx, f, t)
}

func TestTokenEndpointDuringAStoreOutage(t *testing.T) {
	t.Parallel()
	down := &atomic.Bool{}
	f := newFixture(t, func(c *token.Config) {
		c.Store = downStore{token.NewMemoryStore(), down}
		c.Passwords = &users{roles: map[string][]string{"alice": {"admin"}}}
	})
	h := f.m.TokenHandler()
	post := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/.rampart/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	p := f.issue(t, "alice")
	down.Store(true)
	for name, body := range map[string]string{
		"refresh":  `{"refresh_token":"` + p.RefreshToken + `"}`,
		"password": `{"username":"alice","password":"correct horse"}`,
	} {
		w := post(body)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Fatalf("%s during the outage: got %d Retry-After %q, want 503 with Retry-After", name, w.Code, w.Header().Get("Retry-After"))
		}
		if strings.Contains(w.Body.String(), "connection refused") {
			t.Fatalf("%s: the store's error reached the client: %s", name, w.Body)
		}
	}
	down.Store(false)
	if w := post(`{"refresh_token":"` + p.RefreshToken + `"}`); w.Code != http.StatusOK {
		t.Fatalf("refresh after the outage: got %d %s, want 200", w.Code, w.Body)
	}
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("logout revokes the family", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		p := f.issue(t, "alice")
		if err := f.m.RevokeRefresh(ctx, p.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Fatalf("got %v, want %v", err, token.ErrInvalidRefresh)
		}
		if err := f.m.RevokeRefresh(ctx, "garbage"); err != nil {
			t.Errorf("garbage token: got %v, want nil", err)
		}
	})
	t.Run("all tokens of a user, with the revocation list", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *token.Config) { c.RevocationList = true })
		a1, a2, b := f.issue(t, "alice"), f.issue(t, "alice"), f.issue(t, "bob")
		// Verified once before the revocation, so a cached verification
		// must not let it through afterwards.
		if _, err := f.m.Verify(ctx, a1.AccessToken); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Second)
		if err := f.m.RevokeSubject(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*token.Pair{a1, a2} {
			if _, err := f.m.Verify(ctx, p.AccessToken); !errors.Is(err, token.ErrRevoked) {
				t.Errorf("access: got %v, want %v", err, token.ErrRevoked)
			}
			if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
				t.Errorf("refresh: got %v, want %v", err, token.ErrInvalidRefresh)
			}
		}
		if _, err := f.m.Verify(ctx, b.AccessToken); err != nil {
			t.Errorf("other user: got %v, want nil", err)
		}
		f.clock.Advance(time.Second)
		fresh := f.issue(t, "alice")
		if _, err := f.m.Verify(ctx, fresh.AccessToken); err != nil {
			t.Errorf("login after revocation: got %v, want nil", err)
		}
	})
	t.Run("one access token by jti", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *token.Config) { c.RevocationList = true })
		bad, good := f.issue(t, "alice"), f.issue(t, "alice")
		if _, err := f.m.Verify(ctx, bad.AccessToken); err != nil {
			t.Fatal(err)
		}
		if err := f.m.RevokeAccess(ctx, bad.AccessToken); err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.Verify(ctx, bad.AccessToken); !errors.Is(err, token.ErrRevoked) {
			t.Errorf("revoked: got %v, want %v", err, token.ErrRevoked)
		}
		if _, err := f.m.Verify(ctx, good.AccessToken); err != nil {
			t.Errorf("other token: got %v, want nil", err)
		}
		if err := f.m.RevokeAccess(ctx, "not.a.token"); !errors.Is(err, token.ErrMalformed) {
			t.Errorf("garbage: got %v, want %v", err, token.ErrMalformed)
		}
	})
	t.Run("store failure fails closed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *token.Config) { c.RevocationList = true; c.Store = failingStore{token.NewMemoryStore()} })
		p := f.issue(t, "alice")
		if _, err := f.m.Verify(ctx, p.AccessToken); err == nil {
			t.Fatal("got nil error with the revocation store down, want a rejection")
		}
	})
}

// failingStore works except for revocation lookups.
type failingStore struct{ *token.MemoryStore }

func (failingStore) AccessRevoked(context.Context, string, string, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	p := f.issue(t, "alice", "admin")
	foreign := mint(t, newEd25519(t), jose.EdDSA, "k1", "JWT", nil, map[string]any{"iss": "https://idp.example", "sub": "x"})
	expired := f.issue(t, "bob")
	tests := []struct {
		name    string
		header  []string
		wantSub string
		wantErr bool
	}{
		{"no header", nil, "", false},
		{"basic scheme", []string{"Basic YWxpY2U6cGFzcw=="}, "", false},
		{"valid", []string{"Bearer " + p.AccessToken}, "alice", false},
		{"scheme in lower case", []string{"bearer " + p.AccessToken}, "alice", false},
		{"another issuer's token", []string{"Bearer " + foreign}, "", false},
		{"opaque token", []string{"Bearer abc123"}, "", false},
		{"tampered", []string{"Bearer " + p.AccessToken[:len(p.AccessToken)-4] + "AAAA"}, "", true},
		{"empty bearer", []string{"Bearer "}, "", true},
		{"two bearer headers", []string{"Bearer " + p.AccessToken, "Bearer " + p.AccessToken}, "", true},
		{"oversized", []string{"Bearer " + strings.Repeat("a", token.MaxTokenBytes+1)}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api", nil)
			r.Header["Authorization"] = tc.header
			id, err := f.m.Authenticate(r)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error: got %v, want error %v", err, tc.wantErr)
			}
			got := ""
			if id != nil {
				got = id.Subject
			}
			if got != tc.wantSub {
				t.Errorf("subject: got %q, want %q", got, tc.wantSub)
			}
		})
	}
	// Subtests above are sequential, so moving the clock now is safe.
	f.clock.Advance(time.Hour)
	r := httptest.NewRequest("GET", "/api", nil)
	r.Header.Set("Authorization", "Bearer "+expired.AccessToken)
	if id, err := f.m.Authenticate(r); !errors.Is(err, token.ErrExpired) || id != nil {
		t.Errorf("expired: got %v, %v, want %v", id, err, token.ErrExpired)
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	p := f.issue(t, "alice", "admin")
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := auth.FromContext(r.Context())
		_, _ = w.Write([]byte(id.Subject))
	}))
	tests := []struct {
		name, auth, wantBody, wantChallenge string
		wantStatus                          int
	}{
		{"valid", "Bearer " + p.AccessToken, "alice", "", 200},
		{"missing", "", "", `Bearer realm="rampart"`, 401},
		{"invalid", "Bearer x.y.z", "", `Bearer realm="rampart", error="invalid_token"`, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/api", nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("status: got %d, want %d", w.Code, tc.wantStatus)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Errorf("challenge: got %q, want %q", got, tc.wantChallenge)
			}
			if tc.wantStatus == 200 && w.Body.String() != tc.wantBody {
				t.Errorf("body: got %q, want %q", w.Body, tc.wantBody)
			}
			if tc.wantStatus == 401 && (strings.Contains(w.Body.String(), "token:") || w.Header().Get("Content-Type") != "application/problem+json") {
				t.Errorf("401 body leaks or is not a problem: %s", w.Body)
			}
		})
	}
	if err := f.m.Check(httptest.NewRequest("GET", "/", nil)); err == nil {
		t.Error("Check without a token: got nil, want an error")
	}
}
