package cookies

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The values of Config.Secure and Rule.Secure.
const (
	// SecureAuto adds Secure when the request reached the site over HTTPS.
	// The default.
	SecureAuto = "auto"
	// SecureAlways adds Secure on every response, plain HTTP included.
	SecureAlways = "always"
	// SecureOff adds nothing.
	SecureOff = "off"
)

// Config configures a Hardener: the upstream_cookies section of the
// gateway's configuration. The zero value adds Secure over HTTPS and
// SameSite=Lax where absent.
type Config struct {
	// Secure is when Secure is added: auto (default: over HTTPS), always
	// or off.
	Secure string `yaml:"secure" json:"secure,omitempty"`
	// SameSite is the SameSite value added to cookies that have none: lax
	// (default), strict, none or off (add nothing).
	SameSite string `yaml:"same_site" json:"same_site,omitempty"`
	// HTTPOnly names the cookies made HttpOnly; "*" makes every cookie
	// HttpOnly. Default none: applications read some cookies from script.
	HTTPOnly []string `yaml:"http_only" json:"http_only,omitempty"`
	// Rules override the settings above for the cookies they name.
	// Default none.
	Rules []Rule `yaml:"rules" json:"rules,omitempty"`

	// IsHTTPS reports whether r reached the site over HTTPS, for Handler
	// and SecureAuto. Default nil: r.TLS != nil.
	IsHTTPS func(r *http.Request) bool `yaml:"-" json:"-"`
}

// Rule is the hardening of one cookie, by exact name.
type Rule struct {
	// Name is the cookie's name, compared exactly. Required.
	Name string `yaml:"name" json:"name"`
	// Secure overrides Config.Secure for this cookie.
	Secure string `yaml:"secure" json:"secure,omitempty"`
	// SameSite, when set, is this cookie's SameSite: it replaces the
	// application's value (lax, strict or none), or with off leaves the
	// cookie's as it is.
	SameSite string `yaml:"same_site" json:"same_site,omitempty"`
	// HTTPOnly, when true, makes this cookie HttpOnly.
	HTTPOnly bool `yaml:"http_only" json:"http_only,omitempty"`
}

// flags is what happens to one cookie.
type flags struct {
	secure   string // auto, always, off
	sameSite string // "Lax", "Strict", "None" or "" (nothing)
	replace  bool   // sameSite replaces the cookie's own value
	httpOnly bool
}

// Hardener rewrites Set-Cookie headers. It is immutable after New and safe
// for concurrent use.
type Hardener struct {
	all     flags
	byName  map[string]flags
	isHTTPS func(*http.Request) bool
}

// New validates c and returns its Hardener. Every mistake is reported,
// naming its field; New never panics on user input.
func New(c Config) (*Hardener, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf("cookies: "+format, args...)) }
	secure := func(field, v string) string {
		switch strings.ToLower(v) {
		case "":
			return ""
		case SecureAuto, SecureAlways, SecureOff:
			return strings.ToLower(v)
		}
		fail("%s must be auto, always or off, got %q", field, truncate(v, 40))
		return ""
	}
	sameSite := func(field, v string) (string, bool) {
		switch strings.ToLower(v) {
		case "":
			return "", false
		case "lax":
			return "Lax", true
		case "strict":
			return "Strict", true
		case "none":
			return "None", true
		case "off":
			return "", true
		}
		fail("%s must be lax, strict, none or off, got %q", field, truncate(v, 40))
		return "", false
	}
	h := &Hardener{isHTTPS: c.IsHTTPS, byName: map[string]flags{}}
	if h.isHTTPS == nil {
		h.isHTTPS = func(r *http.Request) bool { return r.TLS != nil }
	}
	h.all.secure = secure("secure", c.Secure)
	if h.all.secure == "" {
		h.all.secure = SecureAuto
	}
	h.all.sameSite = "Lax"
	if v, set := sameSite("same_site", c.SameSite); set {
		h.all.sameSite = v
	}
	httpOnly := map[string]bool{}
	for i, n := range c.HTTPOnly {
		switch {
		case n == "*":
			h.all.httpOnly = true
		case !validName(n):
			fail("http_only[%d]: %q is not a cookie name", i, truncate(n, 40))
		default:
			httpOnly[n] = true
		}
	}
	for n := range httpOnly {
		f := h.all
		f.httpOnly = true
		h.byName[n] = f
	}
	for i, r := range c.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		if !validName(r.Name) || r.Name == "*" {
			fail("%s.name: %q is not a cookie name (rules name one cookie exactly; the settings above apply to all)", key, truncate(r.Name, 40))
			continue
		}
		if _, dup := h.byName[r.Name]; dup && !httpOnly[r.Name] {
			fail("%s.name: %q has a rule already", key, r.Name)
			continue
		}
		f := h.all
		f.httpOnly = f.httpOnly || httpOnly[r.Name] || r.HTTPOnly
		if s := secure(key+".secure", r.Secure); s != "" {
			f.secure = s
		}
		if v, set := sameSite(key+".same_site", r.SameSite); set {
			f.sameSite, f.replace = v, v != ""
		}
		h.byName[r.Name] = f
		delete(httpOnly, r.Name)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return h, nil
}

// Harden rewrites every Set-Cookie line of h in place; https says whether
// the response goes to a page served over HTTPS.
func (hd *Hardener) Harden(h http.Header, https bool) {
	lines := h["Set-Cookie"]
	for i, line := range lines {
		if out, changed := hd.line(line, https); changed {
			lines[i] = out
		}
	}
}

// line hardens one Set-Cookie value.
func (hd *Hardener) line(v string, https bool) (string, bool) {
	name, _, ok := strings.Cut(v, "=")
	if !ok {
		return v, false
	}
	name = strings.TrimSpace(name)
	f, named := hd.byName[name]
	if !named {
		f = hd.all
	}
	var hasSecure, hasHTTPOnly bool
	sameSiteAt, sameSiteEnd := -1, -1
	// Attributes follow the first ';'. The value itself is never parsed.
	pos := strings.IndexByte(v, ';')
	for pos >= 0 && pos < len(v) {
		start := pos + 1
		end := strings.IndexByte(v[start:], ';')
		if end < 0 {
			end = len(v)
		} else {
			end += start
		}
		attr := strings.TrimSpace(v[start:end])
		attrName, _, _ := strings.Cut(attr, "=")
		// EqualFold, not ToLower: no allocation per attribute.
		switch attrName = strings.TrimSpace(attrName); {
		case strings.EqualFold(attrName, "secure"):
			hasSecure = true
		case strings.EqualFold(attrName, "httponly"):
			hasHTTPOnly = true
		case strings.EqualFold(attrName, "samesite"):
			sameSiteAt, sameSiteEnd = pos, end
		}
		pos = end
	}
	out := v
	changed := false
	if f.replace && sameSiteAt >= 0 {
		out = out[:sameSiteAt] + out[sameSiteEnd:]
		sameSiteAt = -1
		changed = true
	}
	if f.sameSite != "" && sameSiteAt < 0 {
		out += "; SameSite=" + f.sameSite
		changed = true
	}
	if !hasSecure && (f.secure == SecureAlways || f.secure == SecureAuto && https) {
		out += "; Secure"
		changed = true
	}
	if !hasHTTPOnly && f.httpOnly {
		out += "; HttpOnly"
		changed = true
	}
	return out, changed
}

// Handler returns a handler that hardens the cookies h sets, when h
// writes its status.
func (hd *Hardener) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hw := &writer{ResponseWriter: w, hd: hd, https: hd.isHTTPS(r)}
		h.ServeHTTP(hw, r)
		if !hw.wrote {
			hd.Harden(w.Header(), hw.https)
		}
	})
}

// IsHTTPS reports whether r reached the site over HTTPS, as configured.
func (hd *Hardener) IsHTTPS(r *http.Request) bool { return hd.isHTTPS(r) }

type writer struct {
	http.ResponseWriter
	hd    *Hardener
	https bool
	wrote bool
}

func (w *writer) WriteHeader(code int) {
	if !w.wrote {
		w.hd.Harden(w.ResponseWriter.Header(), w.https)
		w.wrote = code >= 200 || code == http.StatusSwitchingProtocols
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.wrote {
		w.hd.Harden(w.ResponseWriter.Header(), w.https)
		w.wrote = true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// validName reports whether s is a cookie name (an HTTP token).
func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
