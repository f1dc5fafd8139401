package session_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/internal/sqldb"
	"github.com/rampartsec/rampart/internal/testutil"
)

func randomKey() session.Key {
	var k session.Key
	_, _ = rand.Read(k[:])
	return k
}

// storeConformance checks the Store contract; every backend runs it.
// newStore returns a fresh, empty store; users are unique per subtest so
// that backends may share one server.
func storeConformance(t *testing.T, newStore func(t *testing.T) session.Store) {
	ctx := context.Background()
	t0 := time.UnixMilli(time.Now().UnixMilli()) // stores keep milliseconds
	rec := func(user string) session.Record {
		return session.Record{User: user, Roles: []string{"admin", "ops"}, Created: t0, LastSeen: t0, IP: "192.0.2.1", UserAgent: "test/1.0"}
	}
	t.Run("create find delete", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		k := randomKey()
		want := rec("u-cfd")
		if err := s.Create(ctx, k, want, time.Hour); err != nil {
			t.Fatal(err)
		}
		got, found, err := s.Find(ctx, k)
		if err != nil || !found {
			t.Fatalf("Find: got found=%v err=%v, want found", found, err)
		}
		if got.User != want.User || !slices.Equal(got.Roles, want.Roles) || !got.Created.Equal(want.Created) ||
			!got.LastSeen.Equal(want.LastSeen) || got.IP != want.IP || got.UserAgent != want.UserAgent {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, found, err := s.Find(ctx, k); found || err != nil {
			t.Errorf("after Delete: got found=%v err=%v, want not found", found, err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Errorf("deleting twice: got %v, want nil", err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, found, err := s.Find(ctx, randomKey()); found || err != nil {
			t.Errorf("got found=%v err=%v, want not found, nil", found, err)
		}
	})
	t.Run("no roles", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		k := randomKey()
		r := rec("u-noroles")
		r.Roles = nil
		if err := s.Create(ctx, k, r, time.Hour); err != nil {
			t.Fatal(err)
		}
		got, _, _ := s.Find(ctx, k)
		if len(got.Roles) != 0 {
			t.Errorf("got roles %q, want none", got.Roles)
		}
	})
	t.Run("touch", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		k := randomKey()
		r := rec("u-touch")
		if err := s.Create(ctx, k, r, time.Hour); err != nil {
			t.Fatal(err)
		}
		r.LastSeen = t0.Add(5 * time.Minute)
		if found, err := s.Touch(ctx, k, r, time.Hour); !found || err != nil {
			t.Fatalf("Touch: got %v %v, want true nil", found, err)
		}
		got, _, _ := s.Find(ctx, k)
		if !got.LastSeen.Equal(r.LastSeen) || !got.Created.Equal(t0) {
			t.Errorf("got last seen %v created %v, want %v and %v", got.LastSeen, got.Created, r.LastSeen, t0)
		}
	})
	t.Run("touch never resurrects", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		k := randomKey()
		r := rec("u-resurrect")
		if err := s.Create(ctx, k, r, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if found, err := s.Touch(ctx, k, r, time.Hour); found || err != nil {
			t.Fatalf("Touch after Delete: got %v %v, want false nil", found, err)
		}
		if _, found, _ := s.Find(ctx, k); found {
			t.Error("Touch recreated a deleted session")
		}
	})
	t.Run("ttl expiry", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		k := randomKey()
		// Long enough that a loaded machine (the race detector, parallel
		// builds) still finds it right after Create.
		const ttl = 1500 * time.Millisecond
		if err := s.Create(ctx, k, rec("u-ttl"), ttl); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := s.Find(ctx, k); !found {
			t.Fatal("not found right after Create")
		}
		if !testutil.WaitFor(ttl+5*time.Second, func() bool { _, found, _ := s.Find(ctx, k); return !found }) {
			t.Error("still found after its TTL")
		}
		if found, _ := s.Touch(ctx, k, rec("u-ttl"), time.Hour); found {
			t.Error("Touch revived an expired session")
		}
	})
	t.Run("delete user and list", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var mine []session.Key
		for i := range 3 {
			k := randomKey()
			r := rec("u-list")
			r.Created = t0.Add(time.Duration(i) * time.Second)
			if err := s.Create(ctx, k, r, time.Hour); err != nil {
				t.Fatal(err)
			}
			mine = append(mine, k)
		}
		other := randomKey()
		if err := s.Create(ctx, other, rec("u-list-other"), time.Hour); err != nil {
			t.Fatal(err)
		}
		// A deleted session disappears from the list.
		if err := s.Delete(ctx, mine[1]); err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx, "u-list")
		if err != nil {
			t.Fatal(err)
		}
		var keys []session.Key
		for _, e := range list {
			keys = append(keys, e.Key)
			if e.Record.User != "u-list" {
				t.Errorf("listed another user's session: %+v", e.Record)
			}
		}
		if want := []session.Key{mine[0], mine[2]}; !slices.Equal(keys, want) {
			t.Errorf("got %d sessions %v, want %v oldest first", len(keys), keys, want)
		}
		n, err := s.DeleteUser(ctx, "u-list")
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("DeleteUser: got %d, want 2", n)
		}
		for _, k := range mine {
			if _, found, _ := s.Find(ctx, k); found {
				t.Errorf("session %v survived DeleteUser", k)
			}
		}
		if _, found, _ := s.Find(ctx, other); !found {
			t.Error("DeleteUser removed another user's session")
		}
		if list, _ := s.List(ctx, "u-list"); len(list) != 0 {
			t.Errorf("got %d sessions after DeleteUser, want 0", len(list))
		}
		if n, err := s.DeleteUser(ctx, "nobody"); n != 0 || err != nil {
			t.Errorf("DeleteUser(nobody): got %d %v, want 0 nil", n, err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := randomKey()
				r := rec(fmt.Sprintf("u-conc-%d", i%2))
				if err := s.Create(ctx, k, r, time.Hour); err != nil {
					t.Error(err)
					return
				}
				r.LastSeen = r.LastSeen.Add(time.Second)
				if _, err := s.Touch(ctx, k, r, time.Hour); err != nil {
					t.Error(err)
				}
				if _, _, err := s.Find(ctx, k); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		a, _ := s.List(ctx, "u-conc-0")
		b, _ := s.List(ctx, "u-conc-1")
		if len(a)+len(b) != 8 {
			t.Errorf("got %d sessions, want 8", len(a)+len(b))
		}
	})
}

func newSQLiteStore(t testing.TB) *session.SQLStore {
	db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := session.NewSQLStore(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLiteStore(t *testing.T) {
	t.Parallel()
	storeConformance(t, func(t *testing.T) session.Store { return newSQLiteStore(t) })
}

func TestRedisStore(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	storeConformance(t, func(t *testing.T) session.Store {
		s, err := session.NewRedisStore(rdb, session.RedisConfig{Prefix: "t:" + t.Name() + ":"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPostgresStore(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	db := pg.Open(t)
	s, err := session.NewSQLStore(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Subtests use distinct users and random keys, so one table serves all.
	storeConformance(t, func(t *testing.T) session.Store { return s })
}
