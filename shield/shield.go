package shield

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rampartsec/rampart/problem"
)

// Config configures a Shield. The zero value shields every 5xx, inspects
// other error responses for leaks and logs through a 1024-entry queue.
type Config struct {
	// Shield turns the shield on or off. Default (nil) true: a zero Config
	// is safe.
	Shield *bool `yaml:"shield" json:"shield,omitempty"`
	// Statuses lists the statuses whose bodies are always replaced: "5xx",
	// "4xx", single codes ("404") and ranges ("500-504"), separated by
	// commas. Only 400-599 are allowed. Default "5xx".
	Statuses string `yaml:"statuses" json:"statuses,omitempty"`
	// Inspect turns leak inspection of the other 4xx/5xx responses on or
	// off. Default (nil) true.
	Inspect *bool `yaml:"inspect" json:"inspect,omitempty"`
	// InspectBytes is how much of an inspected body is held back and
	// searched; the rest streams through unexamined. Default 64KiB.
	InspectBytes int64 `yaml:"inspect_bytes" json:"inspect_bytes,omitempty"`
	// ExcerptBytes is how much of a replaced body goes to the log, after
	// redaction. Default 2KiB.
	ExcerptBytes int64 `yaml:"excerpt_bytes" json:"excerpt_bytes,omitempty"`
	// QueueSize bounds the incident log queue; incidents beyond it are
	// dropped and counted, never waited for. Default 1024.
	QueueSize int `yaml:"queue_size" json:"queue_size,omitempty"`
	// Signatures are extra leak patterns (RE2 regular expressions) searched
	// in inspected bodies, for an application's own error format. Default
	// none.
	Signatures []string `yaml:"signatures" json:"signatures,omitempty"`
	// Logger receives one Error line per incident, from a background
	// goroutine. Default: slog.Default(), so nothing is lost silently; pass a logger with slog.DiscardHandler to drop.
	Logger *slog.Logger `yaml:"-" json:"-"`
	// OnIncident, when set, is called on the request path with the reason
	// of each replaced response ("status", "leak:<signature>", "encoding",
	// "panic"), for example to count rampart_shielded_total. It must be
	// fast and safe for concurrent use.
	OnIncident func(reason string) `yaml:"-" json:"-"`
	// OnLogDropped, when set, is called for each incident the full queue
	// could not take, for rampart_log_dropped_total.
	OnLogDropped func() `yaml:"-" json:"-"`
}

// Shield replaces error responses that could leak internals with neutral
// ones and logs the originals off the request path. It is safe for
// concurrent use. New starts one logging goroutine; Close stops it.
type Shield struct {
	enabled  bool
	statuses [10]uint64 // bit set over status codes 0-639
	inspect  bool
	window   int
	excerpt  int
	sigs     []signature
	log      *slog.Logger
	onInc    func(string)
	onDrop   func()

	queue     chan incident
	done      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	dropped   atomic.Uint64

	writers sync.Pool
}

// incident is one shielded response on its way to the log.
type incident struct {
	id      string
	method  string
	path    string
	status  int
	reason  string
	header  http.Header
	excerpt []byte
	panic   string
	stack   []byte
}

// New returns a Shield for c and starts its logging goroutine. It returns
// an error naming the bad field if c is invalid; it never panics on user
// input.
func New(c Config) (*Shield, error) {
	s := &Shield{
		enabled: c.Shield == nil || *c.Shield,
		inspect: c.Inspect == nil || *c.Inspect,
		log:     c.Logger,
		onInc:   c.OnIncident,
		onDrop:  c.OnLogDropped,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	statuses := c.Statuses
	if statuses == "" {
		statuses = "5xx"
	}
	if err := s.parseStatuses(statuses); err != nil {
		return nil, err
	}
	switch {
	case c.InspectBytes < 0:
		return nil, errors.New("shield: inspect_bytes must not be negative")
	case c.InspectBytes == 0:
		s.window = DefaultInspectBytes
	case c.InspectBytes > 16<<20:
		return nil, errors.New("shield: inspect_bytes must be at most 16MiB")
	default:
		s.window = int(c.InspectBytes)
	}
	switch {
	case c.ExcerptBytes < 0:
		return nil, errors.New("shield: excerpt_bytes must not be negative")
	case c.ExcerptBytes == 0:
		s.excerpt = 2 << 10
	case c.ExcerptBytes > 1<<20:
		return nil, errors.New("shield: excerpt_bytes must be at most 1MiB")
	default:
		s.excerpt = int(c.ExcerptBytes)
	}
	size := c.QueueSize
	switch {
	case size < 0:
		return nil, errors.New("shield: queue_size must not be negative")
	case size == 0:
		size = 1024
	}
	s.sigs = append(s.sigs, builtinSignatures...)
	for i, p := range c.Signatures {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("shield: signatures[%d]: %w", i, err)
		}
		s.sigs = append(s.sigs, signature{name: "custom-" + strconv.Itoa(i), re: re})
	}
	s.queue = make(chan incident, size)
	s.done = make(chan struct{})
	s.stopped = make(chan struct{})
	s.writers.New = func() any { return new(writer) }
	go s.run()
	return s, nil
}

func (s *Shield) parseStatuses(spec string) error {
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi := 0, 0
		switch {
		case part == "":
			continue
		case len(part) == 3 && strings.HasSuffix(strings.ToLower(part), "xx") && (part[0] == '4' || part[0] == '5'):
			lo = int(part[0]-'0') * 100
			hi = lo + 99
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			var err1, err2 error
			lo, err1 = strconv.Atoi(strings.TrimSpace(a))
			hi, err2 = strconv.Atoi(strings.TrimSpace(b))
			if err1 != nil || err2 != nil || lo > hi {
				return fmt.Errorf("shield: statuses: invalid range %q", truncate(part, 20))
			}
		default:
			n, err := strconv.Atoi(part)
			if err != nil {
				return fmt.Errorf("shield: statuses: %q is not a status, a range or 4xx/5xx", truncate(part, 20))
			}
			lo, hi = n, n
		}
		if lo < 400 || hi > 599 {
			// Replacing a 2xx or 3xx body would break the application;
			// the shield is for errors.
			return fmt.Errorf("shield: statuses: %q is outside 400-599", truncate(part, 20))
		}
		for code := lo; code <= hi; code++ {
			s.statuses[code/64] |= 1 << (code % 64)
		}
	}
	return nil
}

func (s *Shield) shielded(code int) bool {
	return code >= 0 && code < 640 && s.statuses[code/64]&(1<<(code%64)) != 0
}

// Dropped returns how many incidents were not logged because the queue was
// full.
func (s *Shield) Dropped() uint64 { return s.dropped.Load() }

// Close stops the logging goroutine after it has logged what is queued. It
// is safe to call more than once. Incidents after Close are dropped and
// counted.
func (s *Shield) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	<-s.stopped
	return nil
}

func (s *Shield) run() {
	defer close(s.stopped)
	for {
		select {
		case inc := <-s.queue:
			s.write(inc)
		case <-s.done:
			for {
				select {
				case inc := <-s.queue:
					s.write(inc)
				default:
					return
				}
			}
		}
	}
}

// enqueue hands inc to the logger without ever blocking the request.
func (s *Shield) enqueue(inc incident) {
	select {
	case <-s.done:
		s.drop()
		return
	default:
	}
	select {
	case s.queue <- inc:
	default:
		s.drop()
	}
}

func (s *Shield) drop() {
	s.dropped.Add(1)
	if s.onDrop != nil {
		s.onDrop()
	}
}

// write logs one incident; redaction happens here, off the request path.
func (s *Shield) write(inc incident) {
	excerpt := inc.excerpt
	if len(excerpt) > s.excerpt+256 {
		excerpt = excerpt[:s.excerpt+256]
	}
	text := RedactText(strings.ToValidUTF8(string(excerpt), "\uFFFD"))
	if len(text) > s.excerpt {
		text = strings.ToValidUTF8(text[:s.excerpt], "") + "…"
	}
	attrs := []slog.Attr{
		slog.String("request_id", inc.id),
		slog.String("method", inc.method),
		slog.String("path", inc.path),
		slog.Int("status", inc.status),
		slog.String("reason", inc.reason),
		slog.Any("headers", RedactHeader(inc.header)),
		slog.String("body", text),
	}
	if inc.panic != "" {
		attrs = append(attrs, slog.String("panic", RedactText(inc.panic)), slog.String("stack", RedactText(string(inc.stack))))
	}
	s.log.LogAttrs(context.Background(), slog.LevelError, "error shielded", attrs...)
}

// Handler returns a handler that shields the responses of h: configured
// statuses are replaced by a neutral problem response with the incident id,
// other error responses are replaced when their first InspectBytes show a
// leak, and panics become a neutral 500. Responses written with
// problem.Write (rampart's own) and 1xx-3xx responses pass untouched.
func (s *Shield) Handler(h http.Handler) http.Handler {
	if !s.enabled {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := s.writers.Get().(*writer)
		sw.init(s, w, r)
		defer s.finish(sw)
		h.ServeHTTP(sw, r)
	})
}

// finish completes a held response, logs, recovers panics and recycles sw.
func (s *Shield) finish(sw *writer) {
	p := recover()
	if p == http.ErrAbortHandler {
		s.release(sw)
		panic(p)
	}
	if p != nil {
		stack := debug.Stack()
		msg := fmt.Sprint(p)
		switch sw.state {
		case statePass:
			// The status line is already on the wire: the only honest
			// thing left is to cut the connection so the client sees a
			// broken response, not a complete-looking one.
			s.record(sw, "panic", nil, msg, stack)
			s.release(sw)
			panic(http.ErrAbortHandler)
		case stateReplaced:
			s.record(sw, "panic", sw.buf, msg, stack)
		default:
			sw.origStatus = sw.status
			sw.status = http.StatusInternalServerError
			s.replace(sw, "panic")
			s.record(sw, "panic", sw.buf, msg, stack)
		}
		s.release(sw)
		return
	}
	switch sw.state {
	case stateInspect:
		sw.decide()
		if sw.state == stateReplaced {
			s.record(sw, sw.reason, sw.buf, "", nil)
		}
	case stateReplaced:
		s.record(sw, sw.reason, sw.buf, "", nil)
	}
	s.release(sw)
}

func (s *Shield) release(sw *writer) {
	buf, pre := sw.buf[:0], sw.pre[:0]
	if cap(buf) > s.window+s.excerpt+4096 {
		buf = nil
	}
	*sw = writer{buf: buf, pre: pre}
	s.writers.Put(sw)
}

func (s *Shield) record(sw *writer, reason string, body []byte, panicMsg string, stack []byte) {
	if sw.id == "" {
		sw.id = problem.IncidentID(sw.ResponseWriter, sw.r)
	}
	if sw.origHeader == nil {
		sw.origHeader = sw.ResponseWriter.Header().Clone()
	}
	s.enqueue(incident{
		id:      sw.id,
		method:  sw.r.Method,
		path:    sw.r.URL.Path,
		status:  sw.origStatus,
		reason:  reason,
		header:  sw.origHeader,
		excerpt: bytes.Clone(body),
		panic:   panicMsg,
		stack:   stack,
	})
}

// replace sends the neutral response for sw.status.
func (s *Shield) replace(sw *writer, reason string) {
	if sw.origHeader == nil {
		sw.origHeader = sw.ResponseWriter.Header().Clone()
	}
	if sw.origStatus == 0 {
		sw.origStatus = sw.status
	}
	sw.resetHeader()
	// After the reset: an id that IncidentID puts on the response must
	// stay there for problem.Write to find.
	if sw.id == "" {
		sw.id = problem.IncidentID(sw.ResponseWriter, sw.r)
	}
	sw.state = stateReplaced
	sw.reason = reason
	if s.onInc != nil {
		s.onInc(reason)
	}
	problem.Write(sw.ResponseWriter, sw.r, problem.Problem{Status: sw.status, Policy: "shield", Reason: reason})
}

const (
	stateNone     uint8 = iota // nothing written yet
	statePass                  // status sent, body streams through
	stateInspect               // status held, body buffered for inspection
	stateReplaced              // neutral response sent, body discarded
)

// mark records a header present before the wrapped handler ran and how many
// values it had: headers set by outer middleware survive a replacement.
type mark struct {
	key string
	n   int
}

// writer is the shield's ResponseWriter for one request.
type writer struct {
	http.ResponseWriter
	s          *Shield
	r          *http.Request
	id         string
	state      uint8
	own        bool // the next status is rampart's own problem response
	status     int
	origStatus int
	reason     string
	origHeader http.Header
	encoding   string
	pre        []mark
	buf        []byte
}

func (w *writer) init(s *Shield, rw http.ResponseWriter, r *http.Request) {
	w.ResponseWriter, w.s, w.r = rw, s, r
	for k, v := range rw.Header() {
		w.pre = append(w.pre, mark{k, len(v)})
	}
}

// resetHeader drops every header the wrapped handler added, keeping those
// outer middleware set (security headers, request id, CORS, rate limits).
func (w *writer) resetHeader() {
	h := w.ResponseWriter.Header()
	for k, v := range h {
		n := -1
		for _, m := range w.pre {
			if m.key == k {
				n = m.n
				break
			}
		}
		switch {
		case n < 0:
			delete(h, k)
		case len(v) > n:
			h[k] = v[:n:n]
		}
	}
}

// RecordDecision implements problem.Recorder: a response that a policy
// writes with problem.Write is already neutral and passes untouched. The
// decision is passed on to the next recorder (the gateway's access log).
func (w *writer) RecordDecision(policy string) {
	w.own = true
	problem.Record(w.ResponseWriter, policy)
}

func (w *writer) WriteHeader(code int) {
	if w.state != stateNone {
		if w.state == statePass {
			w.ResponseWriter.WriteHeader(code)
		}
		return
	}
	switch {
	case code < 200 && code != http.StatusSwitchingProtocols:
		// Interim responses (100, 103) carry no body to shield.
		w.ResponseWriter.WriteHeader(code)
		return
	case w.own, code < 400:
		w.state = statePass
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.status = code
	if w.s.shielded(code) {
		w.s.replace(w, "status")
		return
	}
	ctypes := w.ResponseWriter.Header()["Content-Type"]
	if len(ctypes) > 1 || len(ctypes) == 1 && strings.IndexByte(ctypes[0], ',') >= 0 {
		// Browsers render by the last type they can parse, a check
		// would judge by the first: an error whose type is ambiguous
		// cannot be judged, so it is not sent.
		w.s.replace(w, "content_type")
		return
	}
	if !w.s.inspect || !inspectable(w.ResponseWriter.Header().Get("Content-Type")) {
		w.state = statePass
		w.ResponseWriter.WriteHeader(code)
		return
	}
	switch enc := strings.ToLower(strings.TrimSpace(w.ResponseWriter.Header().Get("Content-Encoding"))); enc {
	case "", "identity", "gzip", "x-gzip", "deflate":
		w.encoding = enc
	default:
		// A body we cannot decompress cannot be inspected; an error body
		// that cannot be inspected is not sent.
		w.s.replace(w, "encoding")
		return
	}
	w.state = stateInspect
}

func (w *writer) Write(b []byte) (int, error) {
	if w.state == stateNone {
		w.WriteHeader(http.StatusOK)
	}
	switch w.state {
	case statePass:
		return w.ResponseWriter.Write(b)
	case stateReplaced:
		// Keep the start of the original for the log; discard the rest.
		if room := w.s.excerpt + 256 - len(w.buf); room > 0 {
			w.buf = append(w.buf, b[:min(room, len(b))]...)
		}
		return len(b), nil
	}
	// stateInspect.
	room := w.s.window - len(w.buf)
	take := min(room, len(b))
	w.buf = append(w.buf, b[:take]...)
	if len(w.buf) < w.s.window {
		return len(b), nil
	}
	w.decide()
	if w.state == stateReplaced {
		return len(b), nil
	}
	n, err := w.ResponseWriter.Write(b[take:])
	return take + n, err
}

// decide inspects the held bytes and either replaces the response or sends
// it on.
func (w *writer) decide() {
	text := w.buf
	inflated := false
	if w.encoding != "" && w.encoding != "identity" && len(w.buf) > 0 {
		var err error
		text, err = decompress(w.encoding, w.buf, w.s.window)
		if err != nil && len(text) == 0 {
			w.s.replace(w, "encoding")
			return
		}
		inflated = true
	}
	for i := range w.s.sigs {
		if w.s.sigs[i].match(text) {
			if inflated {
				// Log what the client would have read.
				w.buf = append(w.buf[:0], text...)
			}
			w.s.replace(w, "leak:"+w.s.sigs[i].name)
			return
		}
	}
	w.state = statePass
	w.ResponseWriter.WriteHeader(w.status)
	if len(w.buf) > 0 {
		_, _ = w.ResponseWriter.Write(w.buf)
	}
}

// decompress inflates the first limit bytes of a possibly truncated body.
func decompress(enc string, b []byte, limit int) ([]byte, error) {
	var r io.Reader
	if enc == "deflate" {
		// "deflate" is zlib in HTTP, raw deflate from some servers.
		if zr, err := zlibOrRaw(b); err == nil {
			r = zr
		} else {
			return nil, err
		}
	} else {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		r = zr
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// The window cut the stream: what was inflated is still text.
		err = nil
	}
	return out, err
}

func zlibOrRaw(b []byte) (io.Reader, error) {
	if len(b) >= 2 && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 {
		return flate.NewReader(bytes.NewReader(b[2:])), nil
	}
	return flate.NewReader(bytes.NewReader(b)), nil
}

// inspectable reports whether an error body of this content type is
// inspected. Everything is, except images (but SVG, which is XML and runs
// script), audio and video: a stack trace or a debug page can be served
// under any other type (application/octet-stream, application/pdf,
// application/x-javascript, …), and browsers sniff untyped bodies.
func inspectable(ctype string) bool {
	if ctype == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return true
	}
	switch {
	case mt == "image/svg+xml":
		return true
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"), strings.HasPrefix(mt, "video/"):
		return false
	}
	return true
}

// FlushError flushes a response that streams through; a held or replaced
// response is not flushed, since flushing would send the status line.
func (w *writer) FlushError() error {
	if w.state == stateNone {
		w.WriteHeader(http.StatusOK)
	}
	if w.state != statePass {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush implements http.Flusher for handlers that type-assert it.
func (w *writer) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var (
	_ http.ResponseWriter = (*writer)(nil)
	_ http.Flusher        = (*writer)(nil)
	_ problem.Recorder    = (*writer)(nil)
)

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Policy is the name every middleware package gives its middleware
// (headers.Policy, cors.Policy, access.Policy, …): New returns one, and its
// Handler method wraps an http.Handler.
type Policy = Shield
