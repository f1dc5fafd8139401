package token

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

// Policy is the name under which this package's rejections are recorded
// (see problem.Record).
const Policy = "token"

// MaxTokenRequestBytes bounds the token endpoint's request body.
const MaxTokenRequestBytes = 8 << 10

// Bounds on the fields of a token request, checked before anything is
// hashed or looked up.
const (
	maxUsernameBytes = 256
	maxPasswordBytes = 1024
)

func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		// RFC 9110 §15.5.2: a 401 names the scheme that would work. The
		// bearer-token check sets its own, more precise challenge.
		w.Header().Set("WWW-Authenticate", `Bearer realm="rampart", error="invalid_grant"`)
	}
	problem.Write(w, r, problem.Problem{Status: status, Detail: detail, Policy: Policy})
}

// tokenRequest is the token endpoint's JSON body. grant_type is optional
// and, when present, must agree with the fields.
type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	RefreshToken string `json:"refresh_token"`
}

var (
	allowPost     = []string{"POST"}
	noStore       = []string{"no-store"}
	pragmaNoCache = []string{"no-cache"}
)

// TokenHandler returns the handler for /.rampart/token. It accepts a POST
// with a JSON body, either {"username","password"} (the password grant,
// when Passwords is set) or {"refresh_token"}, and answers
// {"access_token","refresh_token","token_type","expires_in"} with
// Cache-Control: no-store. Only application/json is accepted, so a
// cross-site HTML form cannot post to it.
//
// Failures are neutral problems: 400 for a malformed request, 401 for wrong
// credentials or an invalid, expired, revoked or reused refresh token (the
// client is not told which), 429 with Retry-After when brute-force
// protection refuses, 503 with Retry-After when a store is unavailable
// (nothing was consumed or revoked: the same request may be sent again),
// 500 for anything else that fails.
func (m *Manager) TokenHandler() http.Handler {
	return http.HandlerFunc(m.serveToken)
}

func (m *Manager) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header()["Allow"] = allowPost
		writeProblem(w, r, http.StatusMethodNotAllowed, "")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeProblem(w, r, http.StatusUnsupportedMediaType, "the token endpoint accepts application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxTokenRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "")
			return
		}
		writeProblem(w, r, http.StatusBadRequest, "the request body could not be read")
		return
	}
	var req tokenRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeProblem(w, r, http.StatusBadRequest, "the request body must be a JSON object")
		return
	}
	h := w.Header()
	h["Cache-Control"] = noStore
	h["Pragma"] = pragmaNoCache
	password := req.Username != "" || req.Password != ""
	refresh := req.RefreshToken != ""
	switch {
	case password && refresh:
		writeProblem(w, r, http.StatusBadRequest, "send either username and password or refresh_token, not both")
	case password && (req.GrantType == "" || req.GrantType == "password"):
		m.passwordGrant(w, r, req)
	case refresh && (req.GrantType == "" || req.GrantType == "refresh_token"):
		m.refreshGrant(w, r, req)
	case req.GrantType != "" && req.GrantType != "password" && req.GrantType != "refresh_token":
		writeProblem(w, r, http.StatusBadRequest, "grant_type must be password or refresh_token")
	default:
		writeProblem(w, r, http.StatusBadRequest, "send username and password, or refresh_token")
	}
}

func (m *Manager) passwordGrant(w http.ResponseWriter, r *http.Request, req tokenRequest) {
	if m.passwords == nil {
		writeProblem(w, r, http.StatusBadRequest, "the password grant is not enabled")
		return
	}
	if req.Username == "" || req.Password == "" || len(req.Username) > maxUsernameBytes || len(req.Password) > maxPasswordBytes {
		writeProblem(w, r, http.StatusBadRequest, "username and password are required")
		return
	}
	ip := ""
	if a := m.clientIP.ClientIP(r); a.IsValid() {
		ip = a.String()
	}
	id, err := m.passwords.VerifyPassword(r.Context(), req.Username, req.Password, ip)
	var limited interface{ RetryAfter() time.Duration }
	switch {
	case err == nil && (id == nil || id.Subject == ""):
		// A verifier that says yes without saying who is broken; refusing
		// is the only safe reading.
		m.decide("password", "error")
		m.log.Error("password verifier returned no identity")
		writeProblem(w, r, http.StatusInternalServerError, "")
		return
	case err == nil:
	case errors.As(err, &limited):
		m.decide("password", "limited")
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(limited.RetryAfter().Seconds())), 10))
		problem.Write(w, r, problem.Problem{Status: http.StatusTooManyRequests, Detail: "too many failed attempts; try again later",
			Policy: "login_protection", Reason: auth.AccountReason("throttled", req.Username)})
		return
	case errors.Is(err, ErrInvalidCredentials):
		m.decide("password", "invalid")
		problem.RecordReason(w, auth.AccountReason("invalid_credentials", req.Username))
		writeProblem(w, r, http.StatusUnauthorized, "invalid username or password")
		return
	case errors.Is(err, ErrUnavailable):
		m.decide("password", "unavailable")
		m.log.Error("password verification failed", "err", err, "request_id", requestID(r))
		writeUnavailable(w, r)
		return
	default:
		m.decide("password", "error")
		m.log.Error("password verification failed", "err", err)
		writeProblem(w, r, http.StatusInternalServerError, "")
		return
	}
	pair, err := m.Issue(r.Context(), id)
	if err != nil {
		m.decide("password", "error")
		m.log.Error("issue tokens", "err", err, "request_id", requestID(r))
		if errors.Is(err, ErrUnavailable) {
			writeUnavailable(w, r)
			return
		}
		writeProblem(w, r, http.StatusInternalServerError, "")
		return
	}
	m.decide("password", "ok")
	writePair(w, pair)
}

func (m *Manager) refreshGrant(w http.ResponseWriter, r *http.Request, req tokenRequest) {
	pair, err := m.Refresh(r.Context(), req.RefreshToken)
	switch {
	case err == nil:
		writePair(w, pair)
	case errors.Is(err, ErrInvalidRefresh), errors.Is(err, ErrRefreshReused):
		writeProblem(w, r, http.StatusUnauthorized, "invalid refresh token")
	case errors.Is(err, ErrUnavailable):
		m.log.Error("refresh tokens: store unavailable; nothing consumed", "err", err, "request_id", requestID(r))
		writeUnavailable(w, r)
	default:
		m.log.Error("refresh tokens", "err", err, "request_id", requestID(r))
		writeProblem(w, r, http.StatusInternalServerError, "")
	}
}

// RetryAfterUnavailable is the Retry-After of a 503 answered because a
// store is unavailable: long enough not to hammer a recovering store,
// short enough that a client's retry lands soon after it is back.
const RetryAfterUnavailable = 5 * time.Second

var retryAfterUnavailable = []string{strconv.Itoa(int(RetryAfterUnavailable / time.Second))}

// writeUnavailable answers 503 with Retry-After for a store outage.
func writeUnavailable(w http.ResponseWriter, r *http.Request) {
	w.Header()["Retry-After"] = retryAfterUnavailable
	writeProblem(w, r, http.StatusServiceUnavailable, "")
}

// requestID is the request's id for log lines (requestid.Handler), so a
// client's incident id finds the line.
func requestID(r *http.Request) string { return requestid.FromContext(r.Context()) }

func writePair(w http.ResponseWriter, p *Pair) {
	body, err := json.Marshal(p)
	if err != nil {
		// A Pair of strings and an integer always marshals.
		http.Error(w, "", http.StatusInternalServerError)
		return
	}
	body = append(body, '\n')
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
