package scan

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/severity"
)

// Cookie lifetimes past which cookie-expiry warns: a session cookie that
// outlives a month signs users in for good; any cookie past 400 days asks
// for more than browsers keep (RFC 6265bis caps lifetimes at 400 days).
const (
	maxSessionLifetime = 30 * 24 * time.Hour
	maxCookieLifetime  = 400 * 24 * time.Hour
)

// lifetimeCap bounds computed lifetimes, so that a Max-Age of 2^63 seconds
// cannot overflow a Duration.
const lifetimeCap = 100 * 365 * 24 * time.Hour

// maxCookies bounds how many Set-Cookie lines are examined.
const maxCookies = 50

// cookie is one Set-Cookie line as the checks see it.
type cookie struct {
	name     string
	secure   bool
	httpOnly bool
	// sameSite is the attribute's value, lower-cased; "" when absent.
	sameSite   string
	hasSite    bool
	domain     string
	path       string
	lifetime   time.Duration // 0: a session cookie (no Max-Age or Expires)
	deleted    bool          // Max-Age <= 0 or Expires in the past: a deletion
	session    bool          // looks like it carries a login
	antiForged bool          // a CSRF token, readable by scripts on purpose
}

// parseCookie reads a Set-Cookie line the way browsers do (RFC 6265bis,
// section 5.6): name=value, then attributes, unknown ones ignored. It
// reports false for a line without a name=value pair.
func parseCookie(line string, now time.Time) (cookie, bool) {
	parts := strings.Split(line, ";")
	name, _, ok := strings.Cut(parts[0], "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return cookie{}, false
	}
	c := cookie{name: name}
	var maxAge *int64
	var expires time.Time
	for _, attr := range parts[1:] {
		k, val, _ := strings.Cut(attr, "=")
		k, val = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(val)
		switch k {
		case "secure":
			c.secure = true
		case "httponly":
			c.httpOnly = true
		case "samesite":
			c.sameSite, c.hasSite = strings.ToLower(val), true
		case "domain":
			c.domain = val
		case "path":
			c.path = val
		case "max-age":
			if n, ok := parseMaxAge(val); ok {
				maxAge = &n
			}
		case "expires":
			if t, err := http.ParseTime(val); err == nil {
				expires = t
			}
		}
	}
	// Max-Age wins over Expires.
	switch {
	case maxAge != nil && *maxAge <= 0:
		c.deleted = true
	case maxAge != nil:
		c.lifetime = time.Duration(min(*maxAge, int64(lifetimeCap/time.Second))) * time.Second
	case !expires.IsZero() && !expires.After(now):
		c.deleted = true
	case !expires.IsZero():
		c.lifetime = expires.Sub(now)
	}
	lower := strings.ToLower(name)
	c.antiForged = strings.Contains(lower, "csrf") || strings.Contains(lower, "xsrf")
	c.session = !c.antiForged && isSessionName(lower)
	return c, true
}

// parseMaxAge reads a Max-Age value: an optional "-" and digits (RFC
// 6265bis, section 5.6.2). Values too large for int64 saturate.
func parseMaxAge(val string) (int64, bool) {
	digits := strings.TrimPrefix(val, "-")
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		if strings.HasPrefix(val, "-") {
			return math.MinInt64, true
		}
		return math.MaxInt64, true
	}
	return n, true
}

// isSessionName reports whether a cookie name looks like it carries a
// login: connect.sid, PHPSESSID, JSESSIONID, session, auth_token, jwt,
// remember_me, __Host-sid…
func isSessionName(lower string) bool {
	lower = strings.TrimPrefix(strings.TrimPrefix(lower, "__host-"), "__secure-")
	for _, w := range []string{"sess", "login", "auth", "token", "jwt", "remember"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return lower == "sid" || strings.HasSuffix(lower, ".sid") || strings.HasSuffix(lower, "_sid") || strings.HasSuffix(lower, "-sid")
}

// prefixProblem says why a __Host- or __Secure- cookie is one browsers
// refuse to store, or "".
func (c cookie) prefixProblem() string {
	lower := strings.ToLower(c.name)
	switch {
	case strings.HasPrefix(lower, "__host-"):
		var miss []string
		if !c.secure {
			miss = append(miss, "without Secure")
		}
		if c.domain != "" {
			miss = append(miss, "with Domain")
		}
		if c.path != "/" {
			miss = append(miss, "without Path=/")
		}
		return strings.Join(miss, ", ")
	case strings.HasPrefix(lower, "__secure-") && !c.secure:
		return "without Secure"
	}
	return ""
}

// cookiesSeen returns the cookies the page set, deletions left out.
func (ev *evidence) cookiesSeen(now time.Time) []cookie {
	var out []cookie
	for _, r := range ev.chain {
		for _, line := range r.header.Values("Set-Cookie") {
			if len(out) == maxCookies {
				return out
			}
			if c, ok := parseCookie(line, now); ok && !c.deleted {
				out = append(out, c)
			}
		}
	}
	return out
}

func evalCookies(v *verdict, ev *evidence, now time.Time) {
	cookies := ev.cookiesSeen(now)
	if len(cookies) == 0 {
		for _, id := range []string{"cookie-secure", "cookie-httponly", "cookie-samesite", "cookie-prefix", "cookie-expiry"} {
			v.pass(id, "no cookies set by %s", ev.final.url.Redacted())
		}
		return
	}
	var (
		insecureSession, insecureOther, readable         []string
		badSite, noneSession, missingSite                []string
		badPrefix, unprefixed, longSession, longAnything []string
		sessions                                         int
	)
	for _, c := range cookies {
		name := truncate(c.name, 40)
		if c.session {
			sessions++
		}
		switch {
		case !c.secure && c.session:
			insecureSession = append(insecureSession, name)
		case !c.secure:
			insecureOther = append(insecureOther, name)
		}
		if c.session && !c.httpOnly {
			readable = append(readable, name)
		}
		switch {
		case c.hasSite && c.sameSite != "lax" && c.sameSite != "strict" && c.sameSite != "none":
			badSite = append(badSite, name)
		case c.sameSite == "none" && c.session:
			noneSession = append(noneSession, name)
		case !c.hasSite && c.session:
			missingSite = append(missingSite, name)
		}
		if why := c.prefixProblem(); why != "" {
			badPrefix = append(badPrefix, name+" ("+why+")")
		} else if c.session && !strings.HasPrefix(strings.ToLower(c.name), "__host-") {
			unprefixed = append(unprefixed, name)
		}
		switch {
		case c.session && c.lifetime > maxSessionLifetime:
			longSession = append(longSession, fmt.Sprintf("%s (%s)", name, roughly(c.lifetime)))
		case c.lifetime > maxCookieLifetime:
			longAnything = append(longAnything, fmt.Sprintf("%s (%s)", name, roughly(c.lifetime)))
		}
	}
	list := func(names []string) string { return strings.Join(names, ", ") }
	seen := fmt.Sprintf("%d %s, %d session", len(cookies), plural(len(cookies), "cookie", "cookies"), sessions)

	switch {
	case len(insecureSession) > 0:
		v.finding("cookie-secure", severity.High, "session cookies without Secure: %s", list(insecureSession))
	case len(insecureOther) > 0:
		v.finding("cookie-secure", severity.Low, "cookies without Secure: %s", list(insecureOther))
	default:
		v.pass("cookie-secure", "%s, all Secure", seen)
	}
	if len(readable) > 0 {
		v.finding("cookie-httponly", severity.High, "session cookies readable by scripts (no HttpOnly): %s", list(readable))
	} else {
		v.pass("cookie-httponly", "%s, sessions HttpOnly", seen)
	}
	switch {
	case len(badSite) > 0:
		v.finding("cookie-samesite", severity.Moderate, "invalid SameSite (browsers fall back to their default): %s", list(badSite))
	case len(noneSession) > 0:
		v.finding("cookie-samesite", severity.Moderate, "session cookies sent on cross-site requests (SameSite=None): %s", list(noneSession))
	case len(missingSite) > 0:
		v.finding("cookie-samesite", severity.Low, "session cookies without SameSite (some browsers send them cross-site): %s", list(missingSite))
	default:
		v.pass("cookie-samesite", "%s, SameSite set", seen)
	}
	switch {
	case len(badPrefix) > 0:
		v.finding("cookie-prefix", severity.High, "prefixed cookies that browsers refuse to store: %s", list(badPrefix))
	case len(unprefixed) > 0:
		v.finding("cookie-prefix", severity.Low, "session cookies a subdomain or plain-HTTP page could overwrite (no __Host- prefix): %s", list(unprefixed))
	default:
		v.pass("cookie-prefix", "%s, sessions __Host-", seen)
	}
	switch {
	case len(longSession) > 0:
		v.finding("cookie-expiry", severity.Moderate, "session cookies that outlive %d days: %s", int(maxSessionLifetime.Hours()/24), list(longSession))
	case len(longAnything) > 0:
		v.finding("cookie-expiry", severity.Low, "cookies that outlive %d days: %s", int(maxCookieLifetime.Hours()/24), list(longAnything))
	default:
		v.pass("cookie-expiry", "%s, none long-lived", seen)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
