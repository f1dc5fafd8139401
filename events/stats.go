package events

import (
	"maps"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts requests and refusals by minute over the last 24 hours, and
// the clients, routes and users refused most over the last hour. Counting
// an allowed request is one atomic addition: no lock, no allocation. It is
// safe for concurrent use.
type Stats struct {
	requests atomic.Uint64 // since start
	refused  atomic.Uint64

	mu       sync.Mutex
	byPolicy map[string]uint64 // refusals since start
	minutes  [statsMinutes]bucket
}

const (
	statsMinutes = 24 * 60
	topMinutes   = 60
	// maxKeysPerMinute bounds each minute's top-offender tables: a flood
	// from many addresses cannot grow them without limit; what does not
	// fit is still counted, only not ranked.
	maxKeysPerMinute = 1024
	// TopN is how many keys Top lists per dimension.
	TopN = 10
)

// The dimensions of the top-offender tables.
const (
	dimClientIP = iota
	dimRoute
	dimUser
	dims
)

var dimNames = [dims]string{"client_ip", "route", "user"}

type bucket struct {
	minute   atomic.Int64 // Unix time / 60 of what the bucket counts
	requests atomic.Uint64
	// Under Stats.mu:
	refused  uint64
	byPolicy map[string]uint64
	top      [dims]map[string]uint64
}

// NewStats returns empty Stats.
func NewStats() *Stats { return &Stats{byPolicy: map[string]uint64{}} }

// bucketAt returns the bucket of minute m, reset if it held an older one.
func (s *Stats) bucketAt(m int64) *bucket {
	b := &s.minutes[m%statsMinutes]
	if b.minute.Load() == m {
		return b
	}
	s.mu.Lock()
	if b.minute.Load() != m {
		b.requests.Store(0)
		b.refused = 0
		clear(b.byPolicy)
		for i := range b.top {
			clear(b.top[i])
		}
		b.minute.Store(m)
	}
	s.mu.Unlock()
	return b
}

// Request counts one request that finished at t, allowed or refused.
func (s *Stats) Request(t time.Time) {
	s.requests.Add(1)
	s.bucketAt(minuteOf(t)).requests.Add(1)
}

// Refusal counts e as refused (in addition to Request).
func (s *Stats) Refusal(e *Event) {
	s.refused.Add(1)
	b := s.bucketAt(minuteOf(e.Time))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byPolicy[e.Policy]++
	b.refused++
	if b.byPolicy == nil {
		b.byPolicy = map[string]uint64{}
	}
	b.byPolicy[e.Policy]++
	for d, key := range [dims]string{e.ClientIP, e.Route, e.User} {
		if key == "" {
			continue
		}
		if b.top[d] == nil {
			b.top[d] = map[string]uint64{}
		}
		if _, ok := b.top[d][key]; ok || len(b.top[d]) < maxKeysPerMinute {
			b.top[d][key]++
		}
	}
}

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// Totals are the counts since start, for callers that compute rates by
// difference (a live view's ticks).
type Totals struct {
	Requests uint64            `json:"requests"`
	Refused  uint64            `json:"refused"`
	ByPolicy map[string]uint64 `json:"by_policy"`
}

// Totals returns the counts since start.
func (s *Stats) Totals() Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Totals{Requests: s.requests.Load(), Refused: s.refused.Load(), ByPolicy: maps.Clone(s.byPolicy)}
}

// Since returns the counts between prev and t (what happened since prev was
// taken).
func (t Totals) Since(prev Totals) Totals {
	d := Totals{Requests: t.Requests - prev.Requests, Refused: t.Refused - prev.Refused, ByPolicy: map[string]uint64{}}
	for k, v := range t.ByPolicy {
		if n := v - prev.ByPolicy[k]; n > 0 {
			d.ByPolicy[k] = n
		}
	}
	return d
}

// Window is the count of requests and refusals over a span of time.
type Window struct {
	Requests uint64            `json:"requests"`
	Refused  uint64            `json:"refused"`
	ByPolicy map[string]uint64 `json:"by_policy"`
}

// Point is one minute of the series.
type Point struct {
	Time     time.Time         `json:"time"`
	Requests uint64            `json:"requests"`
	Refused  uint64            `json:"refused"`
	ByPolicy map[string]uint64 `json:"by_policy"`
}

// Series is the counts per minute, oldest first.
type Series struct {
	StepSeconds int     `json:"step_seconds"`
	Points      []Point `json:"points"`
}

// KeyCount is one key of a top-offender table.
type KeyCount struct {
	Key   string `json:"key"`
	Count uint64 `json:"count"`
}

// Snapshot is what Stats has counted, as of Time.
type Snapshot struct {
	Time time.Time `json:"time"`
	// Windows are keyed "1m", "15m", "1h" and "24h". Counts are kept by
	// minute; the oldest minute of a window is weighted by how much of it
	// the window covers, as a sliding window.
	Windows map[string]Window `json:"windows"`
	// Top lists, for "client_ip", "route" and "user", the TopN keys
	// refused most over the last hour.
	Top map[string][]KeyCount `json:"top"`
	// Series covers the last hour, one point per minute.
	Series Series `json:"series"`
}

var windowSpans = []struct {
	name    string
	minutes int64
}{{"1m", 1}, {"15m", 15}, {"1h", 60}, {"24h", statsMinutes - 1}}

// Snapshot returns the counts as of now.
func (s *Stats) Snapshot(now time.Time) Snapshot {
	cur := minuteOf(now)
	// The part of the current minute not yet elapsed: the share of the
	// minute before the window that the window still covers.
	frac := 1 - float64(now.Unix()%60)/60
	snap := Snapshot{Time: now.UTC(), Windows: map[string]Window{}, Top: map[string][]KeyCount{},
		Series: Series{StepSeconds: 60, Points: make([]Point, 0, topMinutes)}}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := func(m int64) *bucket {
		if m < 0 {
			return nil
		}
		b := &s.minutes[m%statsMinutes]
		if b.minute.Load() != m {
			return nil
		}
		return b
	}
	for _, w := range windowSpans {
		var req, ref float64
		by := map[string]float64{}
		add := func(b *bucket, weight float64) {
			if b == nil {
				return
			}
			req += float64(b.requests.Load()) * weight
			ref += float64(b.refused) * weight
			for k, v := range b.byPolicy {
				by[k] += float64(v) * weight
			}
		}
		for m := cur - w.minutes + 1; m <= cur; m++ {
			add(at(m), 1)
		}
		add(at(cur-w.minutes), frac)
		win := Window{Requests: uint64(req + 0.5), Refused: uint64(ref + 0.5), ByPolicy: map[string]uint64{}}
		for k, v := range by {
			if n := uint64(v + 0.5); n > 0 {
				win.ByPolicy[k] = n
			}
		}
		snap.Windows[w.name] = win
	}
	var top [dims]map[string]uint64
	for i := range top {
		top[i] = map[string]uint64{}
	}
	for m := cur - topMinutes + 1; m <= cur; m++ {
		p := Point{Time: time.Unix(m*60, 0).UTC(), ByPolicy: map[string]uint64{}}
		if b := at(m); b != nil {
			p.Requests, p.Refused = b.requests.Load(), b.refused
			maps.Copy(p.ByPolicy, b.byPolicy)
			for d := range b.top {
				for k, v := range b.top[d] {
					top[d][k] += v
				}
			}
		}
		snap.Series.Points = append(snap.Series.Points, p)
	}
	for d, counts := range top {
		list := make([]KeyCount, 0, len(counts))
		for k, v := range counts {
			list = append(list, KeyCount{Key: k, Count: v})
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].Count != list[j].Count {
				return list[i].Count > list[j].Count
			}
			return list[i].Key < list[j].Key
		})
		if len(list) > TopN {
			list = list[:TopN]
		}
		snap.Top[dimNames[d]] = list
	}
	return snap
}
