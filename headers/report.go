package headers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rampartsec/rampart/internal/shardmap"
	"github.com/rampartsec/rampart/limits"
	"github.com/rampartsec/rampart/problem"
)

// ReportConfig configures a ReportHandler.
type ReportConfig struct {
	// MaxBodyBytes caps a report request's body; larger ones get 413.
	// Default 64KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes" json:"max_body_bytes,omitempty"`
	// PerMinute is how many reports are accepted per minute, all clients
	// together, with bursts of a tenth of it. Each report counts, not each
	// request: a request may carry up to MaxReports. Reports over the
	// budget are dropped and counted; a request none of whose reports fit
	// gets 429. It protects the log, not the browser. Default 600.
	PerMinute int `yaml:"per_minute" json:"per_minute,omitempty"`
	// PerClientPerMinute is how many reports are accepted per minute from
	// one client (IPv6: its /64), with bursts of up to MaxReports, so that
	// one client cannot use up everyone's budget. Default 60.
	PerClientPerMinute int `yaml:"per_client_per_minute" json:"per_client_per_minute,omitempty"`
	// MaxReports is how many reports of one request are read; the rest are
	// ignored. Default 20.
	MaxReports int `yaml:"max_reports" json:"max_reports,omitempty"`
	// ClientIP returns a request's client address. Default: the TCP peer.
	// Pass a clientip.Resolver's ClientIP behind trusted proxies.
	ClientIP func(*http.Request) netip.Addr `yaml:"-" json:"-"`
	// Logger receives one line per violation at Warn level. Default:
	// slog.Default(), so nothing is lost silently.
	Logger *slog.Logger `yaml:"-" json:"-"`
	// OnViolation, when set, is called for each accepted violation, for
	// example to count rampart_csp_violations_total by directive. It must be
	// fast and safe for concurrent use.
	OnViolation func(Violation) `yaml:"-" json:"-"`
	// OnDrop, when set, is called with the reason for each report dropped
	// over the budget — "rate" (all clients' budget) or "client_rate" (the
	// client's) — and once for each request refused whole: "size", "type",
	// "method" or "malformed".
	OnDrop func(reason string) `yaml:"-" json:"-"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `yaml:"-" json:"-"`
}

// Violation is one CSP violation report, normalised from either format and
// sanitised: URLs lose their query and fragment (they may hold tokens),
// strings are capped, and Directive is a known directive name or "unknown",
// so it is safe as a metric label.
type Violation struct {
	// Format is "csp-report" (application/csp-report) or "reports+json"
	// (the Reporting API).
	Format string
	// DocumentURL is the page where the violation happened.
	DocumentURL string
	// Directive is the effective directive that was violated.
	Directive string
	// BlockedURL is what was blocked: a URL, or "inline", "eval", "data"…
	BlockedURL string
	// SourceFile, Line and Column locate the code that caused it.
	SourceFile string
	Line       int
	Column     int
	// Disposition is "enforce" or "report".
	Disposition string
	// Sample is the first characters of the blocked inline code, when the
	// policy asks for 'report-sample'.
	Sample string
}

// ReportHandler receives CSP violation reports in both formats browsers
// send, with size and rate limits, and logs and counts them. It is safe for
// concurrent use.
type ReportHandler struct {
	cfg ReportConfig
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
	rate   float64 // tokens per second
	burst  float64

	// clients holds each client's budget as a GCRA theoretical arrival
	// time in Unix nanoseconds; an entry whose time has passed is a full
	// budget and may be dropped. The map is bounded; when full, the entry
	// nearest to full is evicted.
	clients        *shardmap.Map[netip.Addr, int64]
	clientInterval int64 // nanoseconds per report
	clientBurst    int64
	clientIP       func(*http.Request) netip.Addr
}

// reportClients bounds the clients whose report budgets are remembered.
const reportClients = 10000

var _ http.Handler = (*ReportHandler)(nil)

// NewReportHandler returns a ReportHandler for c.
func NewReportHandler(c ReportConfig) (*ReportHandler, error) {
	if c.MaxBodyBytes < 0 || c.PerMinute < 0 || c.PerClientPerMinute < 0 || c.MaxReports < 0 {
		return nil, errors.New("headers: report limits must not be negative")
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.PerMinute == 0 {
		c.PerMinute = 600
	}
	if c.PerClientPerMinute == 0 {
		c.PerClientPerMinute = 60
	}
	if c.MaxReports == 0 {
		c.MaxReports = 20
	}
	h := &ReportHandler{cfg: c, log: c.Logger, now: c.Now, clientIP: c.ClientIP}
	if h.clientIP == nil {
		h.clientIP = peerAddr
	}
	h.clients = shardmap.New[netip.Addr, int64](reportClients, 0)
	h.clientInterval = int64(time.Minute) / int64(c.PerClientPerMinute)
	h.clientBurst = int64(max(min(c.MaxReports, c.PerClientPerMinute), 1))
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.rate = float64(c.PerMinute) / 60
	h.burst = max(float64(c.PerMinute)/10, 1)
	h.tokens = h.burst
	return h, nil
}

// take takes up to n reports from the budget of all clients and returns
// how many it took.
func (h *ReportHandler) take(now time.Time, n int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.last.IsZero() {
		if el := now.Sub(h.last).Seconds(); el > 0 {
			h.tokens = min(h.burst, h.tokens+el*h.rate)
		}
	}
	h.last = now
	k := min(n, int(h.tokens))
	h.tokens -= float64(k)
	return max(k, 0)
}

// takeClient takes up to n reports from client's budget and returns how
// many it took. With n == 0 it only reports whether one would fit (1) or
// not (0).
func (h *ReportHandler) takeClient(now time.Time, client netip.Addr, n int) int {
	t := now.UnixNano()
	key := limits.ClientKey(client)
	sh := h.clients.Lock(h.clients.Index(string(key.AsSlice())))
	defer sh.Unlock()
	tat, ok := sh.Get(key, t)
	if !ok || tat < t {
		tat = t
	}
	avail := (t + h.clientBurst*h.clientInterval - tat) / h.clientInterval
	if n == 0 {
		return int(min(avail, 1))
	}
	k := min(int64(n), max(avail, 0))
	if k > 0 {
		tat += k * h.clientInterval
		sh.Put(key, tat, tat, t)
	}
	return int(k)
}

// giveBack returns k reports taken by takeClient that were not used.
func (h *ReportHandler) giveBack(client netip.Addr, k int) {
	key := limits.ClientKey(client)
	sh := h.clients.Lock(h.clients.Index(string(key.AsSlice())))
	defer sh.Unlock()
	if e := sh.Lookup(key); e != nil {
		e.V -= int64(k) * h.clientInterval
		e.Exp = e.V
	}
}

func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// peek reports whether the budget of all clients has a report left (1) or
// not (0), taking nothing.
func (h *ReportHandler) peek(now time.Time) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	tokens := h.tokens
	if !h.last.IsZero() {
		if el := now.Sub(h.last).Seconds(); el > 0 {
			tokens = min(h.burst, tokens+el*h.rate)
		}
	}
	if tokens < 1 {
		return 0
	}
	return 1
}

// refuseRate answers a request refused before its body was read, because
// no report could be accepted.
func (h *ReportHandler) refuseRate(w http.ResponseWriter, r *http.Request, reason string) {
	w.Header().Set("Retry-After", "60")
	h.drop(w, r, reason, http.StatusTooManyRequests)
}

func (h *ReportHandler) drop(w http.ResponseWriter, r *http.Request, reason string, status int) {
	if h.cfg.OnDrop != nil {
		h.cfg.OnDrop(reason)
	}
	problem.Write(w, r, problem.Problem{Status: status, Policy: "csp-report", Reason: reason})
}

// ServeHTTP accepts a POST of application/csp-report or
// application/reports+json (application/json is read as either) and answers
// 204. Everything else is rejected with a neutral problem response.
func (h *ReportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.drop(w, r, "method", http.StatusMethodNotAllowed)
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil:
		h.drop(w, r, "type", http.StatusUnsupportedMediaType)
		return
	case mt == "application/csp-report", mt == "application/reports+json", mt == "application/json":
	default:
		h.drop(w, r, "type", http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		h.drop(w, r, "size", http.StatusRequestEntityTooLarge)
		return
	}
	// Refuse before reading the body when no report could be accepted.
	now := h.now()
	client := h.clientIP(r)
	if h.takeClient(now, client, 0) == 0 {
		h.refuseRate(w, r, "client_rate")
		return
	}
	if h.peek(now) == 0 {
		h.refuseRate(w, r, "rate")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.drop(w, r, "size", http.StatusRequestEntityTooLarge)
			return
		}
		h.drop(w, r, "malformed", http.StatusBadRequest)
		return
	}
	vs, err := ParseReports(body, h.cfg.MaxReports)
	if err != nil {
		h.drop(w, r, "malformed", http.StatusBadRequest)
		return
	}
	// Each report counts: first against the client's budget, then against
	// everyone's; what the second cannot take goes back to the first.
	took := h.takeClient(now, client, len(vs))
	accepted := h.take(now, took)
	if accepted < took {
		h.giveBack(client, took-accepted)
	}
	if h.cfg.OnDrop != nil {
		for range took - accepted {
			h.cfg.OnDrop("rate")
		}
		for range len(vs) - took {
			h.cfg.OnDrop("client_rate")
		}
	}
	if accepted == 0 && len(vs) > 0 {
		w.Header().Set("Retry-After", "60")
		problem.Write(w, r, problem.Problem{Status: http.StatusTooManyRequests, Policy: "csp-report", Reason: "rate"})
		return
	}
	for _, v := range vs[:accepted] {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "csp violation",
			slog.String("format", v.Format),
			slog.String("directive", v.Directive),
			slog.String("blocked", v.BlockedURL),
			slog.String("document", v.DocumentURL),
			slog.String("source", v.SourceFile),
			slog.Int("line", v.Line),
			slog.Int("column", v.Column),
			slog.String("disposition", v.Disposition),
			slog.String("sample", v.Sample))
		if h.cfg.OnViolation != nil {
			h.cfg.OnViolation(v)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// cspReport is the body of application/csp-report (CSP Level 2).
type cspReport struct {
	Report *struct {
		DocumentURI        string `json:"document-uri"`
		ViolatedDirective  string `json:"violated-directive"`
		EffectiveDirective string `json:"effective-directive"`
		BlockedURI         string `json:"blocked-uri"`
		SourceFile         string `json:"source-file"`
		LineNumber         int    `json:"line-number"`
		ColumnNumber       int    `json:"column-number"`
		Disposition        string `json:"disposition"`
		ScriptSample       string `json:"script-sample"`
	} `json:"csp-report"`
}

// reportingAPIReport is one entry of application/reports+json.
type reportingAPIReport struct {
	Type string `json:"type"`
	URL  string `json:"url"`
	Body *struct {
		DocumentURL        string `json:"documentURL"`
		EffectiveDirective string `json:"effectiveDirective"`
		BlockedURL         string `json:"blockedURL"`
		SourceFile         string `json:"sourceFile"`
		LineNumber         int    `json:"lineNumber"`
		ColumnNumber       int    `json:"columnNumber"`
		Disposition        string `json:"disposition"`
		Sample             string `json:"sample"`
	} `json:"body"`
}

// errMalformedReport is returned for a body that is neither report format.
var errMalformedReport = errors.New("headers: malformed csp report")

// ParseReports reads up to max violations from a report body in either
// format: a csp-report object or a Reporting API array (entries whose type
// is not csp-violation are skipped). Results are sanitised as described on
// Violation. It never panics on any input.
func ParseReports(body []byte, max int) ([]Violation, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errMalformedReport
	}
	if body[0] == '[' {
		var list []reportingAPIReport
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, errMalformedReport
		}
		var out []Violation
		for _, e := range list {
			if len(out) >= max {
				break
			}
			if e.Type != "csp-violation" || e.Body == nil {
				continue
			}
			b := e.Body
			doc := b.DocumentURL
			if doc == "" {
				doc = e.URL
			}
			out = append(out, sanitize(Violation{
				Format: "reports+json", DocumentURL: doc, Directive: b.EffectiveDirective,
				BlockedURL: b.BlockedURL, SourceFile: b.SourceFile, Line: b.LineNumber,
				Column: b.ColumnNumber, Disposition: b.Disposition, Sample: b.Sample,
			}))
		}
		return out, nil
	}
	var rep cspReport
	if err := json.Unmarshal(body, &rep); err != nil || rep.Report == nil {
		return nil, errMalformedReport
	}
	if max < 1 {
		return nil, nil
	}
	c := rep.Report
	dir := c.EffectiveDirective
	if dir == "" {
		// CSP2 browsers send only violated-directive: "script-src 'self'".
		dir, _, _ = strings.Cut(c.ViolatedDirective, " ")
	}
	return []Violation{sanitize(Violation{
		Format: "csp-report", DocumentURL: c.DocumentURI, Directive: dir,
		BlockedURL: c.BlockedURI, SourceFile: c.SourceFile, Line: c.LineNumber,
		Column: c.ColumnNumber, Disposition: c.Disposition, Sample: c.ScriptSample,
	})}, nil
}

func sanitize(v Violation) Violation {
	v.DocumentURL = cleanURL(v.DocumentURL)
	v.BlockedURL = cleanURL(v.BlockedURL)
	v.SourceFile = cleanURL(v.SourceFile)
	d := strings.ToLower(strings.TrimSpace(v.Directive))
	if !knownDirective(d) {
		d = "unknown"
	}
	v.Directive = d
	switch v.Disposition {
	case "enforce", "report":
	default:
		v.Disposition = ""
	}
	v.Sample = capString(v.Sample, 64)
	v.Line = max(v.Line, 0)
	v.Column = max(v.Column, 0)
	return v
}

// cleanURL drops the query and fragment, which may carry tokens, and caps
// the length.
func cleanURL(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return capString(s, 256)
}

// capString cuts s to at most n bytes without splitting a UTF-8 sequence,
// and replaces control characters.
func capString(s string, n int) string {
	if len(s) > n {
		cut := n
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
