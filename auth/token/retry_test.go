package token_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/token"
)

func durationPtr(d time.Duration) *time.Duration { return &d }

func hashToken(tok string) [sha256.Size]byte { return sha256.Sum256([]byte(tok)) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestRefreshRetryReturnsTheSameRefreshToken is the lost answer: the
// client's refresh was applied, the connection was cut before the answer
// arrived, and the client retries with the token it still holds.
func TestRefreshRetryReturnsTheSameRefreshToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	p := f.issue(t, "alice", "admin")
	lost, err := f.m.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Second)
	retry, err := f.m.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatalf("retry inside the window: got %v, want a pair", err)
	}
	if retry.RefreshToken != lost.RefreshToken {
		t.Fatalf("retry: got refresh token %q, want the lost one %q", retry.RefreshToken, lost.RefreshToken)
	}
	if id, err := f.m.Verify(ctx, retry.AccessToken); err != nil || id.Subject != "alice" {
		t.Fatalf("retry's access token: got %v, %v", id, err)
	}
	// The client carries on with the token from the retry.
	next, err := f.m.Refresh(ctx, retry.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after the retry: got %v, want a pair", err)
	}
	// Now the first token is theirs no longer: presenting it is reuse,
	// even inside the window, and revokes the family.
	if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrRefreshReused) {
		t.Fatalf("replay after the successor was used: got %v, want %v", err, token.ErrRefreshReused)
	}
	if _, err := f.m.Refresh(ctx, next.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
		t.Fatalf("newest token after reuse: got %v, want %v", err, token.ErrInvalidRefresh)
	}
}

func TestRefreshRetryAfterTheWindowIsReuse(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *token.Config) { c.RefreshRetryWindow = durationPtr(5 * time.Second) })
	ctx := context.Background()
	p := f.issue(t, "alice")
	first, err := f.m.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Second)
	if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrRefreshReused) {
		t.Fatalf("replay after the window: got %v, want %v", err, token.ErrRefreshReused)
	}
	if _, err := f.m.Refresh(ctx, first.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
		t.Fatalf("successor after reuse: got %v, want %v", err, token.ErrInvalidRefresh)
	}
}

func TestRefreshRetryWindowOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *token.Config) { c.RefreshRetryWindow = durationPtr(0) })
	ctx := context.Background()
	p := f.issue(t, "alice")
	first, err := f.m.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Refresh(ctx, p.RefreshToken); !errors.Is(err, token.ErrRefreshReused) {
		t.Fatalf("immediate replay without a window: got %v, want %v", err, token.ErrRefreshReused)
	}
	if _, err := f.m.Refresh(ctx, first.RefreshToken); !errors.Is(err, token.ErrInvalidRefresh) {
		t.Fatalf("successor after reuse: got %v, want %v", err, token.ErrInvalidRefresh)
	}
}

// TestRefreshRetryOnAnotherReplica: the retry lands on the other replica
// (the load balancer moved it off the one that died mid-answer). Both
// derive the same successor from the shared key.
func TestRefreshRetryOnAnotherReplica(t *testing.T) {
	t.Parallel()
	a := newFixture(t, nil)
	b, err := token.New(token.Config{AccessTTL: 15 * time.Minute, RefreshTTL: 24 * time.Hour,
		SigningKey: a.keyPath, Store: a.store, Now: a.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := a.issue(t, "alice")
	lost, err := a.m.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := b.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatalf("retry on the other replica: got %v, want a pair", err)
	}
	if retry.RefreshToken != lost.RefreshToken {
		t.Fatal("the replicas rotated the token into different successors")
	}
}

// TestRefreshSuccessorNeedsTheKey: the successor of a token is not
// computable from the token alone. A manager with another key (an attacker
// holding a used token and this code) derives a different one.
func TestRefreshSuccessorNeedsTheKey(t *testing.T) {
	t.Parallel()
	a := newFixture(t, nil)
	ctx := context.Background()
	p := a.issue(t, "alice")
	first, err := a.m.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	other := newFixture(t, nil)
	if err := other.store.CreateFamily(ctx, token.Family{ID: "x", Subject: "alice", Created: t0, Expires: t0.Add(time.Hour)},
		token.RefreshToken{Hash: hashToken(p.RefreshToken), FamilyID: "x", Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	guess, err := other.m.Refresh(ctx, p.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if guess.RefreshToken == first.RefreshToken {
		t.Fatal("the successor was derived without the deployment's key")
	}
	if !strings.HasPrefix(first.RefreshToken, "rrt_") || len(first.RefreshToken) != len(p.RefreshToken) {
		t.Fatalf("successor %q does not look like a refresh token", first.RefreshToken)
	}
}

func TestRefreshRetryWindowBounds(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{-time.Second, token.MaxRefreshRetryWindow + time.Second} {
		_, err := token.New(token.Config{AccessTTL: time.Minute, RefreshTTL: time.Hour, InsecureEphemeralKey: true,
			Store: token.NewMemoryStore(), RefreshRetryWindow: durationPtr(d), Logger: discard()})
		if err == nil || !strings.Contains(err.Error(), "refresh_retry_window") {
			t.Errorf("window %s: got %v, want an error naming refresh_retry_window", d, err)
		}
	}
}
