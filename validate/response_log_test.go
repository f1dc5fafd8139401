package validate

import (
	"testing"
	"time"
)

func TestMismatchLogBucket(t *testing.T) {
	t.Parallel()
	var m mismatchLog
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for i := range mismatchBurst {
		if ok, left := m.allow(t0); !ok || left != 0 {
			t.Fatalf("line %d of the burst: allow = %v, %d", i, ok, left)
		}
	}
	for range 50 {
		if ok, _ := m.allow(t0.Add(time.Second)); ok {
			t.Fatal("a line past the burst was allowed")
		}
	}
	// One interval later one more line, carrying the count left out.
	if ok, left := m.allow(t0.Add(time.Second + mismatchEvery)); !ok || left != 50 {
		t.Fatalf("after an interval: allow = %v, %d; want true, 50", ok, left)
	}
	if ok, _ := m.allow(t0.Add(time.Second + mismatchEvery)); ok {
		t.Fatal("two lines in one interval")
	}
	// A clock that steps back never adds tokens, nor when it comes back.
	if ok, _ := m.allow(t0); ok {
		t.Fatal("a clock step back refilled the bucket")
	}
	if ok, _ := m.allow(t0.Add(time.Second + mismatchEvery + mismatchEvery/2)); ok {
		t.Fatal("the time stepped back over was counted again")
	}
	// A long quiet period refills the burst, no more.
	later := t0.Add(time.Hour)
	for i := range mismatchBurst {
		if ok, _ := m.allow(later); !ok {
			t.Fatalf("line %d after a quiet hour refused", i)
		}
	}
	if ok, _ := m.allow(later); ok {
		t.Fatal("the bucket refilled past its burst")
	}
}
