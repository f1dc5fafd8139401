package users_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/internal/sqldb"
	"github.com/rampartsec/rampart/internal/testutil"
)

// conformance checks the Store contract; every backend runs it.
func conformance(t *testing.T, newStore func(t *testing.T) users.Store) {
	ctx := context.Background()
	t.Run("create and lookup", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if err := s.Create(ctx, users.User{Name: "Alice", Roles: []string{"ops", "admin", "ops"}, PasswordHash: "h1"}); err != nil {
			t.Fatal(err)
		}
		u, err := s.Lookup(ctx, "ALICE")
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "alice" || !slices.Equal(u.Roles, []string{"admin", "ops"}) || u.PasswordHash != "h1" || u.Locked {
			t.Errorf("got %+v, want alice [admin ops] h1 unlocked", u)
		}
		if u.Created.IsZero() || !u.Created.Equal(u.PasswordChanged) {
			t.Errorf("got created %v, changed %v, want equal and set", u.Created, u.PasswordChanged)
		}
	})
	t.Run("duplicate refused", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if err := s.Create(ctx, users.User{Name: "bob", PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, users.User{Name: "BOB", PasswordHash: "other"}); !errors.Is(err, users.ErrExists) {
			t.Fatalf("got %v, want ErrExists", err)
		}
		u, _ := s.Lookup(ctx, "bob")
		if u.PasswordHash != "h" {
			t.Errorf("got hash %q, want the first user's untouched", u.PasswordHash)
		}
	})
	t.Run("invalid input refused", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, u := range []users.User{
			{Name: "", PasswordHash: "h"},
			{Name: "eve\r\nX-Rampart-User: admin", PasswordHash: "h"},
			{Name: "a b", PasswordHash: "h"},
			{Name: "carol", PasswordHash: ""},
			{Name: "carol", Roles: []string{"admin,root"}, PasswordHash: "h"},
		} {
			if err := s.Create(ctx, u); err == nil {
				t.Errorf("Create(%q, %q): got nil error", u.Name, u.Roles)
			}
		}
		if list, _ := s.List(ctx); len(list) != 0 {
			t.Errorf("got %d users after refused creates, want 0", len(list))
		}
	})
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, name := range []string{"nobody", "in valid", ""} {
			if _, err := s.Lookup(ctx, name); !errors.Is(err, users.ErrNotFound) {
				t.Errorf("Lookup(%q): got %v, want ErrNotFound", name, err)
			}
		}
		for name, f := range map[string]func() error{
			"SetPassword": func() error { return s.SetPassword(ctx, "nobody", "h", true) },
			"SetLocked":   func() error { return s.SetLocked(ctx, "nobody", true) },
			"SetRoles":    func() error { return s.SetRoles(ctx, "nobody", nil) },
			"Delete":      func() error { return s.Delete(ctx, "nobody") },
		} {
			if err := f(); !errors.Is(err, users.ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
	})
	t.Run("updates", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if err := s.Create(ctx, users.User{Name: "dave", PasswordHash: "h1"}); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Lookup(ctx, "dave")
		time.Sleep(5 * time.Millisecond)
		if err := s.SetPassword(ctx, "dave", "h2", false); err != nil {
			t.Fatal(err)
		}
		u, _ := s.Lookup(ctx, "dave")
		if u.PasswordHash != "h2" || !u.PasswordChanged.Equal(before.PasswordChanged) {
			t.Errorf("rehash: got %q %v, want h2 with PasswordChanged unchanged", u.PasswordHash, u.PasswordChanged)
		}
		if err := s.SetPassword(ctx, "Dave", "h3", true); err != nil {
			t.Fatal(err)
		}
		u, _ = s.Lookup(ctx, "dave")
		if u.PasswordHash != "h3" || !u.PasswordChanged.After(before.PasswordChanged) {
			t.Errorf("new password: got %q %v, want h3 with PasswordChanged moved", u.PasswordHash, u.PasswordChanged)
		}
		if err := s.SetLocked(ctx, "dave", true); err != nil {
			t.Fatal(err)
		}
		if u, _ = s.Lookup(ctx, "dave"); !u.Locked {
			t.Error("got unlocked, want locked")
		}
		if err := s.SetLocked(ctx, "dave", false); err != nil {
			t.Fatal(err)
		}
		if u, _ = s.Lookup(ctx, "dave"); u.Locked {
			t.Error("got locked, want unlocked")
		}
		if err := s.SetRoles(ctx, "dave", []string{"b", "a"}); err != nil {
			t.Fatal(err)
		}
		if u, _ = s.Lookup(ctx, "dave"); !slices.Equal(u.Roles, []string{"a", "b"}) {
			t.Errorf("got roles %v, want [a b]", u.Roles)
		}
		if err := s.SetRoles(ctx, "dave", []string{"bad role"}); !errors.Is(err, users.ErrInvalidRole) {
			t.Errorf("got %v, want ErrInvalidRole", err)
		}
		if err := s.Delete(ctx, "dave"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Lookup(ctx, "dave"); !errors.Is(err, users.ErrNotFound) {
			t.Errorf("after delete: got %v, want ErrNotFound", err)
		}
	})
	t.Run("list sorted", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, n := range []string{"zoe", "amy", "max"} {
			if err := s.Create(ctx, users.User{Name: n, PasswordHash: "h"}); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range list {
			names = append(names, u.Name)
		}
		if !slices.Equal(names, []string{"amy", "max", "zoe"}) {
			t.Errorf("got %v, want [amy max zoe]", names)
		}
	})
	t.Run("concurrent creates of one name", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		created := 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Create(ctx, users.User{Name: "race", PasswordHash: fmt.Sprint(i)})
				if err == nil {
					mu.Lock()
					created++
					mu.Unlock()
				} else if !errors.Is(err, users.ErrExists) {
					t.Errorf("got %v, want nil or ErrExists", err)
				}
			}()
		}
		wg.Wait()
		if created != 1 {
			t.Errorf("got %d successful creates, want 1", created)
		}
	})
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	conformance(t, func(t *testing.T) users.Store {
		db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "users.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := users.NewSQLStore(context.Background(), db, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	conformance(t, func(t *testing.T) users.Store {
		// One database per subtest keeps the subtests independent.
		s, err := users.NewSQLStore(context.Background(), pg.NewDatabase(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestCanonicalName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"lower", "alice", "alice", true},
		{"folded", "Alice.Smith", "alice.smith", true},
		{"email", "Bob+ops@Example.com", "bob+ops@example.com", true},
		{"digits", "007", "007", true},
		{"empty", "", "", false},
		{"leading dot", ".alice", "", false},
		{"space", "al ice", "", false},
		{"newline", "alice\n", "", false},
		{"comma", "a,b", "", false},
		{"non-ascii", "alïce", "", false},
		{"too long", string(make([]byte, 65)), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := users.CanonicalName(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("got %q, %v, want %q ok=%v", got, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, users.ErrInvalidName) {
				t.Errorf("got %v, want ErrInvalidName", err)
			}
		})
	}
}
