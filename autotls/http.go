package autotls

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// RedirectHandler returns the handler of a plain-HTTP listener in front of
// an HTTPS one on httpsPort: every request is answered with a redirect to
// the same host and path over HTTPS — 301 for GET and HEAD, 308 (which keeps
// the method and body) otherwise. The port is left out of the target when
// it is 443. A Host that is not a valid host name or IP literal gets 400, so
// the handler never builds a URL from a malformed header.
func RedirectHandler(httpsPort int) http.Handler {
	suffix := ""
	if httpsPort != 443 && httpsPort > 0 {
		suffix = ":" + strconv.Itoa(httpsPort)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, ok := requestHost(r.Host)
		if !ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("bad request: missing or malformed Host header\n"))
			return
		}
		target := "https://" + host + suffix + r.URL.RequestURI()
		code := http.StatusMovedPermanently
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			code = http.StatusPermanentRedirect
		}
		w.Header().Set("Location", target)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Connection", "close")
		w.WriteHeader(code)
	})
}

// requestHost returns the host of a Host header without its port, lower-
// cased, with IPv6 literals bracketed, if it is a valid host name or IP.
func requestHost(hostport string) (string, bool) {
	host := hostport
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		if _, err := strconv.Atoi(p); err != nil && p != "" {
			return "", false
		}
		host = h
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return "", false
	}
	if ip := net.ParseIP(host); ip != nil {
		if strings.Contains(host, ":") {
			return "[" + ip.String() + "]", true
		}
		return ip.String(), true
	}
	if !validHost(host) {
		return "", false
	}
	return host, true
}

// HTTPHandler returns the handler of the plain-HTTP listener: ACME HTTP-01
// challenges are answered, everything else is redirected to HTTPS on
// httpsPort (see RedirectHandler).
func (m *Manager) HTTPHandler(httpsPort int) http.Handler {
	redirect := RedirectHandler(httpsPort)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.HandleHTTPChallenge(w, r) {
			return
		}
		redirect.ServeHTTP(w, r)
	})
}
