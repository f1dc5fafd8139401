package login

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/pages"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

// maxBody bounds login and logout request bodies.
const maxBody = 8 << 10

// retryAfterUnavailable is the Retry-After, in seconds, of a 503 answered
// because a store is unavailable.
const retryAfterUnavailable = "5"

// Handler serves login, logout and me under the prefix
// (/.rampart/login, /.rampart/logout, /.rampart/me) and 404 elsewhere.
func (s *Service) Handler() http.Handler {
	login, logout, me := s.LoginHandler(), s.LogoutHandler(), s.MeHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case s.loginPath:
			login.ServeHTTP(w, r)
		case s.logoutPath:
			logout.ServeHTTP(w, r)
		case s.mePath:
			me.ServeHTTP(w, r)
		default:
			problem.Write(w, r, problem.Problem{Status: http.StatusNotFound, Policy: "auth"})
		}
	})
}

// wantsJSON reports whether the body is JSON; ok=false for a body type
// that is neither JSON nor a form.
func wantsJSON(r *http.Request) (isJSON, ok bool) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false, false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, false
	}
	switch mt {
	case "application/json":
		return true, true
	case "application/x-www-form-urlencoded":
		return false, true
	}
	return false, false
}

// crossSite reports why r is a browser request from another site (or a
// sibling subdomain), or "" when it is not: logging a victim into the
// attacker's account, or out of their own, is a CSRF attack on these
// endpoints. Requests without Sec-Fetch-Site and Origin (curl, old
// browsers) pass: they cannot be forged by a web page in a modern browser.
// Origins in TrustedOrigins (a CORS policy's) pass too.
func (s *Service) crossSite(r *http.Request) string {
	origin := r.Header.Get("Origin")
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" || site == "none" || (origin != "" && s.trusted.Contains(origin)) {
			return ""
		}
		return "cross_site (Sec-Fetch-Site: " + truncate(site, 40) + ")"
	}
	if origin == "" {
		return ""
	}
	if origin == "null" {
		// A sandboxed frame, or a page whose Referrer-Policy is
		// no-referrer: neither can be told from a forgery.
		return "null_origin (Origin: null)"
	}
	if s.trusted.Contains(origin) {
		return ""
	}
	host, ok := strings.CutPrefix(origin, "https://")
	if !ok {
		if host, ok = strings.CutPrefix(origin, "http://"); !ok {
			return "malformed_origin (Origin: " + truncate(origin, 100) + ")"
		}
	}
	if !strings.EqualFold(host, r.Host) {
		return "origin_mismatch (Origin: " + truncate(origin, 100) + ", Host: " + truncate(r.Host, 100) + ")"
	}
	return ""
}

// refuseCrossSite answers a cross-site request with 403 and says why, in
// the log at debug level and in the access log's reason.
func (s *Service) refuseCrossSite(w http.ResponseWriter, r *http.Request, what, reason string) {
	s.log.Debug("login: cross-site request refused", "path", r.URL.Path, "reason", reason)
	problem.Write(w, r, problem.Problem{Status: http.StatusForbidden, Policy: "auth", Reason: reason,
		Detail: "cross-site " + what + " requests are refused"})
}

func truncate(v string, n int) string {
	if len(v) > n {
		return v[:n]
	}
	return v
}

func (s *Service) clientAddr(r *http.Request) netip.Addr {
	return s.clientIP.ClientIP(r)
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Next     string `json:"next"`
}

// LoginHandler serves the login page (GET) and logins (POST, as a form or
// JSON).
func (s *Service) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			q := r.URL.Query()
			next, _ := s.redirects.Sanitize(q.Get("next"))
			d := formData{Next: next}
			if q.Get("signed_out") == "1" {
				d.Notice = "You have signed out."
			}
			s.renderForm(w, r, http.StatusOK, d)
		case http.MethodPost:
			s.postLogin(w, r)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			problem.Write(w, r, problem.Problem{Status: http.StatusMethodNotAllowed, Policy: "auth"})
		}
	})
}

func (s *Service) postLogin(w http.ResponseWriter, r *http.Request) {
	if s.sessions == nil {
		problem.Write(w, r, problem.Problem{Status: http.StatusNotFound, Policy: "auth"})
		return
	}
	if reason := s.crossSite(r); reason != "" {
		s.refuseCrossSite(w, r, "login", reason)
		return
	}
	isJSON, ok := wantsJSON(r)
	if !ok {
		w.Header().Set("Accept-Post", "application/json, application/x-www-form-urlencoded")
		problem.Write(w, r, problem.Problem{Status: http.StatusUnsupportedMediaType, Policy: "auth",
			Detail: "send application/json or a form"})
		return
	}
	var c credentials
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if isJSON {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil || dec.More() {
			problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "auth",
				Detail: `the body must be {"username": "...", "password": "..."}`})
			return
		}
	} else {
		if err := r.ParseForm(); err != nil {
			problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "auth", Detail: "unreadable form"})
			return
		}
		c.Username, c.Password, c.Next = r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("next")
	}
	next, ok := s.redirects.Sanitize(c.Next)
	if !ok {
		next = ""
	}
	if c.Username == "" || c.Password == "" {
		s.loginFailed(w, r, isJSON, c.Username, next, http.StatusBadRequest, "enter a username and a password", 0)
		return
	}

	ip := s.clientAddr(r)
	id, err := s.VerifyPassword(r.Context(), c.Username, c.Password, ip)
	var throttled *ThrottledError
	switch {
	case errors.As(err, &throttled):
		s.log.Info("login: refused by login protection", "request_id", requestid.FromContext(r.Context()), "reason", "throttled", "retry_after", throttled.RetryAfter.String())
		s.throttled(w, r, isJSON, c.Username, next, throttled.RetryAfter)
		return
	case errors.Is(err, ErrInvalidCredentials):
		s.loginFailed(w, r, isJSON, c.Username, next, http.StatusUnauthorized, "invalid username or password", 0)
		return
	case err != nil:
		s.log.Error("login: refusing the login: the password could not be checked", "err", err,
			"request_id", requestid.FromContext(r.Context()), "reason", "store_unavailable")
		w.Header().Set("Retry-After", retryAfterUnavailable)
		problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "auth"})
		return
	}
	r = r.WithContext(session.WithClientIP(r.Context(), ip.String()))
	sid, err := s.sessions.Login(w, r, id.Subject, id.Roles)
	if err != nil {
		s.log.Error("login: starting the session failed", "err", err,
			"request_id", requestid.FromContext(r.Context()), "reason", "store_unavailable")
		w.Header().Set("Retry-After", retryAfterUnavailable)
		problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "auth"})
		return
	}
	if next == "" {
		next = s.defaultTo
	}
	if !isJSON {
		w.Header().Set("Location", next)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, meBody{User: sid.Subject, Roles: nonNil(sid.Roles), Method: sid.Method, Expires: sid.Expires.UTC(), Next: next})
}

// loginFailed answers a failed attempt: the same words for every reason
// the user could cause.
func (s *Service) loginFailed(w http.ResponseWriter, r *http.Request, isJSON bool, username, next string, status int, msg string, retry time.Duration) {
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10))
	}
	// A throttled attempt was refused by login protection, whatever
	// endpoint it came through: one policy name in logs and metrics.
	policy, reason := "auth", "invalid_credentials"
	switch status {
	case http.StatusTooManyRequests:
		policy, reason = "login_protection", "throttled"
	case http.StatusBadRequest:
		reason = "missing_credentials"
	}
	reason = auth.AccountReason(reason, username)
	if isJSON {
		problem.Write(w, r, problem.Problem{Status: status, Policy: policy, Detail: msg, Reason: reason})
		return
	}
	problem.Record(w, policy)
	problem.RecordReason(w, reason)
	s.renderForm(w, r, status, formData{Error: msg, Username: username, Next: next})
}

// throttled answers an attempt that login protection refused: 429 with
// Retry-After, and words that say how long. A short progressive delay (a
// typo, then the right password at once) is shown on the form as a notice,
// not as an error: the user did nothing wrong but hurry.
func (s *Service) throttled(w http.ResponseWriter, r *http.Request, isJSON bool, username, next string, retry time.Duration) {
	secs := max(1, int64((retry+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	wait := WaitText(retry)
	// Refused by login protection: the same policy and reason as a
	// throttled attempt in loginFailed, for logs, metrics and events.
	reason := auth.AccountReason("throttled", username)
	if isJSON {
		problem.Write(w, r, problem.Problem{Status: http.StatusTooManyRequests, Policy: "login_protection",
			Reason: reason, Detail: "too many attempts; try again in " + wait})
		return
	}
	problem.Record(w, "login_protection")
	problem.RecordReason(w, reason)
	d := formData{Username: username, Next: next, RetrySeconds: secs}
	if retry <= time.Minute {
		d.Notice = "Please wait " + wait + ", then sign in again."
	} else {
		d.Error = "Too many attempts. Try again in " + wait + "."
	}
	s.renderForm(w, r, http.StatusTooManyRequests, d)
}

// WaitText says how long a wait is in words: "1 second", "40 seconds",
// "3 minutes", "1 hour".
func WaitText(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d <= time.Minute:
		return plural(max(1, int64((d+time.Second-1)/time.Second)), "second")
	case d < time.Hour:
		return plural(int64((d+time.Minute-1)/time.Minute), "minute")
	default:
		return plural(int64((d+time.Hour-1)/time.Hour), "hour")
	}
}

type meBody struct {
	User     string         `json:"user"`
	Roles    []string       `json:"roles"`
	Scopes   []string       `json:"scopes,omitempty"`
	Method   string         `json:"method"`
	Issuer   string         `json:"issuer,omitempty"`
	Expires  time.Time      `json:"expires,omitzero"`
	Next     string         `json:"next,omitempty"`
	Sessions []session.Info `json:"sessions,omitempty"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type logoutBody struct {
	Everywhere bool   `json:"everywhere"`
	Session    string `json:"session"`
	Next       string `json:"next"`
}

// LogoutHandler ends the request's session (POST). With "everywhere"
// (JSON true, form or query value "1" or "true") it ends all of the
// user's sessions; with "session" set to an id from /.rampart/me it ends
// that one of the user's other sessions instead.
func (s *Service) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			// Never on GET: a prefetch or an <img> must not log anyone out.
			w.Header().Set("Allow", "POST")
			problem.Write(w, r, problem.Problem{Status: http.StatusMethodNotAllowed, Policy: "auth"})
			return
		}
		if s.sessions == nil {
			problem.Write(w, r, problem.Problem{Status: http.StatusNotFound, Policy: "auth"})
			return
		}
		if reason := s.crossSite(r); reason != "" {
			s.refuseCrossSite(w, r, "logout", reason)
			return
		}
		var body logoutBody
		isJSON, known := wantsJSON(r)
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		switch {
		case known && isJSON:
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
				problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "auth", Detail: "unreadable JSON body"})
				return
			}
		case known:
			if err := r.ParseForm(); err != nil {
				problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "auth", Detail: "unreadable form"})
				return
			}
			body.Everywhere = truthy(r.PostForm.Get("everywhere"))
			body.Session, body.Next = r.PostForm.Get("session"), r.PostForm.Get("next")
		}
		if truthy(r.URL.Query().Get("everywhere")) {
			body.Everywhere = true
		}
		id, err := s.sessions.Authenticate(r)
		if err != nil {
			// The session cannot be checked; still drop the cookie.
			s.sessions.ClearCookie(w)
			s.log.Error("login: logout could not reach the session store", "err", err)
			problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "auth"})
			return
		}
		ended := 0
		switch {
		case id != nil && body.Session != "":
			ok, err := s.sessions.Revoke(r.Context(), id.Principal(), body.Session)
			if err != nil {
				s.log.Error("login: revoking a session failed", "err", err)
				problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "auth"})
				return
			}
			if ok {
				ended = 1
			}
			// Ending another device's session keeps this one.
			if isJSON || !known {
				writeJSON(w, http.StatusOK, map[string]int{"ended": ended})
				return
			}
			w.Header().Set("Location", s.mePath)
			w.WriteHeader(http.StatusSeeOther)
			return
		case id != nil && body.Everywhere:
			s.sessions.ClearCookie(w)
			if ended, err = s.sessions.LogoutEverywhere(r.Context(), id.Principal()); err != nil {
				s.log.Error("login: log out everywhere failed", "err", err)
				problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "auth"})
				return
			}
		default:
			if err := s.sessions.Logout(w, r); err != nil {
				s.log.Error("login: logout failed", "err", err)
				problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "auth"})
				return
			}
			if id != nil {
				ended = 1
			}
		}
		if known && !isJSON {
			next, ok := s.redirects.Sanitize(body.Next)
			if !ok || next == "" {
				// The login page, saying the user signed out.
				next = s.loginPath + "?signed_out=1"
			}
			w.Header().Set("Location", next)
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"ended": ended})
	})
}

func truthy(v string) bool {
	return v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "on")
}

// MeHandler answers GET with the request's identity as JSON — the one
// route rules put in the context, else the session's — and, for a
// session, the user's live sessions. Without an identity it answers 401.
func (s *Service) MeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Write(w, r, problem.Problem{Status: http.StatusMethodNotAllowed, Policy: "auth"})
			return
		}
		id := auth.FromContext(r.Context())
		if id == nil && s.sessions != nil {
			var err error
			if id, err = s.sessions.Authenticate(r); err != nil {
				s.log.Error("login: me could not reach the session store", "err", err)
				problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "auth"})
				return
			}
		}
		if id == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
			problem.Write(w, r, problem.Problem{Status: http.StatusUnauthorized, Policy: "auth"})
			return
		}
		body := meBody{User: id.Subject, Roles: nonNil(id.Roles), Scopes: id.Scopes, Method: id.Method, Issuer: id.Issuer, Expires: id.Expires.UTC()}
		if (id.Method == "session" || id.Method == "oidc") && s.sessions != nil {
			list, err := s.sessions.List(r.Context(), id.Principal(), r)
			if err != nil {
				s.log.Error("login: listing sessions failed", "err", err)
				problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "auth"})
				return
			}
			body.Sessions = list
		}
		writeJSON(w, http.StatusOK, body)
	})
}

// formData is the login page's data.
type formData = pages.Login

func (s *Service) renderForm(w http.ResponseWriter, r *http.Request, status int, d formData) {
	d.Action = s.loginPath
	if len(d.Username) > 256 {
		d.Username = ""
	}
	var buf bytes.Buffer
	if err := s.pages.Login(&buf, d); err != nil {
		s.log.Error("login: rendering the form failed", "err", err)
		problem.Write(w, r, problem.Problem{Status: http.StatusInternalServerError, Policy: "auth"})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// The login form must never be framed (clickjacking of credentials).
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
