package session_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/session"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(time.Now().UnixMilli())} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newManager(t testing.TB, s session.Store, c session.Config) *session.Manager {
	t.Helper()
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.AbsoluteTimeout == 0 {
		c.AbsoluteTimeout = 12 * time.Hour
	}
	m, err := session.New(s, c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// login logs user in through m on a request carrying cookies, and returns
// the new Set-Cookie header and the cookie to send back.
func login(t testing.TB, m *session.Manager, user string, roles []string, cookies ...*http.Cookie) (string, *http.Cookie) {
	t.Helper()
	r := httptest.NewRequest("POST", "/.rampart/login", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	if _, err := m.Login(w, r, user, roles); err != nil {
		t.Fatal(err)
	}
	set := w.Header().Get("Set-Cookie")
	resp := w.Result()
	for _, c := range resp.Cookies() {
		if c.Name == m.CookieName() {
			return set, &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatalf("no session cookie in %q", set)
	return "", nil
}

func authenticate(t testing.TB, m *session.Manager, c *http.Cookie) *auth.Identity {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if c != nil {
		r.AddCookie(c)
	}
	id, err := m.Authenticate(r)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// tamperStore edits the records another store returns.
type tamperStore struct {
	session.Store
	edit func(*session.Record)
}

func (s tamperStore) Find(ctx context.Context, k session.Key) (session.Record, bool, error) {
	rec, ok, err := s.Store.Find(ctx, k)
	if ok && s.edit != nil {
		s.edit(&rec)
	}
	return rec, ok, err
}

// managerTests run against every store.
func managerTests(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Run("record MAC", func(t *testing.T) {
		t.Parallel()
		key := []byte(strings.Repeat("k", 32))
		st := newStore(t)
		m := newManager(t, st, session.Config{RecordKey: key, Deployment: "shop"})
		_, c := login(t, m, "alice", []string{"editor"})
		if id := authenticate(t, m, c); id == nil || id.Subject != "alice" {
			t.Fatalf("own record refused: %+v", id)
		}
		for name, other := range map[string]*session.Manager{
			"another deployment": newManager(t, st, session.Config{RecordKey: key, Deployment: "blog"}),
			"another key":        newManager(t, st, session.Config{RecordKey: []byte(strings.Repeat("x", 32)), Deployment: "shop"}),
			"roles edited":       newManager(t, tamperStore{st, func(r *session.Record) { r.Roles = []string{"admin"} }}, session.Config{RecordKey: key, Deployment: "shop"}),
			"user edited":        newManager(t, tamperStore{st, func(r *session.Record) { r.User = "root" }}, session.Config{RecordKey: key, Deployment: "shop"}),
			"issuer edited":      newManager(t, tamperStore{st, func(r *session.Record) { r.Issuer = "https://idp.example" }}, session.Config{RecordKey: key, Deployment: "shop"}),
			"login time edited":  newManager(t, tamperStore{st, func(r *session.Record) { r.Created = r.Created.Add(time.Hour) }}, session.Config{RecordKey: key, Deployment: "shop"}),
			"MAC removed":        newManager(t, tamperStore{st, func(r *session.Record) { r.MAC = "" }}, session.Config{RecordKey: key, Deployment: "shop"}),
		} {
			if id := authenticate(t, other, c); id != nil {
				t.Errorf("%s: the record was accepted as %+v", name, id)
			}
		}
		if _, err := session.New(st, session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour, RecordKey: []byte("short")}); err == nil {
			t.Error("a 5-byte record key was accepted")
		}
	})
	t.Run("external identity", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		m := newManager(t, st, session.Config{RecordKey: []byte(strings.Repeat("k", 32))})
		w := httptest.NewRecorder()
		if _, err := m.LoginIdentity(w, httptest.NewRequest("GET", "/", nil), &auth.Identity{Subject: "alice", Issuer: "https://idp.example", Roles: []string{"viewer"}}); err != nil {
			t.Fatal(err)
		}
		var c *http.Cookie
		for _, x := range w.Result().Cookies() {
			c = &http.Cookie{Name: x.Name, Value: x.Value}
		}
		id := authenticate(t, m, c)
		if id == nil || id.Subject != "alice" || id.Issuer != "https://idp.example" || id.Method != "oidc" || id.Principal() != "https://idp.example alice" {
			t.Fatalf("got %+v", id)
		}
		_, local := login(t, m, "alice", nil)
		if n, err := m.LogoutEverywhere(context.Background(), "alice"); err != nil || n != 1 {
			t.Errorf("log out everywhere for the local alice ended %d sessions (%v), want 1", n, err)
		}
		if authenticate(t, m, local) != nil || authenticate(t, m, c) == nil {
			t.Error("log out everywhere crossed from the local alice to the external one")
		}
	})
	t.Run("cookie attributes", func(t *testing.T) {
		t.Parallel()
		m := newManager(t, newStore(t), session.Config{})
		set, c := login(t, m, "alice", nil)
		if !strings.HasPrefix(set, "__Host-rampart-session=") {
			t.Errorf("got %q, want the __Host- name", set)
		}
		for _, attr := range []string{"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Lax"} {
			if !strings.Contains(set, attr) {
				t.Errorf("got %q, want %q", set, attr)
			}
		}
		if strings.Contains(strings.ToLower(set), "domain=") {
			t.Errorf("got %q, want no Domain", set)
		}
		if len(c.Value) != 43 {
			t.Errorf("got id of %d characters, want 43 (256 bits)", len(c.Value))
		}
	})
	t.Run("id is random and opaque", func(t *testing.T) {
		t.Parallel()
		m := newManager(t, newStore(t), session.Config{})
		seen := map[string]bool{}
		// A name long enough that a random id cannot contain it by chance
		// ("bob" is in a random 43-character id about one run in 130).
		const user = "bobby-tables-the-user"
		for range 50 {
			_, c := login(t, m, user, nil)
			if seen[c.Value] {
				t.Fatal("an id repeated")
			}
			seen[c.Value] = true
			if strings.Contains(c.Value, user) {
				t.Fatal("id contains the user name")
			}
		}
	})
	t.Run("fixation: a planted cookie is never adopted", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		m := newManager(t, s, session.Config{})
		// The attacker gets a real session of their own and plants its id
		// in the victim's browser; the victim then logs in.
		_, planted := login(t, m, "mallory", nil)
		_, victim := login(t, m, "carol", []string{"admin"}, planted)
		if victim.Value == planted.Value {
			t.Fatal("login kept the planted id")
		}
		if id := authenticate(t, m, planted); id != nil {
			t.Errorf("planted id still works as %q after the victim's login", id.Subject)
		}
		if id := authenticate(t, m, victim); id == nil || id.Subject != "carol" {
			t.Errorf("got %v, want carol", id)
		}
		// An id the attacker made up (well-formed, never issued) is not
		// adopted either.
		madeUp := &http.Cookie{Name: m.CookieName(), Value: strings.Repeat("A", 43)}
		_, victim2 := login(t, m, "dave", nil, madeUp)
		if victim2.Value == madeUp.Value {
			t.Fatal("login adopted a made-up id")
		}
		if id := authenticate(t, m, madeUp); id != nil {
			t.Errorf("made-up id authenticates as %q", id.Subject)
		}
	})
	t.Run("idle expiry", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		m := newManager(t, newStore(t), session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, Now: clk.Now})
		_, c := login(t, m, "erin", nil)
		// Activity every 20 minutes keeps the session alive for hours.
		for range 6 {
			clk.Add(20 * time.Minute)
			if authenticate(t, m, c) == nil {
				t.Fatal("active session expired")
			}
		}
		clk.Add(30 * time.Minute)
		if id := authenticate(t, m, c); id != nil {
			t.Fatal("session survived 30 minutes of idleness")
		}
		// Going back in time does not revive it: it was deleted.
		clk.Add(-10 * time.Minute)
		if id := authenticate(t, m, c); id != nil {
			t.Fatal("expired session came back")
		}
	})
	t.Run("absolute expiry", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		m := newManager(t, newStore(t), session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 2 * time.Hour, Now: clk.Now})
		_, c := login(t, m, "frank", nil)
		for range 11 {
			clk.Add(10 * time.Minute)
			if authenticate(t, m, c) == nil {
				t.Fatal("session ended before its absolute timeout")
			}
		}
		clk.Add(10 * time.Minute) // exactly 2h after login
		if id := authenticate(t, m, c); id != nil {
			t.Fatal("session outlived its absolute timeout despite activity")
		}
	})
	t.Run("identity expiry is the nearer deadline", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		m := newManager(t, newStore(t), session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 40 * time.Minute, Now: clk.Now})
		start := clk.Now()
		_, c := login(t, m, "gina", nil)
		if id := authenticate(t, m, c); !id.Expires.Equal(start.Add(30 * time.Minute)) {
			t.Errorf("got %v, want idle deadline %v", id.Expires, start.Add(30*time.Minute))
		}
		clk.Add(20 * time.Minute)
		if id := authenticate(t, m, c); !id.Expires.Equal(start.Add(40 * time.Minute)) {
			t.Errorf("got %v, want absolute deadline %v", id.Expires, start.Add(40*time.Minute))
		}
	})
	t.Run("logout revokes server-side", func(t *testing.T) {
		t.Parallel()
		m := newManager(t, newStore(t), session.Config{})
		_, c := login(t, m, "hank", nil)
		r := httptest.NewRequest("POST", "/.rampart/logout", nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		if err := m.Logout(w, r); err != nil {
			t.Fatal(err)
		}
		if set := w.Header().Get("Set-Cookie"); !strings.Contains(set, "Max-Age=0") || !strings.HasPrefix(set, m.CookieName()+"=;") {
			t.Errorf("got %q, want the cookie cleared", set)
		}
		// A copy of the cookie kept by an attacker is dead too.
		if id := authenticate(t, m, c); id != nil {
			t.Error("session works after logout")
		}
	})
	t.Run("log out everywhere", func(t *testing.T) {
		t.Parallel()
		m := newManager(t, newStore(t), session.Config{})
		_, a := login(t, m, "ivy", nil)
		_, b := login(t, m, "ivy", nil)
		_, other := login(t, m, "jack", nil)
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(b)
		list, err := m.List(context.Background(), "ivy", r)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Fatalf("got %d sessions, want 2", len(list))
		}
		current := 0
		for _, s := range list {
			if s.Current {
				current++
			}
			if strings.Contains(s.ID, a.Value) || strings.Contains(s.ID, b.Value) {
				t.Error("session list leaks a cookie value")
			}
		}
		if current != 1 {
			t.Errorf("got %d current sessions, want 1", current)
		}
		n, err := m.LogoutEverywhere(context.Background(), "ivy")
		if err != nil || n != 2 {
			t.Fatalf("got %d, %v, want 2, nil", n, err)
		}
		if authenticate(t, m, a) != nil || authenticate(t, m, b) != nil {
			t.Error("a session survived log out everywhere")
		}
		if authenticate(t, m, other) == nil {
			t.Error("another user's session was ended")
		}
	})
	t.Run("revoke one session by handle", func(t *testing.T) {
		t.Parallel()
		m := newManager(t, newStore(t), session.Config{})
		_, laptop := login(t, m, "kim", nil)
		_, phone := login(t, m, "kim", nil)
		_, victim := login(t, m, "lou", nil)
		ctx := context.Background()
		list, _ := m.List(ctx, "kim", nil)
		others, _ := m.List(ctx, "lou", nil)
		// kim cannot end lou's session even knowing its handle.
		if ok, err := m.Revoke(ctx, "kim", others[0].ID); ok || err != nil {
			t.Errorf("revoking another user's session: got %v %v, want false nil", ok, err)
		}
		if authenticate(t, m, victim) == nil {
			t.Error("another user's session was ended")
		}
		if ok, err := m.Revoke(ctx, "kim", list[0].ID); !ok || err != nil {
			t.Fatalf("got %v %v, want true nil", ok, err)
		}
		if (authenticate(t, m, laptop) == nil) == (authenticate(t, m, phone) == nil) {
			t.Error("want exactly one of kim's sessions ended")
		}
	})
	t.Run("rotation on privilege change", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		m := newManager(t, newStore(t), session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: time.Hour, Now: clk.Now})
		_, old := login(t, m, "max", []string{"user"})
		clk.Add(10 * time.Minute)
		r := httptest.NewRequest("POST", "/sudo", nil)
		r.AddCookie(old)
		w := httptest.NewRecorder()
		id, err := m.Rotate(w, r, []string{"user", "admin"})
		if err != nil {
			t.Fatal(err)
		}
		if !id.HasRole("admin") {
			t.Errorf("got roles %v, want admin", id.Roles)
		}
		var fresh *http.Cookie
		for _, c := range w.Result().Cookies() {
			fresh = &http.Cookie{Name: c.Name, Value: c.Value}
		}
		if fresh == nil || fresh.Value == old.Value {
			t.Fatal("rotation kept the id")
		}
		if authenticate(t, m, old) != nil {
			t.Error("old id works after rotation")
		}
		if got := authenticate(t, m, fresh); got == nil || !got.HasRole("admin") {
			t.Errorf("got %v, want admin identity", got)
		}
		// The absolute deadline still counts from the original login.
		clk.Add(50 * time.Minute)
		if authenticate(t, m, fresh) != nil {
			t.Error("rotation restarted the absolute timeout")
		}
		r = httptest.NewRequest("POST", "/sudo", nil)
		if _, err := m.Rotate(httptest.NewRecorder(), r, nil); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("rotate without session: got %v, want ErrNoSession", err)
		}
	})
	t.Run("malformed cookies are no credential", func(t *testing.T) {
		t.Parallel()
		m := newManager(t, newStore(t), session.Config{})
		for _, v := range []string{"", "x", strings.Repeat("A", 42), strings.Repeat("A", 44), strings.Repeat("A", 42) + "=", strings.Repeat("A", 42) + "B", strings.Repeat("+", 43), "' OR 1=1 --"} {
			if id := authenticate(t, m, &http.Cookie{Name: m.CookieName(), Value: v}); id != nil {
				t.Errorf("cookie %q authenticated", v)
			}
		}
	})
}

func TestManagerSQLite(t *testing.T) {
	t.Parallel()
	managerTests(t, func(t *testing.T) session.Store { return newSQLiteStore(t) })
}

func TestManagerRedis(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	managerTests(t, func(t *testing.T) session.Store {
		s, err := session.NewRedisStore(rdb, session.RedisConfig{Prefix: "m:" + t.Name() + ":"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestRedisSharedAcrossInstances: a session created through one store
// instance works through another sharing the same Redis, and logging out
// through either ends it for both — two gateway replicas.
func TestRedisSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	addr := startRedis(t).Options().Addr
	replica := func() *session.Manager {
		rdb := redisClient(t, addr)
		s, err := session.NewRedisStore(rdb, session.RedisConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return newManager(t, s, session.Config{})
	}
	a, b := replica(), replica()
	_, c := login(t, a, "nora", []string{"admin"})
	id := authenticate(t, b, c)
	if id == nil || id.Subject != "nora" || !id.HasRole("admin") {
		t.Fatalf("replica b: got %v, want nora/admin", id)
	}
	list, err := b.List(context.Background(), "nora", nil)
	if err != nil || len(list) != 1 {
		t.Fatalf("replica b list: got %d %v, want 1", len(list), err)
	}
	r := httptest.NewRequest("POST", "/.rampart/logout", nil)
	r.AddCookie(c)
	if err := b.Logout(httptest.NewRecorder(), r); err != nil {
		t.Fatal(err)
	}
	if authenticate(t, a, c) != nil {
		t.Error("replica a still accepts a session logged out on b")
	}
}

// failingStore fails every call, like a database that went away.
type failingStore struct{}

var errDown = errors.New("connection refused")

func (failingStore) Create(context.Context, session.Key, session.Record, time.Duration) error {
	return errDown
}
func (failingStore) Find(context.Context, session.Key) (session.Record, bool, error) {
	return session.Record{}, false, errDown
}
func (failingStore) Touch(context.Context, session.Key, session.Record, time.Duration) (bool, error) {
	return false, errDown
}
func (failingStore) Delete(context.Context, session.Key) error { return errDown }
func (failingStore) DeleteUser(context.Context, string) (int, error) {
	return 0, errDown
}
func (failingStore) List(context.Context, string) ([]session.Entry, error) { return nil, errDown }

func TestStoreFailureFailsClosed(t *testing.T) {
	t.Parallel()
	var events []session.Event
	var mu sync.Mutex
	m := newManager(t, failingStore{}, session.Config{OnEvent: func(e session.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: m.CookieName(), Value: strings.Repeat("A", 43)})
	id, err := m.Authenticate(r)
	if id != nil || err == nil || !errors.Is(err, errDown) {
		t.Errorf("got %v, %v, want nil and the store error", id, err)
	}
	if _, err := m.Login(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), "x", nil); err == nil {
		t.Error("Login succeeded without a store")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) == 0 || events[0] != session.EventStoreError {
		t.Errorf("got events %v, want store_error first", events)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	s := failingStore{}
	tests := []struct {
		name string
		c    session.Config
	}{
		{"no timeouts", session.Config{}},
		{"no idle timeout", session.Config{AbsoluteTimeout: time.Hour}},
		{"no absolute timeout", session.Config{IdleTimeout: time.Hour}},
		{"negative", session.Config{IdleTimeout: -time.Minute, AbsoluteTimeout: time.Hour}},
		{"idle above absolute", session.Config{IdleTimeout: 2 * time.Hour, AbsoluteTimeout: time.Hour}},
		{"samesite none", session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour, SameSite: "none"}},
		{"name without __Host-", session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour, CookieName: "sid"}},
		{"invalid name", session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour, CookieName: "__Host-a b"}},
		{"__Host- without Secure", session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour, CookieName: "__Host-x", UnsafeInsecureCookie: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := session.New(s, tc.c); err == nil || !strings.HasPrefix(err.Error(), "session: ") {
				t.Errorf("got %v, want a session: error", err)
			}
		})
	}
	if _, err := session.New(nil, session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour}); err == nil {
		t.Error("nil store accepted")
	}
	m := newManager(t, newSQLiteStore(t), session.Config{})
	for _, roles := range [][]string{{"a,b"}, {""}, {"a b"}} {
		if _, err := m.Login(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), "u", roles); err == nil {
			t.Errorf("Login with roles %q: got nil error", roles)
		}
	}
	if _, err := m.Login(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), "", nil); err == nil {
		t.Error("Login with an empty user: got nil error")
	}
}

func TestCookieOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		c         session.Config
		want      []string
		forbidden []string
	}{
		{"strict", session.Config{SameSite: "strict"}, []string{"__Host-rampart-session=", "; SameSite=Strict", "; Secure"}, nil},
		{"custom __Host- name", session.Config{CookieName: "__Host-app-sid"}, []string{"__Host-app-sid=", "; Secure"}, nil},
		{"insecure development cookie", session.Config{UnsafeInsecureCookie: true}, []string{"rampart-session=", "; HttpOnly", "; Path=/"}, []string{"Secure", "__Host-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newManager(t, newSQLiteStore(t), tc.c)
			set, c := login(t, m, "olga", nil)
			for _, w := range tc.want {
				if !strings.Contains(set, w) {
					t.Errorf("got %q, want %q", set, w)
				}
			}
			for _, f := range tc.forbidden {
				if strings.Contains(set, f) {
					t.Errorf("got %q, want no %q", set, f)
				}
			}
			if authenticate(t, m, c) == nil {
				t.Error("cookie does not authenticate")
			}
		})
	}
}

func TestCheckProduction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    session.Config
		want string // substring of the error, "" for none
	}{
		{"typical", session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour}, ""},
		{"at the caps", session.Config{IdleTimeout: session.ProductionMaxIdleTimeout, AbsoluteTimeout: session.ProductionMaxAbsoluteTimeout}, ""},
		{"unbounded", session.Config{}, "are required"},
		{"idle too long", session.Config{IdleTimeout: 48 * time.Hour, AbsoluteTimeout: 72 * time.Hour}, "auth.sessions.idle_timeout"},
		{"absolute too long", session.Config{IdleTimeout: time.Hour, AbsoluteTimeout: 365 * 24 * time.Hour}, "auth.sessions.absolute_timeout"},
		{"insecure cookie", session.Config{IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour, UnsafeInsecureCookie: true}, "unsafe_insecure_cookie"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.c.CheckProduction()
			if tc.want == "" && err != nil {
				t.Errorf("got %v, want nil", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}
