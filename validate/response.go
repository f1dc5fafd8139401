package validate

import (
	"bufio"
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// responses are the declared responses of an operation, by status code
// ("200"), range ("2XX") or "DEFAULT".
type responses struct {
	byStatus map[string]*responseDef
	warned   mismatchLog
}

// An operation whose responses never match its declaration (a document
// that is wrong, or an application that ignores it) would otherwise log a
// warning per request. Each operation logs a burst of mismatchBurst lines,
// then one per mismatchEvery; the next line logged says how many were
// left out since the previous one.
const (
	mismatchBurst = 10
	mismatchEvery = 6 * time.Second
)

// mismatchLog is the token bucket that bounds one operation's warnings.
type mismatchLog struct {
	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int
}

// allow reports whether a mismatch at now may be logged and, if so, how
// many were not logged since the previous line.
func (m *mismatchLog) allow(now time.Time) (bool, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch d := now.Sub(m.last); {
	case m.last.IsZero():
		m.tokens, m.last = mismatchBurst, now
	case d > 0:
		// A clock that steps back adds nothing, and the time it steps
		// back over is not counted twice.
		m.tokens = min(mismatchBurst, m.tokens+float64(d)/float64(mismatchEvery))
		m.last = now
	}
	if m.tokens < 1 {
		m.suppressed++
		return false, 0
	}
	m.tokens--
	n := m.suppressed
	m.suppressed = 0
	return true, n
}

// responseDef is one declared response.
type responseDef struct {
	media []*media // nil: no content declared
}

// find returns the declaration that applies to status, or nil.
func (rs *responses) find(status int) *responseDef {
	code := strconv.Itoa(status)
	if d, ok := rs.byStatus[code]; ok {
		return d
	}
	if d, ok := rs.byStatus[code[:1]+"XX"]; ok {
		return d
	}
	return rs.byStatus["DEFAULT"]
}

// serveChecked calls next with a writer that passes everything through to
// the client while keeping a bounded copy, then checks the response
// against op and logs what does not match.
func (v *Validator) serveChecked(w http.ResponseWriter, r *http.Request, op *operation, next http.Handler) {
	rec := &teeWriter{ResponseWriter: w, max: v.respMax}
	next.ServeHTTP(rec, r)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	problems := op.checkResponse(r, rec)
	if len(problems) == 0 {
		return
	}
	ok, left := op.responses.warned.allow(time.Now())
	if !ok {
		return
	}
	attrs := []slog.Attr{slog.String("operation", op.id), slog.String("method", r.Method), slog.String("path", capText(r.URL.Path, 200)),
		slog.Int("status", rec.code), slog.Any("problems", problems)}
	if left > 0 {
		attrs = append(attrs, slog.Int("not_logged", left))
	}
	v.logger.LogAttrs(r.Context(), slog.LevelWarn, "response does not match the OpenAPI document", attrs...)
}

// checkResponse lists how a response differs from its declaration.
func (op *operation) checkResponse(r *http.Request, rec *teeWriter) []string {
	d := op.responses.find(rec.code)
	if d == nil {
		return []string{"status " + strconv.Itoa(rec.code) + " is not declared"}
	}
	if r.Method == http.MethodHead || rec.code == http.StatusNoContent || rec.code == http.StatusNotModified {
		return nil
	}
	if rec.n == 0 {
		return nil
	}
	if d.media == nil {
		return []string{"the response has a body but the document declares no content for status " + strconv.Itoa(rec.code)}
	}
	ctype := rec.ctype
	if ctype == "" {
		return []string{"the response has no Content-Type"}
	}
	m, params := pick(d.media, ctype)
	if m == nil {
		return []string{"Content-Type " + strconv.Quote(capText(ctype, 80)) + " is not declared for status " + strconv.Itoa(rec.code)}
	}
	if m.kind != bodyJSON || m.schema == nil {
		return nil
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return []string{"JSON response is not UTF-8"}
	}
	if rec.truncated {
		return []string{"body not validated: larger than " + strconv.FormatInt(rec.max, 10) + " bytes"}
	}
	if rec.ctEncoding != "" && rec.ctEncoding != "identity" {
		return []string{"body not validated: Content-Encoding " + capText(rec.ctEncoding, 20)}
	}
	if m.schema.fast != nil && fastCheck(rec.buf.Bytes(), m.schema.fast, 1000) == fastValid {
		// Valid in one pass, as request bodies are; anything else is
		// decided and described by the library below.
		return nil
	}
	doc, err := decodeJSON(rec.buf.Bytes(), 1000)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return []string{"body " + strings.TrimPrefix(se.pointer+": ", ": ") + se.msg}
		}
		return []string{"body is not valid UTF-8"}
	}
	if err := m.schema.Validate(doc); err != nil {
		var out []string
		for i, l := range leaves(err, doc) {
			if i == maxFieldErrors {
				break
			}
			out = append(out, "body "+strings.TrimPrefix(l.pointer+": ", ": ")+l.detail)
		}
		return out
	}
	return nil
}

// teeWriter passes a response through and keeps a copy of up to max bytes
// of its body.
type teeWriter struct {
	http.ResponseWriter
	code       int
	ctype      string
	ctEncoding string
	buf        bytes.Buffer
	n          int64
	max        int64
	truncated  bool
}

func (t *teeWriter) WriteHeader(code int) {
	if t.code == 0 && code >= 200 {
		t.code = code
		t.ctype = t.Header().Get("Content-Type")
		t.ctEncoding = t.Header().Get("Content-Encoding")
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(b []byte) (int, error) {
	if t.code == 0 {
		t.WriteHeader(http.StatusOK)
	}
	t.n += int64(len(b))
	if !t.truncated {
		if room := t.max - int64(t.buf.Len()); int64(len(b)) <= room {
			t.buf.Write(b)
		} else {
			t.truncated = true
			t.buf = bytes.Buffer{}
		}
	}
	return t.ResponseWriter.Write(b)
}

// Flush passes through, for streamed responses.
func (t *teeWriter) Flush() {
	if t.code == 0 {
		t.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(t.ResponseWriter).Flush()
}

// Hijack passes through, for protocol upgrades.
func (t *teeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController and problem.Record see the writer
// underneath.
func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
