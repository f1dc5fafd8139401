// Package storetest is the conformance suite for refresh-token stores
// (token.Store): every implementation runs it against its real backend, so
// that the Store contract — atomic rotation, reuse detection that revokes
// the family, idle and absolute expiry, revocation by token, family,
// subject and jti, and the error semantics — holds for each of them.
//
// # Security considerations
//
// The suite encodes the guarantees the token package relies on to detect
// stolen refresh tokens; a store that passes only part of it must not be
// used. The concurrency test must run under the race detector.
//
// # Concurrency
//
// Run starts parallel subtests and, in two of them, concurrent exchanges of
// the same token: into different successors (one wins, the others are
// reuse) and into the same one inside its retry window (all succeed).
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/token"
)

// t0 is the instant the suite's families are created at.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// hashOf returns the storage hash for a test token name.
func hashOf(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

// storeFamily creates a family for subject with first token "<id>-0".
func storeFamily(t *testing.T, s token.Store, id, subject string, now time.Time, idle, absolute time.Duration) token.Family {
	t.Helper()
	f := token.Family{ID: id, Subject: subject, Roles: []string{"admin", "ops"}, Scopes: []string{"read"},
		Created: now, Expires: now.Add(absolute)}
	if err := s.CreateFamily(context.Background(), f, token.RefreshToken{Hash: hashOf(id + "-0"), FamilyID: id, Expires: now.Add(idle)}); err != nil {
		t.Fatalf("CreateFamily: %v", err)
	}
	return f
}

func rotate(s token.Store, old, next string, now time.Time, idle time.Duration) (token.Family, error) {
	return s.Rotate(context.Background(), hashOf(old), token.RefreshToken{Hash: hashOf(next), Expires: now.Add(idle)}, now)
}

// rotateRetry rotates with a retry window of window from now.
func rotateRetry(s token.Store, old, next string, now time.Time, idle, window time.Duration) (token.Family, error) {
	return s.Rotate(context.Background(), hashOf(old),
		token.RefreshToken{Hash: hashOf(next), Expires: now.Add(idle), RetryUntil: now.Add(window)}, now)
}

// Run runs the conformance suite against the stores newStore returns. Each
// subtest calls newStore once and runs in parallel with the others, so
// newStore must return independent stores (or stores over one backend that
// tolerate parallel use: the subtests use distinct family ids and
// subjects). Times are fixed instants in 2030, passed to the store.
func Run(t *testing.T, newStore func(t *testing.T) token.Store) {
	ctx := context.Background()
	const idle, absolute = time.Hour, 24 * time.Hour

	t.Run("rotation returns the family and a new token", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := storeFamily(t, s, "fam-rot", "alice-rot", t0, idle, absolute)
		got, err := rotate(s, "fam-rot-0", "fam-rot-1", t0.Add(time.Minute), idle)
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if got.ID != want.ID || got.Subject != want.Subject || !slices.Equal(got.Roles, want.Roles) ||
			!slices.Equal(got.Scopes, want.Scopes) || !got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if _, err := rotate(s, "fam-rot-1", "fam-rot-2", t0.Add(2*time.Minute), idle); err != nil {
			t.Errorf("second rotation: got %v, want nil", err)
		}
	})

	t.Run("reuse revokes the family", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-reuse", "alice-reuse", t0, idle, absolute)
		if _, err := rotate(s, "fam-reuse-0", "fam-reuse-1", t0.Add(time.Minute), idle); err != nil {
			t.Fatal(err)
		}
		// The attacker (or the victim) replays the old token, much later.
		if _, err := rotate(s, "fam-reuse-0", "fam-reuse-x", t0.Add(50*time.Minute), idle); !errors.Is(err, token.ErrRefreshReused) {
			t.Fatalf("replay: got %v, want %v", err, token.ErrRefreshReused)
		}
		// The legitimate successor is dead too.
		if _, err := rotate(s, "fam-reuse-1", "fam-reuse-2", t0.Add(51*time.Minute), idle); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Fatalf("successor after reuse: got %v, want %v", err, token.ErrInvalidRefresh)
		}
		// And so is the token the replay asked for.
		if _, err := rotate(s, "fam-reuse-x", "fam-reuse-y", t0.Add(52*time.Minute), idle); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Fatalf("token requested by the replay: got %v, want %v", err, token.ErrInvalidRefresh)
		}
	})

	t.Run("a used token past its idle expiry is still reuse", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-late", "alice-late", t0, idle, absolute)
		if _, err := rotate(s, "fam-late-0", "fam-late-1", t0.Add(time.Minute), idle); err != nil {
			t.Fatal(err)
		}
		if _, err := rotate(s, "fam-late-0", "fam-late-x", t0.Add(3*idle), idle); !errors.Is(err, token.ErrRefreshReused) {
			t.Fatalf("got %v, want %v", err, token.ErrRefreshReused)
		}
	})

	t.Run("family reads without using the token", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := storeFamily(t, s, "fam-peek", "alice-peek", t0, idle, absolute)
		for i := range 3 {
			got, err := s.Family(ctx, hashOf("fam-peek-0"), t0.Add(time.Duration(i)*time.Minute))
			if err != nil {
				t.Fatalf("Family #%d: %v", i+1, err)
			}
			if got.ID != want.ID || got.Subject != want.Subject || !slices.Equal(got.Roles, want.Roles) ||
				!slices.Equal(got.Scopes, want.Scopes) || !got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		}
		// The token is still unused: it rotates, once.
		if _, err := rotate(s, "fam-peek-0", "fam-peek-1", t0.Add(5*time.Minute), idle); err != nil {
			t.Fatalf("Rotate after Family: got %v, want nil", err)
		}
		if _, err := s.Family(ctx, hashOf("never-issued"), t0); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Errorf("unknown token: got %v, want %v", err, token.ErrInvalidRefresh)
		}
		if _, err := s.Family(ctx, hashOf("fam-peek-1"), t0.Add(absolute)); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Errorf("expired family: got %v, want %v", err, token.ErrInvalidRefresh)
		}
		if err := s.RevokeFamily(ctx, "fam-peek", t0.Add(6*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Family(ctx, hashOf("fam-peek-1"), t0.Add(7*time.Minute)); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Errorf("revoked family: got %v, want %v", err, token.ErrInvalidRefresh)
		}
	})

	t.Run("unknown token", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, err := rotate(s, "never-issued", "x", t0, idle); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Fatalf("got %v, want %v", err, token.ErrInvalidRefresh)
		}
	})

	t.Run("idle expiry", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-idle", "alice-idle", t0, idle, absolute)
		if _, err := rotate(s, "fam-idle-0", "fam-idle-1", t0.Add(idle), idle); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Fatalf("at expiry: got %v, want %v", err, token.ErrInvalidRefresh)
		}
	})

	t.Run("absolute expiry caps every successor", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-abs", "alice-abs", t0, idle, absolute)
		now := t0
		prev := "fam-abs-0"
		// Refresh every 50 minutes: each token is used well within its idle
		// lifetime, yet the family ends at t0+24h.
		for i := 1; ; i++ {
			now = now.Add(50 * time.Minute)
			next := fmt.Sprintf("fam-abs-%d", i)
			_, err := rotate(s, prev, next, now, idle)
			if now.Before(t0.Add(absolute)) {
				if err != nil {
					t.Fatalf("rotation %d at +%s: got %v, want nil", i, now.Sub(t0), err)
				}
				prev = next
				continue
			}
			if !errors.Is(err, token.ErrInvalidRefresh) {
				t.Fatalf("rotation after the absolute expiry: got %v, want %v", err, token.ErrInvalidRefresh)
			}
			break
		}
		// A successor asked for beyond the family's end is capped at it.
		storeFamily(t, s, "fam-cap", "alice-abs", t0, idle, time.Hour+time.Minute)
		if _, err := rotate(s, "fam-cap-0", "fam-cap-1", t0.Add(59*time.Minute), 10*time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := rotate(s, "fam-cap-1", "fam-cap-2", t0.Add(time.Hour+time.Minute), time.Hour); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Fatalf("successor past the family's end: got %v, want %v", err, token.ErrInvalidRefresh)
		}
	})

	t.Run("revoke by token and by family", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-rt", "alice-rv", t0, idle, absolute)
		storeFamily(t, s, "fam-rf", "alice-rv", t0, idle, absolute)
		storeFamily(t, s, "fam-keep", "alice-rv", t0, idle, absolute)
		if err := s.RevokeToken(ctx, hashOf("fam-rt-0"), t0); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeFamily(ctx, "fam-rf", t0); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"fam-rt", "fam-rf"} {
			if _, err := rotate(s, id+"-0", id+"-1", t0.Add(time.Minute), idle); !errors.Is(err, token.ErrInvalidRefresh) {
				t.Errorf("%s after revocation: got %v, want %v", id, err, token.ErrInvalidRefresh)
			}
		}
		if _, err := rotate(s, "fam-keep-0", "fam-keep-1", t0.Add(time.Minute), idle); err != nil {
			t.Errorf("unrelated family: got %v, want nil", err)
		}
		// Unknown tokens and families are not errors: logout is idempotent.
		if err := s.RevokeToken(ctx, hashOf("nope"), t0); err != nil {
			t.Errorf("unknown token: got %v, want nil", err)
		}
		if err := s.RevokeFamily(ctx, "nope", t0); err != nil {
			t.Errorf("unknown family: got %v, want nil", err)
		}
	})

	t.Run("revoke subject", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-s1", "mallory-victim", t0, idle, absolute)
		storeFamily(t, s, "fam-s2", "mallory-victim", t0, idle, absolute)
		storeFamily(t, s, "fam-s3", "someone-else", t0, idle, absolute)
		at := t0.Add(10 * time.Minute)
		if err := s.RevokeSubject(ctx, "mallory-victim", at, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"fam-s1", "fam-s2"} {
			if _, err := rotate(s, id+"-0", id+"-1", at.Add(time.Minute), idle); !errors.Is(err, token.ErrInvalidRefresh) {
				t.Errorf("%s: got %v, want %v", id, err, token.ErrInvalidRefresh)
			}
		}
		if _, err := rotate(s, "fam-s3-0", "fam-s3-1", at.Add(time.Minute), idle); err != nil {
			t.Errorf("other subject: got %v, want nil", err)
		}
		for _, tc := range []struct {
			name    string
			subject string
			iat     time.Time
			want    bool
		}{
			{"issued before", "mallory-victim", at.Add(-time.Minute), true},
			{"issued at the revocation", "mallory-victim", at, true},
			{"issued after", "mallory-victim", at.Add(time.Second), false},
			{"other subject", "someone-else", at.Add(-time.Minute), false},
		} {
			got, err := s.AccessRevoked(ctx, "jti-"+tc.name, tc.subject, tc.iat)
			if err != nil || got != tc.want {
				t.Errorf("%s: got %v, %v, want %v", tc.name, got, err, tc.want)
			}
		}
		// New logins after the revocation work.
		storeFamily(t, s, "fam-s4", "mallory-victim", at.Add(time.Minute), idle, absolute)
		if _, err := rotate(s, "fam-s4-0", "fam-s4-1", at.Add(2*time.Minute), idle); err != nil {
			t.Errorf("login after revocation: got %v, want nil", err)
		}
	})

	t.Run("revoke jti", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if err := s.RevokeJTI(ctx, "jti-bad", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for jti, want := range map[string]bool{"jti-bad": true, "jti-good": false} {
			got, err := s.AccessRevoked(ctx, jti, "carol", t0)
			if err != nil || got != want {
				t.Errorf("%s: got %v, %v, want %v", jti, got, err, want)
			}
		}
	})

	const window = 10 * time.Second

	t.Run("a retry inside the window returns the family and changes nothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := storeFamily(t, s, "fam-retry", "alice-retry", t0, idle, absolute)
		at := t0.Add(time.Minute)
		if _, err := rotateRetry(s, "fam-retry-0", "fam-retry-1", at, idle, window); err != nil {
			t.Fatalf("first exchange: %v", err)
		}
		// The answer was lost; the client presents the same token again,
		// twice, and is rotated into the same successor each time.
		for i, d := range []time.Duration{time.Second, window - time.Millisecond} {
			got, err := rotateRetry(s, "fam-retry-0", "fam-retry-1", at.Add(d), idle, window)
			if err != nil {
				t.Fatalf("retry #%d: got %v, want nil", i+1, err)
			}
			if got.ID != want.ID || got.Subject != want.Subject {
				t.Fatalf("retry #%d: got family %q of %q, want %q of %q", i+1, got.ID, got.Subject, want.ID, want.Subject)
			}
		}
		// The successor is intact and rotates normally.
		if _, err := rotateRetry(s, "fam-retry-1", "fam-retry-2", at.Add(20*time.Second), idle, window); err != nil {
			t.Fatalf("successor after retries: got %v, want nil", err)
		}
		if _, err := s.Family(ctx, hashOf("fam-retry-2"), at.Add(21*time.Second)); err != nil {
			t.Fatalf("family after retries: got %v, want nil", err)
		}
	})

	t.Run("a retry after the window is reuse", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-retry-late", "alice-retry-late", t0, idle, absolute)
		at := t0.Add(time.Minute)
		if _, err := rotateRetry(s, "fam-retry-late-0", "fam-retry-late-1", at, idle, window); err != nil {
			t.Fatal(err)
		}
		if _, err := rotateRetry(s, "fam-retry-late-0", "fam-retry-late-1", at.Add(window), idle, window); !errors.Is(err, token.ErrRefreshReused) {
			t.Fatalf("replay at the end of the window: got %v, want %v", err, token.ErrRefreshReused)
		}
		if _, err := rotate(s, "fam-retry-late-1", "fam-retry-late-2", at.Add(window+time.Second), idle); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Fatalf("successor after reuse: got %v, want %v", err, token.ErrInvalidRefresh)
		}
	})

	t.Run("a retry after the successor was used is reuse", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-retry-used", "alice-retry-used", t0, idle, absolute)
		at := t0.Add(time.Minute)
		if _, err := rotateRetry(s, "fam-retry-used-0", "fam-retry-used-1", at, idle, window); err != nil {
			t.Fatal(err)
		}
		if _, err := rotateRetry(s, "fam-retry-used-1", "fam-retry-used-2", at.Add(time.Second), idle, window); err != nil {
			t.Fatal(err)
		}
		// The client got its answer and moved on: whoever presents the
		// first token now holds a copy.
		if _, err := rotateRetry(s, "fam-retry-used-0", "fam-retry-used-1", at.Add(2*time.Second), idle, window); !errors.Is(err, token.ErrRefreshReused) {
			t.Fatalf("replay after the successor was used: got %v, want %v", err, token.ErrRefreshReused)
		}
		if _, err := rotate(s, "fam-retry-used-2", "fam-retry-used-3", at.Add(3*time.Second), idle); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Fatalf("newest token after reuse: got %v, want %v", err, token.ErrInvalidRefresh)
		}
	})

	t.Run("a second presentation asking for another successor is reuse inside the window", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-retry-fork", "alice-retry-fork", t0, idle, absolute)
		at := t0.Add(time.Minute)
		if _, err := rotateRetry(s, "fam-retry-fork-0", "fam-retry-fork-1", at, idle, window); err != nil {
			t.Fatal(err)
		}
		if _, err := rotateRetry(s, "fam-retry-fork-0", "fam-retry-fork-x", at.Add(time.Second), idle, window); !errors.Is(err, token.ErrRefreshReused) {
			t.Fatalf("fork: got %v, want %v", err, token.ErrRefreshReused)
		}
		for _, tok := range []string{"fam-retry-fork-1", "fam-retry-fork-x"} {
			if _, err := rotate(s, tok, tok+"-next", at.Add(2*time.Second), idle); !errors.Is(err, token.ErrInvalidRefresh) {
				t.Errorf("%s after the fork: got %v, want %v", tok, err, token.ErrInvalidRefresh)
			}
		}
	})

	t.Run("without a window a retry is reuse", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-noretry", "alice-noretry", t0, idle, absolute)
		at := t0.Add(time.Minute)
		if _, err := rotate(s, "fam-noretry-0", "fam-noretry-1", at, idle); err != nil {
			t.Fatal(err)
		}
		if _, err := rotate(s, "fam-noretry-0", "fam-noretry-1", at.Add(time.Millisecond), idle); !errors.Is(err, token.ErrRefreshReused) {
			t.Fatalf("got %v, want %v", err, token.ErrRefreshReused)
		}
	})

	t.Run("a retry of a revoked family is refused", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-retry-rev", "alice-retry-rev", t0, idle, absolute)
		at := t0.Add(time.Minute)
		if _, err := rotateRetry(s, "fam-retry-rev-0", "fam-retry-rev-1", at, idle, window); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeFamily(ctx, "fam-retry-rev", at.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := rotateRetry(s, "fam-retry-rev-0", "fam-retry-rev-1", at.Add(2*time.Second), idle, window); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Fatalf("got %v, want %v", err, token.ErrInvalidRefresh)
		}
	})

	t.Run("concurrent retries of one rotation share one successor", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-retry-race", "alice-retry-race", t0, idle, absolute)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = rotateRetry(s, "fam-retry-race-0", "fam-retry-race-1", t0.Add(time.Minute), idle, window)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("exchange %d: got %v, want nil", i, err)
			}
		}
		if _, err := rotate(s, "fam-retry-race-1", "fam-retry-race-2", t0.Add(2*time.Minute), idle); err != nil {
			t.Errorf("the shared successor: got %v, want nil", err)
		}
	})

	t.Run("concurrent exchanges of one token", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		storeFamily(t, s, "fam-race", "alice-race", t0, idle, absolute)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = rotate(s, "fam-race-0", fmt.Sprintf("fam-race-next-%d", i), t0.Add(time.Minute), idle)
			}()
		}
		close(start)
		wg.Wait()
		ok, reused := 0, 0
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
				winner = i
			case errors.Is(err, token.ErrRefreshReused):
				reused++
			case errors.Is(err, token.ErrInvalidRefresh):
				// Lost the race after the family was already revoked.
			default:
				t.Errorf("exchange %d: unexpected error %v", i, err)
			}
		}
		if ok != 1 || reused < 1 {
			t.Fatalf("got %d successes and %d reuses, want exactly 1 and at least 1", ok, reused)
		}
		if _, err := rotate(s, fmt.Sprintf("fam-race-next-%d", winner), "after", t0.Add(2*time.Minute), idle); !errors.Is(err, token.ErrInvalidRefresh) {
			t.Errorf("winner's token after the race: got %v, want %v", err, token.ErrInvalidRefresh)
		}
	})
}
