package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/dashboard"
)

// The admin listener's browser session: POST /session exchanges the admin
// token for this cookie, which the admin endpoints accept like the token.
const (
	adminCookie     = "rampart_admin"
	adminSessionTTL = 12 * time.Hour
)

// How a request to the admin listener proved who it is.
type adminAuth int

const (
	adminAnonymous adminAuth = iota
	adminBearer
	adminCookieAuth
	adminClientCert
)

// errAdminToken is the answer to an admin request without credentials.
var errAdminToken = adminError{Error: "admin token required"}

// adminCredentials reports how r authenticated: a bearer token equal to
// admin.token_file's, a session cookie POST /session issued for that
// token, or a client certificate verified against admin.client_ca.
func (g *Gateway) adminCredentials(r *http.Request) adminAuth {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return adminClientCert
	}
	want := g.adminToken.Load()
	if want == nil {
		return adminAnonymous
	}
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && got != "" {
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			return adminBearer
		}
		return adminAnonymous
	}
	if c, err := r.Cookie(adminCookie); err == nil && g.validAdminSession(c.Value, want) {
		return adminCookieAuth
	}
	return adminAnonymous
}

// adminSession returns a session cookie value valid until exp: the expiry
// and an HMAC over it and the token's hash, under a key of this process.
// A new token (a reload) or a restart ends every session.
func (g *Gateway) adminSession(exp time.Time, token *[32]byte) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(exp.Unix()))
	m := hmac.New(sha256.New, g.adminKey[:])
	m.Write([]byte("rampart admin session\x00"))
	m.Write(b[:])
	m.Write(token[:])
	return base64.RawURLEncoding.EncodeToString(append(b[:], m.Sum(nil)...))
}

func (g *Gateway) validAdminSession(v string, token *[32]byte) bool {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) != 8+sha256.Size {
		return false
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	want, err := base64.RawURLEncoding.DecodeString(g.adminSession(exp, token))
	if err != nil || !hmac.Equal(raw, want) {
		return false
	}
	return g.now().Before(exp)
}

// sameOrigin reports whether a browser request comes from the admin page
// itself: Sec-Fetch-Site same-origin, or else an Origin equal to the
// request's own. A cookie only comes from a browser, and a browser always
// sends one of them on a POST, so neither is a refusal.
func sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin"
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// adminAccess guards the admin listener. /healthz and /readyz are open to
// every client (load balancers and probes carry no credentials). When the
// listener is not on loopback, every other endpoint needs the token, the
// session cookie or a verified client certificate; on loopback the read
// endpoints are open, as they always were, and the state-changing ones
// keep their own check (authorizeAdmin). Wherever a session cookie is
// what authenticates, a state-changing request must also come from the
// admin page's own origin, so that another site cannot ride on it.
func (g *Gateway) adminAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/session", "/session/logout":
			next.ServeHTTP(w, r)
			return
		}
		if dashboard.Static(r.URL.Path) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			// The admin page and its files hold no data of their own
			// (the page reads the API), and a browser must reach them
			// to sign in.
			next.ServeHTTP(w, r)
			return
		}
		how := g.adminCredentials(r)
		if how == adminCookieAuth && !safeMethod(r.Method) && !sameOrigin(r) {
			writeAdminJSON(w, http.StatusForbidden, adminError{Error: "cross-origin request refused"})
			return
		}
		if how == adminAnonymous && g.adminPublic.Load() {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rampart-admin"`)
			writeAdminJSON(w, http.StatusUnauthorized, errAdminToken)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sessionHandler serves POST /session (form field token: the admin token
// for a session cookie valid 12 hours), and DELETE /session and POST
// /session/logout (the cookie cleared).
func (g *Gateway) sessionHandler(w http.ResponseWriter, r *http.Request) {
	secure := r.TLS != nil
	if r.Method == http.MethodDelete || r.URL.Path == "/session/logout" {
		if !sameOrigin(r) && r.Header.Get("Cookie") != "" && (r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "") {
			writeAdminJSON(w, http.StatusForbidden, adminError{Error: "cross-origin request refused"})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
		writeAdminJSON(w, http.StatusOK, struct {
			Authenticated bool `json:"authenticated"`
		}{false})
		return
	}
	// A login form posted from another site would plant the attacker's
	// session in the operator's browser; a request with neither header is
	// not a browser's and gets no cookie a browser would keep anyway.
	if (r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "") && !sameOrigin(r) {
		writeAdminJSON(w, http.StatusForbidden, adminError{Error: "cross-origin request refused"})
		return
	}
	want := g.adminToken.Load()
	if want == nil {
		writeAdminJSON(w, http.StatusConflict, adminError{Error: "no admin token is configured (admin.token_file)"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		writeAdminJSON(w, http.StatusBadRequest, adminError{Error: "a form with the field token"})
		return
	}
	got := strings.TrimSpace(r.PostForm.Get("token"))
	sum := sha256.Sum256([]byte(got))
	if got == "" || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
		g.log.Warn("admin session refused: wrong token", slog.String("peer", r.RemoteAddr))
		w.Header().Set("WWW-Authenticate", `Bearer realm="rampart-admin"`)
		writeAdminJSON(w, http.StatusUnauthorized, errAdminToken)
		return
	}
	exp := g.now().Add(adminSessionTTL)
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: g.adminSession(exp, want), Path: "/",
		MaxAge: int(adminSessionTTL / time.Second), HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	writeAdminJSON(w, http.StatusOK, struct {
		Authenticated bool      `json:"authenticated"`
		Expires       time.Time `json:"expires"`
	}{true, exp.UTC().Truncate(time.Second)})
}

// adminTLSConfig loads the admin listener's certificate and, with
// admin.client_ca, the CAs its clients' certificates must chain to. It
// returns nil without admin.cert_file.
func adminTLSConfig(c *config.Config) (*tls.Config, error) {
	a := c.Admin
	if a.CertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.RelativePath(a.CertFile), c.RelativePath(a.KeyFile))
	if err != nil {
		return nil, c.Errorf("admin.cert_file", "loading certificate and key: %v", pathless(err))
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if a.ClientCA != "" {
		pem, err := os.ReadFile(c.RelativePath(a.ClientCA))
		if err != nil {
			return nil, c.Errorf("admin.client_ca", "reading %s: %v", a.ClientCA, pathless(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, c.Errorf("admin.client_ca", "%s holds no PEM certificate", a.ClientCA)
		}
		tc.ClientCAs = pool
		// Probes of /healthz and /readyz carry no certificate; the
		// other endpoints refuse a request without one or the token.
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return tc, nil
}

func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// listenerPublic reports whether a listener accepts connections from other
// machines: it is not bound to a loopback address.
func listenerPublic(ln net.Listener) bool {
	ap, err := netip.ParseAddrPort(ln.Addr().String())
	return err != nil || !ap.Addr().Unmap().IsLoopback()
}
