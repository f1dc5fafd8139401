package logging

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// jsonHandler writes exactly what slog.JSONHandler writes, byte for byte,
// without its per-record costs: records whose attributes are all of the
// scalar kinds (string, integers, finite floats, bool, duration, time) are
// encoded straight into a pooled buffer, floats without encoding/json's
// reflection. Anything else (groups, Any values, LogValuers, loggers made
// with With or WithGroup) goes to the slog.JSONHandler it wraps, so the
// output never depends on which path wrote it. The access log, one record
// per request, is the reason it exists.
type jsonHandler struct {
	inner *slog.JSONHandler
	level slog.Leveler
	w     *lockedWriter
}

// lockedWriter serialises the writes of both paths — and of every logger
// derived with With or WithGroup — so that lines never interleave, whatever
// w is.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newJSONHandler(w io.Writer, opts *slog.HandlerOptions) *jsonHandler {
	lw := &lockedWriter{w: w}
	// The options this package sets are a level only: no ReplaceAttr and no
	// AddSource, which the fast path would have to reproduce.
	return &jsonHandler{
		inner: slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: opts.Level}),
		level: opts.Level,
		w:     lw,
	}
}

func (h *jsonHandler) Enabled(_ context.Context, l slog.Level) bool {
	min := slog.LevelInfo
	if h.level != nil {
		min = h.level.Level()
	}
	return l >= min
}

func (h *jsonHandler) WithAttrs(as []slog.Attr) slog.Handler { return h.inner.WithAttrs(as) }

func (h *jsonHandler) WithGroup(name string) slog.Handler { return h.inner.WithGroup(name) }

var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (h *jsonHandler) Handle(ctx context.Context, r slog.Record) error {
	bp := jsonBuffers.Get().(*[]byte)
	buf, ok := appendJSONRecord((*bp)[:0], r)
	if !ok {
		jsonBuffers.Put(bp)
		return h.inner.Handle(ctx, r)
	}
	_, err := h.w.Write(buf)
	if cap(buf) <= 16<<10 {
		*bp = buf
		jsonBuffers.Put(bp)
	}
	return err
}

// appendJSONRecord appends r as slog.JSONHandler (without options) would
// write it, newline included, or reports false when r holds something only
// slog.JSONHandler should encode.
func appendJSONRecord(buf []byte, r slog.Record) ([]byte, bool) {
	buf = append(buf, '{')
	if !r.Time.IsZero() {
		t := r.Time.Round(0)
		if y := t.Year(); y < 0 || y >= 10000 {
			return buf, false
		}
		buf = append(buf, `"time":"`...)
		buf = t.AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, `",`...)
	}
	buf = append(buf, `"level":`...)
	buf = appendJSONString(buf, r.Level.String())
	buf = append(buf, `,"msg":`...)
	buf = appendJSONString(buf, r.Message)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		buf, ok = appendJSONAttr(buf, a)
		return ok
	})
	if !ok {
		return buf, false
	}
	return append(buf, "}\n"...), true
}

func appendJSONAttr(buf []byte, a slog.Attr) ([]byte, bool) {
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		buf = appendJSONKey(buf, a.Key)
		return appendJSONString(buf, v.String()), true
	case slog.KindInt64:
		buf = appendJSONKey(buf, a.Key)
		return strconv.AppendInt(buf, v.Int64(), 10), true
	case slog.KindUint64:
		buf = appendJSONKey(buf, a.Key)
		return strconv.AppendUint(buf, v.Uint64(), 10), true
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return buf, false
		}
		buf = appendJSONKey(buf, a.Key)
		return appendJSONFloat(buf, f), true
	case slog.KindBool:
		buf = appendJSONKey(buf, a.Key)
		return strconv.AppendBool(buf, v.Bool()), true
	case slog.KindDuration:
		buf = appendJSONKey(buf, a.Key)
		return strconv.AppendInt(buf, int64(v.Duration()), 10), true
	case slog.KindTime:
		t := v.Time()
		if y := t.Year(); y < 0 || y >= 10000 {
			return buf, false
		}
		buf = appendJSONKey(buf, a.Key)
		buf = append(buf, '"')
		buf = t.AppendFormat(buf, time.RFC3339Nano)
		return append(buf, '"'), true
	case slog.KindAny:
		if a.Key == "" && v.Any() == nil {
			return buf, true // the empty Attr, which slog omits
		}
	}
	return buf, false
}

func appendJSONKey(buf []byte, k string) []byte {
	buf = append(buf, ',')
	buf = appendJSONString(buf, k)
	return append(buf, ':')
}

// appendJSONFloat formats f as encoding/json does (which slog.JSONHandler
// calls for floats): shortest representation, exponent form outside
// [1e-6, 1e21), the exponent without a leading zero.
func appendJSONFloat(buf []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(buf); n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as slog.JSONHandler does: no HTML escaping,
// \n \r \t and the other control characters escaped, invalid UTF-8 as
// U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '\\', '"':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
