package admintest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampartsec/rampart/bruteforce"
)

// Event is one event as the admin API serves it.
type Event struct {
	Seq      int64             `json:"seq"`
	Time     time.Time         `json:"time"`
	ID       string            `json:"id"`
	Instance string            `json:"instance,omitempty"`
	Policy   string            `json:"policy"`
	Rule     string            `json:"rule,omitempty"`
	Decision string            `json:"decision,omitempty"`
	Status   int               `json:"status,omitempty"`
	Route    string            `json:"route,omitempty"`
	Method   string            `json:"method,omitempty"`
	ClientIP string            `json:"client_ip,omitempty"`
	Network  string            `json:"network,omitempty"`
	User     string            `json:"user,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
}

// Counts are requests and refusals over a window, a tick or a point.
type Counts struct {
	Requests int64            `json:"requests"`
	Refused  int64            `json:"refused"`
	ByPolicy map[string]int64 `json:"by_policy"`
}

// Point is one step of the series.
type Point struct {
	Time time.Time `json:"time"`
	Counts
}

// Top is one row of a top list.
type Top struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// Finding is one checklist finding of the running configuration.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
}

// Stats is the answer of GET /stats.
type Stats struct {
	Time     time.Time         `json:"time"`
	Instance string            `json:"instance"`
	Windows  map[string]Counts `json:"windows"`
	Top      map[string][]Top  `json:"top"`
	Series   struct {
		StepSeconds int     `json:"step_seconds"`
		Points      []Point `json:"points"`
	} `json:"series"`
	Config struct {
		LastReload time.Time `json:"last_reload"`
		ReloadOK   bool      `json:"reload_ok"`
		Findings   []Finding `json:"findings"`
	} `json:"config"`
	Upstream struct {
		URL       string `json:"url"`
		Healthy   bool   `json:"healthy"`
		LastError string `json:"last_error"`
	} `json:"upstream"`
}

// Request is a request the API received.
type Request struct {
	Method, Path string
	Query        url.Values
	// Auth is "bearer", "cookie" or "" (neither, or a wrong one).
	Auth string
	// SecFetchSite and Origin are the headers a browser sets itself.
	SecFetchSite, Origin string
}

// API is the stand-in admin API.
type API struct {
	token   string
	session string
	// TickEvery is how often /events/stream sends a tick (default 2s).
	TickEvery time.Duration
	// OpenReads serves /stats and /events without the token, as the
	// gateway's admin listener on loopback does; the login-lock endpoints
	// still ask for it.
	OpenReads bool

	mu       sync.Mutex
	seq      int64
	events   []Event // newest first
	stats    Stats
	tick     Counts
	locks    map[string][]bruteforce.Lock
	requests []Request
	subs     map[chan []byte]url.Values
}

// New returns an API that asks for token (none when token is "").
func New(token string) *API {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return &API{
		token:     token,
		session:   hex.EncodeToString(b),
		TickEvery: 2 * time.Second,
		locks:     map[string][]bruteforce.Lock{},
		subs:      map[chan []byte]url.Values{},
	}
}

// SetStats sets what GET /stats answers (its time is set when served if
// zero).
func (a *API) SetStats(s Stats) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats = s
}

// SetTick sets the counts every tick of the stream reports.
func (a *API) SetTick(c Counts) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tick = c
}

// SetLocks sets the login locks of user.
func (a *API) SetLocks(user string, locks []bruteforce.Lock) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.locks[user] = locks
}

// Push records ev (its sequence number and, if zero, its time are set) and
// sends it to every open stream whose filters it matches.
func (a *API) Push(ev Event) Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	ev.Seq = a.seq
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	a.events = append([]Event{ev}, a.events...)
	data, _ := json.Marshal(ev)
	frame := []byte(fmt.Sprintf("id: %d\nevent: event\ndata: %s\n\n", ev.Seq, data))
	for ch, q := range a.subs {
		if matches(ev, q) {
			select {
			case ch <- frame:
			default: // a stuck reader loses events, as the real stream's would
			}
		}
	}
	return ev
}

// Requests returns the requests received so far.
func (a *API) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

// Streams returns how many event streams are open.
func (a *API) Streams() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.subs)
}

func matches(ev Event, q url.Values) bool {
	for k, want := range map[string]string{"policy": ev.Policy, "client_ip": ev.ClientIP, "route": ev.Route, "user": ev.User} {
		if v := q.Get(k); v != "" && v != want {
			return false
		}
	}
	return true
}

// Handler returns the API, with page (if not nil) mounted at "/" as the
// gateway mounts the dashboard.
func (a *API) Handler(page http.Handler) http.Handler {
	mux := http.NewServeMux()
	if page != nil {
		mux.Handle("/", page)
	}
	cop := http.NewCrossOriginProtection()
	read := a.guard
	if a.OpenReads {
		read = func(h http.HandlerFunc) http.HandlerFunc { return h }
	}
	mux.HandleFunc("GET /stats", read(a.serveStats))
	mux.HandleFunc("GET /events", read(a.serveEvents))
	mux.HandleFunc("GET /events/stream", read(a.serveStream))
	mux.HandleFunc("GET /login-locks", a.guard(a.serveLocks(false)))
	mux.Handle("POST /login-locks/unlock", cop.Handler(a.guard(a.serveLocks(true))))
	mux.Handle("POST /session", cop.Handler(http.HandlerFunc(a.serveSession)))
	mux.Handle("POST /session/logout", cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "rampart_admin", Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.WriteHeader(http.StatusNoContent)
	})))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, Request{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Auth: a.auth(r),
			SecFetchSite: r.Header.Get("Sec-Fetch-Site"), Origin: r.Header.Get("Origin"),
		})
		a.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
}

func (a *API) auth(r *http.Request) string {
	if a.token == "" {
		return "none needed"
	}
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) == 1 {
		return "bearer"
	}
	if c, err := r.Cookie("rampart_admin"); err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.session)) == 1 {
		return "cookie"
	}
	return ""
}

func (a *API) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.auth(r) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rampart-admin"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "admin token required"})
			return
		}
		h(w, r)
	}
}

func (a *API) serveSession(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("token")), []byte(a.token)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "admin token required"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "rampart_admin", Value: a.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) serveStats(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	s := a.stats
	a.mu.Unlock()
	if s.Time.IsZero() {
		s.Time = time.Now().UTC()
	}
	writeJSON(w, http.StatusOK, s)
}

func (a *API) serveEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = min(n, 1000)
	}
	a.mu.Lock()
	out := []Event{}
	for _, ev := range a.events {
		if len(out) < limit && matches(ev, q) {
			out = append(out, ev)
		}
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string][]Event{"events": out})
}

func (a *API) serveStream(w http.ResponseWriter, r *http.Request) {
	f, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no streaming", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, 64)
	a.mu.Lock()
	a.subs[ch] = r.URL.Query()
	every := a.TickEvery
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.subs, ch)
		a.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(": ping\n\n"))
	f.Flush()
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case frame := <-ch:
			if _, err := w.Write(frame); err != nil {
				return
			}
		case now := <-ticker.C:
			a.mu.Lock()
			tick := struct {
				Time time.Time `json:"time"`
				Counts
			}{now.UTC(), a.tick}
			a.mu.Unlock()
			data, _ := json.Marshal(tick)
			if _, err := fmt.Fprintf(w, "event: tick\ndata: %s\n\n", data); err != nil {
				return
			}
		}
		f.Flush()
	}
}

// lockAnswer is the shape of gateway.LoginLocks.
type lockAnswer struct {
	User     string            `json:"user"`
	Locks    []bruteforce.Lock `json:"locks"`
	Unlocked bool              `json:"unlocked,omitempty"`
	Error    string            `json:"error,omitempty"`
}

func (a *API) serveLocks(unlock bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		if user == "" {
			writeJSON(w, http.StatusBadRequest, lockAnswer{Locks: []bruteforce.Lock{}, Error: "name the account: ?user=NAME"})
			return
		}
		a.mu.Lock()
		if unlock {
			delete(a.locks, user)
		}
		locks := append([]bruteforce.Lock{}, a.locks[user]...)
		a.mu.Unlock()
		writeJSON(w, http.StatusOK, lockAnswer{User: user, Locks: locks, Unlocked: unlock})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
