package logging

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"
)

// both writes r through slog.JSONHandler and through jsonHandler and
// returns the two outputs.
func both(t testing.TB, r slog.Record) (want, got string) {
	t.Helper()
	var a, b bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	if err := slog.NewJSONHandler(&a, opts).Handle(context.Background(), r.Clone()); err != nil {
		t.Fatal(err)
	}
	if err := newJSONHandler(&b, opts).Handle(context.Background(), r.Clone()); err != nil {
		t.Fatal(err)
	}
	return a.String(), b.String()
}

type marshaler struct{}

func (marshaler) MarshalJSON() ([]byte, error) { return []byte(`{"m":1}`), nil }

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("resolved") }

func TestJSONHandlerMatchesSlog(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 2, 30, 0, 123456789, time.FixedZone("x", 3600))
	cases := map[string][]slog.Attr{
		"access line": {
			slog.String("request_id", "01JF2K"), slog.String("method", "GET"), slog.String("host", "app.example"),
			slog.String("path", "/api/items/42"), slog.String("route", "GET /api/items/{id}"), slog.Int("status", 200),
			slog.Float64("duration_ms", 0.173), slog.Int64("bytes", 46), slog.String("client_ip", "192.0.2.1"),
			slog.String("policy", "upstream"), slog.String("upstream", "http://127.0.0.1:3000"), slog.String("proto", "HTTP/1.1"),
		},
		"escapes": {
			slog.String("s", "a\"b\\c\nd\re\tf\x00g\x1f\x7f<>&'\u2028\u2029é\xff\xfe"),
			slog.String("k\"ey\n", "v"), slog.String("", "empty key"),
		},
		"numbers": {
			slog.Int64("min", math.MinInt64), slog.Uint64("max", math.MaxUint64), slog.Float64("zero", 0),
			slog.Float64("negzero", math.Copysign(0, -1)), slog.Float64("tiny", 1e-7), slog.Float64("small", 1e-6),
			slog.Float64("big", 1e21), slog.Float64("below", 999999999999999999999), slog.Float64("neg", -1.5e-300),
			slog.Float64("third", 1.0/3), slog.Float64("max", math.MaxFloat64), slog.Float64("sub", 5e-324),
		},
		"other scalars": {
			slog.Bool("t", true), slog.Bool("f", false), slog.Duration("d", 1500*time.Millisecond),
			slog.Time("at", now), slog.Time("utc", now.UTC()), slog.Time("zero", time.Time{}),
		},
		"empty attr": {{}, slog.String("after", "x")},
		// Kinds the fast path leaves to slog: the output must still agree.
		"any":        {slog.Any("m", marshaler{}), slog.String("x", "y")},
		"error":      {slog.Any("err", errors.New("boom")), slog.String("x", "y")},
		"nil any":    {slog.Any("nil", nil)},
		"group":      {slog.Group("g", slog.String("a", "b"), slog.Int("n", 1))},
		"valuer":     {slog.Any("v", valuer{})},
		"nan":        {slog.Float64("nan", math.NaN())},
		"inf":        {slog.Float64("inf", math.Inf(1))},
		"year 10000": {slog.Time("far", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))},
	}
	for name, attrs := range cases {
		for _, at := range []time.Time{now, {}} {
			r := slog.NewRecord(at, slog.LevelWarn+1, "msg \"quoted\"\n", 0)
			r.AddAttrs(attrs...)
			want, got := both(t, r)
			if got != want {
				t.Errorf("%s (time %v):\n got %s\nwant %s", name, at, got, want)
			}
		}
	}
}

// TestJSONHandlerWithAndLevel: loggers derived with With and WithGroup,
// and the level filter, behave as slog.JSONHandler's.
func TestJSONHandlerWithAndLevel(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelWarn}
	la := slog.New(slog.NewJSONHandler(&a, opts))
	lb := slog.New(newJSONHandler(&b, opts))
	for _, l := range []*slog.Logger{la, lb} {
		l.Info("dropped")
		l.Warn("kept", "n", 1)
		l.With("component", "x").WithGroup("g").Error("grouped", "k", "v")
	}
	// Time differs between the two loggers' records: compare without it.
	strip := func(s string) string {
		var out []byte
		for _, line := range bytes.Split([]byte(s), []byte("\n")) {
			if i := bytes.Index(line, []byte(`"level"`)); i > 0 {
				line = line[i:]
			}
			out = append(append(out, line...), '\n')
		}
		return string(out)
	}
	if strip(a.String()) != strip(b.String()) {
		t.Errorf("got\n%s\nwant\n%s", b.String(), a.String())
	}
	if bytes.Contains(b.Bytes(), []byte("dropped")) {
		t.Error("a record below the level was written")
	}
}

// FuzzJSONHandler: for any strings and numbers, the fast encoder writes
// what slog.JSONHandler writes.
func FuzzJSONHandler(f *testing.F) {
	f.Add("request", "path", "/a/b?c=d", int64(200), 0.173, uint64(7), true, int64(1733365800123456789))
	f.Add("\u2028", "\x00\"\\", "\xff\xfeé\u2029", int64(-1), 1e-7, uint64(0), false, int64(0))
	f.Add("", "", "", int64(0), 1e21, uint64(1<<63), true, int64(-62135596800000000000/1e9))
	f.Fuzz(func(t *testing.T, msg, key, val string, i int64, fl float64, u uint64, b bool, unix int64) {
		r := slog.NewRecord(time.Unix(0, unix), slog.LevelInfo, msg, 0)
		r.AddAttrs(slog.String(key, val), slog.Int64(val, i), slog.Float64("f", fl), slog.Uint64(key, u),
			slog.Bool("b", b), slog.Duration("d", time.Duration(i)), slog.Time("t", time.Unix(0, unix).UTC()))
		want, got := both(t, r)
		if got != want {
			t.Fatalf("\n got %q\nwant %q", got, want)
		}
	})
}

func accessRecord() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("request_id", "01JF2K7Q3W8Y"), slog.String("method", "GET"), slog.String("host", "app.example"),
		slog.String("path", "/api/items/42"), slog.String("route", "GET /api/items/{id}"), slog.Int("status", 200),
		slog.Float64("duration_ms", 0.173), slog.Int64("bytes", 46), slog.String("client_ip", "192.0.2.1"),
		slog.String("policy", "upstream"), slog.String("upstream", "http://127.0.0.1:3000"), slog.String("proto", "HTTP/1.1"))
	return r
}

// BenchmarkAccessLine: one access-log record through slog.JSONHandler and
// through jsonHandler.
func BenchmarkAccessLine(b *testing.B) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	for _, h := range []struct {
		name string
		h    slog.Handler
	}{{"slog", slog.NewJSONHandler(io.Discard, opts)}, {"rampart", newJSONHandler(io.Discard, opts)}} {
		b.Run(h.name, func(b *testing.B) {
			r := accessRecord()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_ = h.h.Handle(ctx, r)
			}
		})
	}
}

// BenchmarkAccessLogAttrs: the whole call the gateway makes per request,
// Logger.LogAttrs with the access line's attributes.
func BenchmarkAccessLogAttrs(b *testing.B) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	for _, h := range []struct {
		name string
		h    slog.Handler
	}{{"slog", slog.NewJSONHandler(io.Discard, opts)}, {"rampart", newJSONHandler(io.Discard, opts)}} {
		b.Run(h.name, func(b *testing.B) {
			l := slog.New(h.h)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				l.LogAttrs(ctx, slog.LevelInfo, "request",
					slog.String("request_id", "01JF2K7Q3W8Y"), slog.String("method", "GET"), slog.String("host", "app.example"),
					slog.String("path", "/api/items/42"), slog.String("route", "GET /api/items/{id}"), slog.Int("status", 200),
					slog.Float64("duration_ms", 0.173), slog.Int64("bytes", 46), slog.String("client_ip", "192.0.2.1"),
					slog.String("policy", "upstream"), slog.String("upstream", "http://127.0.0.1:3000"), slog.String("proto", "HTTP/1.1"))
			}
		})
	}
}

// unsafeBuffer is a writer that breaks when written to concurrently.
type unsafeBuffer struct {
	busy  bool
	lines int
	bad   bool
}

func (u *unsafeBuffer) Write(p []byte) (int, error) {
	if u.busy {
		u.bad = true
	}
	u.busy = true
	time.Sleep(time.Microsecond)
	u.lines++
	u.busy = false
	return len(p), nil
}

// TestJSONHandlerSerialisesWrites: the fast path, the slog path and loggers
// derived with With never write to the writer at the same time.
func TestJSONHandlerSerialisesWrites(t *testing.T) {
	t.Parallel()
	w := &unsafeBuffer{}
	l := slog.New(newJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	derived := l.With("component", "x")
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				switch g % 3 {
				case 0:
					l.Info("fast", "n", 1)
				case 1:
					l.Info("slow", "any", []int{1})
				default:
					derived.Info("derived")
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if w.bad || w.lines != 800 {
		t.Errorf("concurrent writes: overlapped %v, %d lines of 800", w.bad, w.lines)
	}
}
