package shardmap_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/internal/shardmap"
)

func TestGetPutExpiry(t *testing.T) {
	t.Parallel()
	m := shardmap.New[string, int](100, 1)
	sh := m.Lock(m.Index("a"))
	sh.Put("a", 1, 10, 0)
	tests := []struct {
		name  string
		now   int64
		want  int
		found bool
	}{
		{"before expiry", 9, 1, true},
		{"at expiry", 10, 0, false},
		{"after expiry", 11, 0, false},
	}
	for _, tc := range tests {
		if v, ok := sh.Get("a", tc.now); v != tc.want || ok != tc.found {
			t.Errorf("%s: got %d, %v; want %d, %v", tc.name, v, ok, tc.want, tc.found)
		}
	}
	sh.Delete("a")
	if e := sh.Lookup("a"); e != nil {
		t.Errorf("after Delete: got %+v, want nil", e)
	}
	sh.Unlock()
}

func TestEvictsSoonestExpiry(t *testing.T) {
	t.Parallel()
	m := shardmap.New[string, int](4, 1)
	sh := m.Lock(0)
	defer sh.Unlock()
	// Capacity 4: the long-lived entry must survive while short-lived ones
	// make room for each other.
	sh.Put("keep", 0, 1000, 0)
	for i := range 50 {
		sh.Put("k"+strconv.Itoa(i), i, int64(10+i), 0)
	}
	if _, ok := sh.Get("keep", 1); !ok {
		t.Error("the entry expiring last was evicted")
	}
	if n := m.Evictions(); n != 47 {
		t.Errorf("got %d evictions, want 47", n)
	}
}

func TestLockPairNoDeadlock(t *testing.T) {
	t.Parallel()
	m := shardmap.New[string, int](1000, 8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				a, b := (g+i)%8, (g*3+i*5)%8
				x, y := m.LockPair(a, b)
				x.Put(strconv.Itoa(i), i, 1<<40, 0)
				shardmap.UnlockPair(x, y)
			}
		})
	}
	wg.Wait()
	if m.Len() == 0 {
		t.Error("got an empty map")
	}
}
