package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rampartsec/rampart/config"
)

// ReloadResult is the outcome of a reload, as POST /reload answers it and
// `serve --watch` logs it.
type ReloadResult struct {
	// Result is "success" or "failure".
	Result string `json:"result"`
	// Time is when the reload finished.
	Time time.Time `json:"time"`
	// Errors lists why the new configuration was refused; the previous one
	// keeps serving.
	Errors []ReloadError `json:"errors"`
	// RestartRequired lists keys that changed but take effect only at the
	// next start.
	RestartRequired []string `json:"restart_required"`
}

// ReloadError is one reason a configuration was refused, located in its
// file where possible.
type ReloadError struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

// OK reports whether the reload succeeded.
func (r ReloadResult) OK() bool { return r.Result == "success" }

// errNoReload is the answer of POST /reload when there is no file to read.
var errNoReload = errors.New("no configuration file to reload (zero-config mode)")

// ReloadReport loads a configuration with load, validates and builds it, and
// swaps it in: the same validate-then-swap as Reload, with a result a caller
// can show. A failure leaves the current configuration serving.
func (g *Gateway) ReloadReport(load func() (*config.Config, error)) ReloadResult {
	res := ReloadResult{Result: "failure", Errors: []ReloadError{}, RestartRequired: []string{}}
	if load == nil {
		res.Time = g.now()
		res.Errors = []ReloadError{{Message: errNoReload.Error()}}
		return res
	}
	c, err := load()
	if err == nil {
		var keys []string
		keys, err = g.reload(c)
		res.RestartRequired = keys
	} else {
		g.metrics.reloads.WithLabelValues("failure").Inc()
		g.noteReload(false)
	}
	res.Time = g.now()
	if err != nil {
		res.RestartRequired = []string{}
		res.Errors = reloadErrors(err)
		return res
	}
	res.Result = "success"
	if res.RestartRequired == nil {
		res.RestartRequired = []string{}
	}
	return res
}

func reloadErrors(err error) []ReloadError {
	var errs config.Errors
	if errors.As(err, &errs) {
		out := make([]ReloadError, 0, len(errs))
		for _, e := range errs {
			out = append(out, ReloadError{File: e.File, Line: e.Line, Key: e.Key, Message: e.Msg})
		}
		return out
	}
	var fe *config.FieldError
	if errors.As(err, &fe) {
		return []ReloadError{{File: fe.File, Line: fe.Line, Key: fe.Key, Message: fe.Msg}}
	}
	return []ReloadError{{Message: err.Error()}}
}

// reloadHandler serves POST /reload on the admin listener.
//
// Who may reload: with admin.token_file set, a request must carry
// "Authorization: Bearer <token>"; without it, only a TCP peer on loopback
// may reload, the same trust as the admin listener's loopback default. In
// both cases a browser request from another origin is refused (Fetch
// metadata and Origin, as net/http's CrossOriginProtection checks), so a web
// page cannot make an operator's browser reload a local gateway.
func (g *Gateway) reloadHandler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeReload(w, http.StatusForbidden, ReloadResult{Result: "failure", Time: g.now(),
			Errors: []ReloadError{{Message: "cross-origin request refused"}}})
	}))
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, msg := g.authorizeAdmin(r); code != 0 {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="rampart-admin"`)
			}
			writeReload(w, code, ReloadResult{Result: "failure", Time: g.now(), Errors: []ReloadError{{Message: msg}}})
			return
		}
		res := g.ReloadReport(g.loader)
		code := http.StatusOK
		if !res.OK() {
			code = http.StatusUnprocessableEntity
			if g.loader == nil {
				code = http.StatusConflict
			}
			g.log.Error("configuration reload failed (POST /reload); keeping the current configuration",
				slog.Any("errors", res.Errors))
		} else {
			g.log.Info("configuration reloaded (POST /reload)", slog.Any("restart_required", res.RestartRequired))
		}
		writeReload(w, code, res)
	}))
}

// authorizeAdmin decides whether r may use a state-changing admin endpoint.
// It returns 0 when it may, else the status and a message for the client.
func (g *Gateway) authorizeAdmin(r *http.Request) (int, string) {
	if g.adminCredentials(r) != adminAnonymous {
		return 0, ""
	}
	want := g.adminToken.Load()
	if want == nil {
		// No token configured: fail closed for anything but loopback.
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return http.StatusForbidden, "reload from this address needs admin.token_file or admin.token"
		}
		return 0, ""
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return http.StatusUnauthorized, "missing bearer token"
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
	if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
		return http.StatusUnauthorized, "wrong bearer token"
	}
	return 0, ""
}

func writeReload(w http.ResponseWriter, code int, res ReloadResult) {
	if res.Errors == nil {
		res.Errors = []ReloadError{}
	}
	if res.RestartRequired == nil {
		res.RestartRequired = []string{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
}

// loadAdminToken reads admin.token_file (or admin.token) of c and returns
// the SHA-256 of the token, or nil when none is configured.
func loadAdminToken(c *config.Config) (*[32]byte, error) {
	if tok := strings.TrimSpace(c.Admin.Token); c.Admin.Token != "" {
		if len(tok) < 16 {
			return nil, c.Errorf("admin.token", "the token is shorter than 16 characters: generate one with `openssl rand -hex 32`")
		}
		sum := sha256.Sum256([]byte(tok))
		return &sum, nil
	}
	if c.Admin.TokenFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(c.RelativePath(c.Admin.TokenFile))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, c.Errorf("admin.token_file", "reading %s: %v", c.Admin.TokenFile, err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return nil, c.Errorf("admin.token_file", "the token in %s is shorter than 16 characters: generate one with `openssl rand -hex 32`", c.Admin.TokenFile)
	}
	sum := sha256.Sum256([]byte(tok))
	return &sum, nil
}
