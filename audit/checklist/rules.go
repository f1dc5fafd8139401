package checklist

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/internal/origin"
)

// rules is the checklist. Append new rules; never rename or reuse an id.
var rules = []Rule{
	{
		ID: "env-missing", Item: 3, Severity: Moderate,
		Title:     "env is not set",
		Fix:       "set env: production (or development for a local machine)",
		Rationale: "Production safeguards depend on knowing the environment. Rampart assumes production when env is missing, but an explicit value documents intent and keeps a development file from being deployed by accident.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.File() != "configuration" && !c.Has("env") {
				return []Finding{r.finding(c, "", "")}
			}
			return nil
		},
	},
	{
		ID: "development-mode", Item: 3, Severity: Low,
		Title:     "development mode relaxes production safeguards",
		Fix:       "use env: production for anything reachable by others",
		Rationale: "In development Rampart starts despite critical findings and allows bypasses meant for local work. Such an instance must never face real users.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.Env == config.Development {
				return []Finding{r.finding(c, "env", "")}
			}
			return nil
		},
	},
	{
		ID: "config-file-readable-secret", Item: 12, Severity: High,
		Title:     "the configuration file holds a secret and other users can read it",
		Fix:       "move the secret out of the file — store.redis: redis://:${REDIS_PASSWORD}@host:6379/0, store.key: ${RAMPART_STORE_KEY}, or the *_file variant of the key — or chmod 600 the file",
		Rationale: "A password written into store.redis or store.postgres, or a record key, CSRF key, admin token, OpenID Connect client secret or a webhook's password or credential header (events.webhooks[].url, .headers) written into the file, is as secret as the file that holds it. A configuration file readable by every local user (mode 644, the default of most editors and of a ConfigMap) hands them — and with them every session, refresh token and user — to any process on the machine. Environment references (${NAME}) and *_file variants keep the secret out of the file.",
		check: func(r *Rule, c *config.Config) []Finding {
			keys := c.HoldsInlineSecret()
			if len(keys) == 0 || c.File() == "" {
				return nil
			}
			fi, err := os.Stat(c.File())
			if err != nil || fi.Mode().Perm()&0o044 == 0 {
				return nil
			}
			var out []Finding
			for _, k := range keys {
				out = append(out, r.finding(c, k, fmt.Sprintf("%s is mode %04o", c.File(), fi.Mode().Perm())))
			}
			return out
		},
	},
	{
		ID: "trusted-proxies-everything", Item: 10, Severity: Critical,
		Title:     "trusted_proxies trusts every address",
		Fix:       "list only the CIDRs of the load balancers in front of Rampart",
		Rationale: "A trusted proxy's X-Forwarded-For is believed. Trusting 0.0.0.0/0 or ::/0 — or pieces whose union covers every address, such as 0.0.0.0/1 with 128.0.0.0/1, or 2000::/3 — lets any client choose its own address, defeating IP allow-lists, rate limits and login protection.",
		check: func(r *Rule, c *config.Config) []Finding {
			// The union is judged, not each piece: 0.0.0.0/1 and
			// 128.0.0.0/1 together trust every IPv4 address.
			var out []Finding
			for _, all := range []struct {
				space netip.Prefix
				what  string
			}{
				{netip.MustParsePrefix("0.0.0.0/0"), "every IPv4 address"},
				{netip.MustParsePrefix("2000::/3"), "every public IPv6 address"},
			} {
				single := false
				for i, p := range c.TrustedProxies {
					if covers([]netip.Prefix{p}, all.space) {
						out = append(out, r.finding(c, fmt.Sprintf("trusted_proxies[%d]", i), p.String()))
						single = true
					}
				}
				if !single && covers(c.TrustedProxies, all.space) {
					out = append(out, r.finding(c, "trusted_proxies", "together they cover "+all.what))
				}
			}
			return out
		},
	},
	{
		ID: "trusted-proxies-broad", Item: 10, Severity: High,
		Title:     "trusted_proxies includes a very large network",
		Fix:       "narrow trusted_proxies to the load balancers' own addresses or subnet",
		Rationale: "Every address in a trusted CIDR can forge the client address. A public /8 or an IPv6 prefix shorter than /32 almost always includes machines that are not your proxies.",
		check: func(r *Rule, c *config.Config) []Finding {
			var out []Finding
			for i, p := range c.TrustedProxies {
				broad := (p.Addr().Is4() && p.Bits() > 0 && p.Bits() < 8) || (p.Addr().Is6() && p.Bits() > 0 && p.Bits() < 32)
				if broad {
					out = append(out, r.finding(c, fmt.Sprintf("trusted_proxies[%d]", i), p.String()))
				}
			}
			return out
		},
	},
	{
		ID: "admin-public", Item: 12, Severity: High,
		Title:     "the admin listener is reachable from other machines",
		Fix:       "set admin.listen to a loopback address such as 127.0.0.1:9090, or off; or set admin.token_file (or admin.token) or admin.client_ca",
		Rationale: "Metrics, security events and readiness reveal traffic, routes, client addresses and internal state, and reload and unlock change what the gateway does. Off loopback, the admin listener needs a token (admin.token_file) or client certificates (admin.client_ca); in production the gateway refuses to start without one.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.Admin.Listen == "off" || c.Admin.TokenFile != "" || c.Admin.Token != "" || c.Admin.ClientCA != "" {
				return nil
			}
			if loopbackListener(c.Admin.Listen) {
				return nil
			}
			return []Finding{r.finding(c, "admin.listen", c.Admin.Listen)}
		},
	},
	{
		ID: "routes-undeclared", Item: 10, Severity: Moderate,
		Title:     "no URL allow-list: every path reaches the upstream",
		Fix:       "declare routes (or an openapi document) so that only known endpoints are reachable",
		Rationale: "Applications grow debug pages, admin panels and forgotten endpoints. With routes declared, Rampart denies everything else by default, so a new endpoint is exposed only on purpose.",
		check: func(r *Rule, c *config.Config) []Finding {
			if len(c.Routes) == 0 && c.OpenAPI == "" {
				return []Finding{r.finding(c, "routes", "")}
			}
			return nil
		},
	},
	{
		ID: "tls-missing", Item: 12, Severity: Moderate,
		Title:     "plain HTTP with no trusted proxy: traffic may be unencrypted",
		Fix:       "configure tls, or terminate TLS at a load balancer and list it in trusted_proxies",
		Rationale: "Without TLS, sessions, tokens and passwords cross the network in clear text. Serving plain HTTP is fine behind a TLS-terminating load balancer; with no trusted proxy configured, Rampart is probably facing clients directly.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.TLS == nil && len(c.TrustedProxies) == 0 && c.Env != config.Development {
				return []Finding{r.finding(c, "tls", "")}
			}
			return nil
		},
	},
	{
		ID: "limits-body-large", Item: 5, Severity: Low,
		Title:     "request bodies may be very large",
		Fix:       "lower limits.max_body_bytes, and raise it only on the routes that need uploads",
		Rationale: "Large bodies cost memory and time in the application. Most APIs need kilobytes; a high global limit makes every endpoint an upload endpoint.",
		check: func(r *Rule, c *config.Config) []Finding {
			var out []Finding
			if c.Limits.MaxBodyBytes > 100<<20 {
				out = append(out, r.finding(c, "limits.max_body_bytes", fmt.Sprintf("%d bytes", c.Limits.MaxBodyBytes)))
			}
			return out
		},
	},
	{
		ID: "limits-timeouts-off", Item: 12, Severity: Moderate,
		Title:     "a request timeout is disabled or very long",
		Fix:       "keep read_header_timeout at 10s or less and read/write timeouts bounded",
		Rationale: "Unbounded timeouts let a handful of slow clients hold every connection (slowloris and slow-read attacks).",
		check: func(r *Rule, c *config.Config) []Finding {
			var out []Finding
			if c.Limits.ReadHeaderTimeout > 10*time.Second {
				out = append(out, r.finding(c, "limits.read_header_timeout", c.Limits.ReadHeaderTimeout.String()))
			}
			if c.Limits.Read() == 0 {
				out = append(out, r.finding(c, "limits.read_timeout", "0 (no limit)"))
			}
			if c.Limits.Write() == 0 {
				out = append(out, r.findingAt(c, Low, "limits.write_timeout", "0 (no limit)"))
			}
			return out
		},
	},
	{
		ID: "limits-overload-off", Item: 8, Severity: Moderate,
		Title:     "a connection or in-flight limit is off",
		Fix:       "keep limits.max_conns_per_client, max_inflight_per_client, max_inflight and max_upstream_inflight above 0; raise one rather than turning it off",
		Rationale: "Rate limits count requests per period, not what a client holds at once: without these limits one client can keep thousands of connections or slow requests open, starving the others, and a burst reaches the application unbounded.",
		check: func(r *Rule, c *config.Config) []Finding {
			var out []Finding
			l := c.Limits
			if l.ConnsPerClient() == 0 {
				out = append(out, r.finding(c, "limits.max_conns_per_client", "0 (no limit)"))
			}
			if l.InflightPerClient() == 0 {
				out = append(out, r.finding(c, "limits.max_inflight_per_client", "0 (no limit)"))
			}
			if l.Inflight() == 0 {
				out = append(out, r.findingAt(c, Low, "limits.max_inflight", "0 (no limit)"))
			}
			if l.UpstreamInflight() == 0 {
				out = append(out, r.findingAt(c, Low, "limits.max_upstream_inflight", "0 (no limit)"))
			}
			return out
		},
	},
	{
		ID: "access-log-off", Item: 4, Severity: Low,
		Title:     "the access log is off",
		Fix:       "set log.access: true",
		Rationale: "Incident ids on error pages point to log lines; without the access log there is no trail to follow after an attack.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.Log.Access != nil && !*c.Log.Access {
				return []Finding{r.finding(c, "log.access", "")}
			}
			return nil
		},
	},
	{
		ID: "hosts-unrestricted", Item: 10, Severity: Low,
		Title:     "any Host header is accepted",
		Fix:       "list the names the application is served under in allow.hosts",
		Rationale: "Without a Host allow-list, a hostile page can point its own DNS name at the application (DNS rebinding) and a forged Host can poison password-reset links and caches. Listing the real names closes both.",
		check: func(r *Rule, c *config.Config) []Finding {
			if len(c.Allow.Hosts) == 0 {
				return []Finding{r.finding(c, "allow.hosts", "")}
			}
			return nil
		},
	},
	{
		ID: "headers-off", Item: 6, Severity: High,
		Title:     "security headers are turned off",
		Fix:       "use headers.preset: helmet (the default) or strict",
		Rationale: "The headers helmet sets by default (CSP, HSTS, frame and content-type protections) cost nothing and block whole classes of attacks in the browser: clickjacking, MIME sniffing, many XSS payloads, protocol downgrades.",
		check: func(r *Rule, c *config.Config) []Finding {
			if strings.EqualFold(c.Headers.Preset, "none") {
				return []Finding{r.finding(c, "headers.preset", "none")}
			}
			return nil
		},
	},
	{
		ID: "csp-missing", Item: 6, Severity: High,
		Title:     "no Content-Security-Policy is sent",
		Fix:       "remove Content-Security-Policy from headers.remove; tune headers.csp instead",
		Rationale: "CSP is the browser's last line of defence against injected scripts. Removing it globally usually means one page needed an exception: give that route its own headers.csp instead.",
		check: func(r *Rule, c *config.Config) []Finding {
			for i, h := range c.Headers.Remove {
				if strings.EqualFold(h, "Content-Security-Policy") {
					return []Finding{r.finding(c, fmt.Sprintf("headers.remove[%d]", i), h)}
				}
			}
			return nil
		},
	},
	{
		ID: "csp-unsafe-inline", Item: 6, Severity: Moderate,
		Title:     "CSP allows inline scripts without nonces",
		Fix:       "drop 'unsafe-inline' from script-src and turn on headers.nonce, rendering the nonce into your script tags",
		Rationale: "'unsafe-inline' in script-src lets any injected <script> run, which is what CSP exists to stop. Nonces allow the app's own inline scripts and nothing else.",
		check: func(r *Rule, c *config.Config) []Finding {
			src := c.Headers.CSP["script-src"]
			nonce := c.Headers.Nonce != nil && *c.Headers.Nonce || strings.EqualFold(c.Headers.Preset, "strict") && c.Headers.Nonce == nil
			if slices.Contains(src, "'unsafe-inline'") && !nonce {
				return []Finding{r.finding(c, "headers.csp", "script-src 'unsafe-inline'")}
			}
			return nil
		},
	},
	{
		ID: "hsts-missing", Item: 6, Severity: Moderate,
		Title:     "Strict-Transport-Security is not sent",
		Fix:       "remove Strict-Transport-Security from headers.remove",
		Rationale: "Without HSTS, a user's first request (or any typed http:// link) can be downgraded to plain HTTP by anyone on the network path.",
		check: func(r *Rule, c *config.Config) []Finding {
			for i, h := range c.Headers.Remove {
				if strings.EqualFold(h, "Strict-Transport-Security") {
					return []Finding{r.finding(c, fmt.Sprintf("headers.remove[%d]", i), h)}
				}
			}
			return nil
		},
	},
	{
		ID: "hsts-short", Item: 6, Severity: Low,
		Title:     "HSTS max-age is shorter than six months",
		Fix:       "set headers.hsts.max_age to 365d once HTTPS works everywhere",
		Rationale: "A short max-age lets the protection lapse between visits; the MDN HTTP Observatory penalises anything under six months.",
		check: func(r *Rule, c *config.Config) []Finding {
			if m := c.Headers.HSTS.MaxAge; m > 0 && m < 180*24*time.Hour {
				return []Finding{r.finding(c, "headers.hsts.max_age", m.String())}
			}
			return nil
		},
	},
	{
		ID: "error-shield-off", Item: 4, Severity: High,
		Title:     "the error shield is off: upstream errors reach clients as they are",
		Fix:       "set errors.shield: true (the default)",
		Rationale: "Stack traces, SQL errors and file paths in error pages hand attackers a map of the application. The shield replaces them with a neutral page and keeps the details in the log under an incident id.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.Errors.Shield != nil && !*c.Errors.Shield {
				return []Finding{r.finding(c, "errors.shield", "")}
			}
			return nil
		},
	},
	{
		ID: "error-inspection-off", Item: 4, Severity: Low,
		Title:     "4xx error bodies are not inspected for leaks",
		Fix:       "set errors.inspect: true (the default)",
		Rationale: "Applications leak stack traces and SQL errors in 400 and 404 responses too; inspection catches them without touching successful responses.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.Errors.Inspect != nil && !*c.Errors.Inspect && (c.Errors.Shield == nil || *c.Errors.Shield) {
				return []Finding{r.finding(c, "errors.inspect", "")}
			}
			return nil
		},
	},
	{
		ID: "csrf-off", Item: 7, Severity: High,
		Title:     "CSRF defence is off",
		Fix:       "use csrf.mode: origin (the default), and exempt only machine-to-machine routes with routes[].csrf: off",
		Rationale: "Without CSRF checks, any site a logged-in user visits can submit forms to the application in the user's name.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.CSRF.Mode == csrf.ModeOff {
				return []Finding{r.finding(c, "csrf.mode", "off")}
			}
			return nil
		},
	},
	{
		ID: "csrf-route-off", Item: 7, Severity: Low,
		Title:     "a route is exempt from CSRF defence",
		Fix:       "exempt only routes called by other servers (webhooks), and authenticate them another way (signatures)",
		Rationale: "Exemptions are sometimes necessary, but each one is a route a malicious page can post to; listing them keeps the exceptions visible.",
		check: func(r *Rule, c *config.Config) []Finding {
			var out []Finding
			for i, rt := range c.Routes {
				if rt.CSRF == csrf.ModeOff {
					out = append(out, r.finding(c, fmt.Sprintf("routes[%d].csrf", i), rt.Match))
				}
			}
			return out
		},
	},
	{
		ID: "csrf-key-ephemeral", Item: 7, Severity: Moderate,
		Title:     "CSRF tokens are signed with a per-process key",
		Fix:       "set csrf.key_file to a file with at least 32 random bytes, or csrf.key to ${AN_ENVIRONMENT_VARIABLE} holding them",
		Rationale: "A random key per process invalidates every token on restart and makes tokens fail on other replicas, which pushes teams to turn the defence off.",
		check: func(r *Rule, c *config.Config) []Finding {
			if (c.CSRF.Mode == csrf.ModeToken || c.CSRF.Mode == csrf.ModeBoth) && c.CSRF.KeyFile == "" && c.CSRF.Key == "" {
				return []Finding{r.finding(c, "csrf.mode", string(c.CSRF.Mode))}
			}
			return nil
		},
	},
	{
		ID: "cors-any-origin", Item: 9, Severity: Moderate,
		Title:     "CORS allows every origin",
		Fix:       "list the origins that need access instead of *",
		Rationale: "With *, every website can read the application's responses from its visitors' browsers. That is right only for truly public, unauthenticated data.",
		check: func(r *Rule, c *config.Config) []Finding {
			return corsOrigins(c, func(key, o string) []Finding {
				if o == "*" {
					f := r.finding(c, key, o)
					if corsCredentials(c, key) {
						// The policy refuses it at start; wherever it is
						// reported, it is reported as what it is.
						f.Severity = Critical
						f.Title = "CORS allows every origin with credentials"
					}
					return []Finding{f}
				}
				return nil
			})
		},
	},
	{
		ID: "cors-null-origin", Item: 9, Severity: High,
		Title:     "CORS allows the null origin",
		Fix:       "remove null from the CORS origins",
		Rationale: "Sandboxed iframes, data: URLs and local files all send Origin: null, so allowing it allows any attacker who can put content in a sandboxed frame.",
		check: func(r *Rule, c *config.Config) []Finding {
			return corsOrigins(c, func(key, o string) []Finding {
				if o == "null" {
					return []Finding{r.finding(c, key, o)}
				}
				return nil
			})
		},
	},
	{
		ID: "cors-insecure-origin", Item: 9, Severity: Moderate,
		Title:     "CORS trusts an origin served over plain HTTP",
		Fix:       "allow the https:// origin instead",
		Rationale: "Anyone on the network path of a plain-HTTP origin can inject script into it and read the application's responses through it.",
		check: func(r *Rule, c *config.Config) []Finding {
			return corsOrigins(c, func(key, o string) []Finding {
				host := strings.TrimPrefix(o, "http://")
				if h, _, err := net.SplitHostPort(host); err == nil {
					host = h
				}
				if strings.HasPrefix(o, "http://") && host != "localhost" && host != "127.0.0.1" && host != "[::1]" && c.Env != config.Development {
					return []Finding{r.finding(c, key, o)}
				}
				return nil
			})
		},
	},
	{
		ID: "credentials-insecure-origin", Item: 9, Severity: Critical,
		Title:     "an origin served over plain HTTP is trusted with credentials",
		Fix:       "use the https:// origin; plain HTTP is for localhost in development",
		Rationale: "With credentials, a plain-HTTP origin that anyone on the network path can inject script into reads responses made with the user's cookies, or receives the user after login. In production that is a session hijack waiting to happen.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.Env == config.Development {
				return nil
			}
			var out []Finding
			insecure := func(key, o string) {
				host, ok := strings.CutPrefix(strings.ToLower(o), "http://")
				if !ok {
					return
				}
				if h, _, err := net.SplitHostPort(host); err == nil {
					host = h
				}
				host = strings.Trim(host, "[]")
				// Loopback never crosses a network: no one can inject
				// into it on the way.
				if a, err := netip.ParseAddr(host); (err == nil && a.IsLoopback()) || host == "localhost" || strings.HasSuffix(host, ".localhost") {
					return
				}
				out = append(out, r.finding(c, key, o))
			}
			if c.CORS != nil && c.CORS.Credentials {
				for i, o := range c.CORS.Origins {
					insecure(fmt.Sprintf("cors.origins[%d]", i), o)
				}
			}
			for j, rt := range c.Routes {
				if rt.CORS != nil && rt.CORS.Credentials {
					for i, o := range rt.CORS.Origins {
						insecure(fmt.Sprintf("routes[%d].cors.origins[%d]", j, i), o)
					}
				}
			}
			if c.Auth.Sessions != nil || len(c.Auth.Issuers) > 0 {
				for i, o := range c.Auth.Login.RedirectOrigins {
					insecure(fmt.Sprintf("auth.login.redirect_origins[%d]", i), o)
				}
			}
			return out
		},
	},
	{
		ID: "cors-shared-hosting-pattern", Item: 9, Severity: High,
		Title:     "a CORS or CSRF subdomain pattern covers a shared hosting domain",
		Fix:       "list your exact origin on that platform instead of a pattern",
		Rationale: "Anyone can publish a site under *.herokuapp.com, *.github.io, *.vercel.app and the other platforms of the Public Suffix List's private section; a pattern over them trusts strangers, and with credentials they act as the signed-in user.",
		check: func(r *Rule, c *config.Config) []Finding {
			shared := func(key, o string, credentials bool) []Finding {
				_, rest, ok := strings.Cut(strings.ToLower(o), "://*.")
				if !ok {
					return nil
				}
				if h, _, err := net.SplitHostPort(rest); err == nil {
					rest = h
				}
				if !sharedHostingDomain(rest) {
					return nil
				}
				f := r.finding(c, key, o)
				if credentials {
					f.Severity = prodCritical(c)
					f.Title += ", with credentials"
				}
				return []Finding{f}
			}
			out := corsOrigins(c, func(key, o string) []Finding {
				return shared(key, o, corsCredentials(c, key))
			})
			// CSRF trusts what it lists with the user's cookies: always
			// credentialed.
			for i, o := range c.CSRF.TrustedOrigins {
				out = append(out, shared(fmt.Sprintf("csrf.trusted_origins[%d]", i), o, true)...)
			}
			return out
		},
	},
	{
		ID: "ratelimit-none", Item: 8, Severity: Moderate,
		Title:     "no rate limits are configured",
		Fix:       "add a global per-ip limit under rate_limits, e.g. {key: ip, limit: 100, per: 1m, burst: 20}",
		Rationale: "Without a rate limit one client can exhaust the application's capacity, scrape it, or guess identifiers and passwords at full speed.",
		check: func(r *Rule, c *config.Config) []Finding {
			if len(c.RateLimits) > 0 {
				return nil
			}
			for _, rt := range c.Routes {
				if len(rt.RateLimits) > 0 {
					return nil
				}
			}
			return []Finding{r.finding(c, "rate_limits", "")}
		},
	},
	{
		ID: "ratelimit-login-route", Item: 8, Severity: High,
		Title:     "a login-like route has no rate limit",
		Fix:       "give the route its own rate_limits (e.g. {key: ip, limit: 10, per: 1m}), or use Rampart's /.rampart/login with login_protection",
		Rationale: "Routes that check passwords, codes or tokens are where brute force happens; an application's own login endpoint gets none of Rampart's login protection unless it is limited.",
		check: func(r *Rule, c *config.Config) []Finding {
			if len(c.RateLimits) > 0 {
				return nil
			}
			var out []Finding
			for i, rt := range c.Routes {
				if len(rt.RateLimits) == 0 && loginLike(rt.Match) {
					out = append(out, r.finding(c, fmt.Sprintf("routes[%d].match", i), rt.Match))
				}
			}
			return out
		},
	},
	{
		ID: "ratelimit-dry-run", Item: 8, Severity: Low,
		Title:     "a rate limit is in dry-run mode: it refuses nothing",
		Fix:       "remove dry_run once the limit has been tried on real traffic",
		Rationale: "Dry run is for trying a limit; left on, it reports attacks without stopping them.",
		check: func(r *Rule, c *config.Config) []Finding {
			var out []Finding
			for i, rule := range c.RateLimits {
				if rule.DryRun {
					out = append(out, r.finding(c, fmt.Sprintf("rate_limits[%d].dry_run", i), rule.Name))
				}
			}
			for j, rt := range c.Routes {
				for i, rule := range rt.RateLimits {
					if rule.DryRun {
						out = append(out, r.finding(c, fmt.Sprintf("routes[%d].rate_limits[%d].dry_run", j, i), rule.Name))
					}
				}
			}
			return out
		},
	},
	{
		ID: "login-protection-fail-open", Item: 8, Severity: Moderate,
		Title:     "login protection stops counting when Redis is down",
		Fix:       "use login_protection.on_store_error: fail_closed (the default)",
		Rationale: "An attacker who can make Redis slow or unreachable would otherwise get unlimited password guesses exactly when monitoring is busiest.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.LoginProtection.OnStoreError == bruteforce.FailOpen {
				return []Finding{r.finding(c, "login_protection.on_store_error", "fail_open")}
			}
			return nil
		},
	},
	{
		ID: "validation-missing", Item: 5, Severity: Moderate,
		Title:     "a route that accepts a body is not validated",
		Fix:       "describe the route in an OpenAPI document (openapi:) or give it routes[].validate.body_schema",
		Rationale: "Validating types, formats, required fields and sizes at the gateway stops malformed and hostile input before it reaches application code, where mass assignment, type confusion and injection start.",
		check: func(r *Rule, c *config.Config) []Finding {
			// With an OpenAPI document every operation is validated; routes
			// without one count only when there is no document at all.
			var out []Finding
			for i, rt := range c.Routes {
				method, _, ok := strings.Cut(rt.Match, " ")
				write := !ok || method == "POST" || method == "PUT" || method == "PATCH"
				if write && rt.Validate == nil && c.OpenAPI == "" {
					out = append(out, r.finding(c, fmt.Sprintf("routes[%d].match", i), rt.Match))
				}
			}
			return out
		},
	},
	{
		ID: "validation-lenient", Item: 5, Severity: Low,
		Title:     "unknown properties and query parameters are accepted",
		Fix:       "set validation.strict: true once the schemas are complete",
		Rationale: "Strict mode refuses fields the schemas do not declare, which is what stops mass-assignment attacks (an extra \"role\": \"admin\" in a signup body).",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.OpenAPI != "" && !c.Validation.Strict {
				return []Finding{r.finding(c, "validation.strict", "")}
			}
			return nil
		},
	},
	{
		ID: "session-lifetime", Item: 3, Severity: Critical,
		Title:     "session lifetimes are too long for production",
		Fix:       "keep auth.sessions.idle_timeout at 24h or less and absolute_timeout at 30d or less",
		Rationale: "A session that lives for months is a stolen cookie that works for months. Both timeouts are required; in production they are capped, and a longer one stops the start.",
		check: func(r *Rule, c *config.Config) []Finding {
			sc := c.Auth.Sessions
			if sc == nil {
				return nil
			}
			var out []Finding
			if sc.IdleTimeout > session.ProductionMaxIdleTimeout {
				out = append(out, r.findingAt(c, prodCritical(c), "auth.sessions.idle_timeout", sc.IdleTimeout.String()))
			}
			if sc.AbsoluteTimeout > session.ProductionMaxAbsoluteTimeout {
				out = append(out, r.findingAt(c, prodCritical(c), "auth.sessions.absolute_timeout", sc.AbsoluteTimeout.String()))
			}
			return out
		},
	},
	{
		ID: "session-insecure-cookie", Item: 1, Severity: Critical,
		Title:     "the session cookie is sent over plain HTTP (a development setting)",
		Fix:       "remove auth.sessions.unsafe_insecure_cookie and serve over HTTPS",
		Rationale: "Without Secure and the __Host- prefix, the session cookie travels in clear text and can be set by a sibling subdomain (session fixation). It exists for local development only.",
		check: func(r *Rule, c *config.Config) []Finding {
			if sc := c.Auth.Sessions; sc != nil && sc.UnsafeInsecureCookie {
				return []Finding{r.findingAt(c, prodCritical(c), "auth.sessions.unsafe_insecure_cookie", "")}
			}
			return nil
		},
	},
	{
		ID: "token-signing-key", Item: 2, Severity: Critical,
		Title:     "the token signing key is missing or weak",
		Fix:       "set auth.tokens.signing_key to an Ed25519 or P-256 private key file readable only by Rampart",
		Rationale: "Without a key file, development mode signs with a throwaway key (tokens die at restart and differ between replicas); a weak, readable or wrong-type key lets others forge tokens.",
		check: func(r *Rule, c *config.Config) []Finding {
			tc := c.Auth.Tokens
			if tc == nil {
				return nil
			}
			if tc.SigningKey == "" {
				return []Finding{r.findingAt(c, prodCritical(c), "auth.tokens", "no signing_key")}
			}
			var out []Finding
			for _, p := range token.CheckKeyFile(c.RelativePath(tc.SigningKey), token.Signing) {
				out = append(out, r.findingAt(c, prodCritical(c), "auth.tokens.signing_key", p.Problem))
			}
			return out
		},
	},
	{
		ID: "store-record-key", Item: 1, Severity: Critical,
		Title:     "sessions or refresh tokens are kept in Redis without a record key",
		Fix:       "set store.key_file to a file of at least 32 random bytes (head -c 32 /dev/urandom > store.key), or store.key to ${AN_ENVIRONMENT_VARIABLE} holding them, the same on every replica",
		Rationale: "Records in a shared Redis are only as trustworthy as everyone who can write to it: without an HMAC under a key only Rampart holds, a session record can be edited into an admin session, and another deployment's records read as this one's.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.Store.Redis == "" || c.HasRecordKey() || (c.Auth.Sessions == nil && c.Auth.Tokens == nil) {
				return nil
			}
			return []Finding{r.findingAt(c, prodCritical(c), "store", "no key_file")}
		},
	},
	{
		ID: "token-lifetime-long", Item: 3, Severity: Moderate,
		Title:     "token lifetimes are longer than they need to be",
		Fix:       "use access_ttl of 15m or less and refresh_ttl of 30d or less; external issuers' max_lifetime of 24h or less",
		Rationale: "Access tokens cannot be recalled before they expire (unless the revocation list is on), and long refresh lifetimes keep stolen tokens useful. Short lifetimes bound the damage.",
		check: func(r *Rule, c *config.Config) []Finding {
			var out []Finding
			if tc := c.Auth.Tokens; tc != nil {
				if tc.AccessTTL > 30*time.Minute {
					out = append(out, r.finding(c, "auth.tokens.access_ttl", tc.AccessTTL.String()))
				}
				if tc.RefreshTTL > 30*24*time.Hour {
					out = append(out, r.finding(c, "auth.tokens.refresh_ttl", tc.RefreshTTL.String()))
				}
			}
			for i, ic := range c.Auth.Issuers {
				if ic.MaxLifetime > 24*time.Hour {
					out = append(out, r.finding(c, fmt.Sprintf("auth.issuers[%d].max_lifetime", i), ic.MaxLifetime.String()))
				}
			}
			return out
		},
	},
	{
		ID: "auth-nothing-protected", Item: 1, Severity: Moderate,
		Title:     "authentication is configured but no route requires it",
		Fix:       "set auth: required (the default when authentication is configured) on the routes that need it",
		Rationale: "A login page in front of routes that are all auth: none protects nothing; it is usually a leftover from debugging.",
		check: func(r *Rule, c *config.Config) []Finding {
			if !c.Auth.Enabled() || len(c.Routes) == 0 {
				return nil
			}
			for i := range c.Routes {
				if c.RouteAuth(i) != auth.ModeNone {
					return nil
				}
			}
			return []Finding{r.finding(c, "routes", "")}
		},
	},
	{
		ID: "admin-pprof-public", Item: 12, Severity: Critical,
		Title:     "the profiler is served on an admin listener reachable from other machines",
		Fix:       "bind admin.listen to loopback (127.0.0.1:9090), or turn admin.pprof off",
		Rationale: "The admin listener has no authentication. With pprof on it, anyone who reaches it can read goroutine stacks and heap profiles — request paths, headers and secrets in memory — and keep the CPU busy with profiles.",
		check: func(r *Rule, c *config.Config) []Finding {
			if !c.Admin.Pprof || c.Admin.Listen == "off" || loopbackListener(c.Admin.Listen) {
				return nil
			}
			f := r.finding(c, "admin.pprof", c.Admin.Listen)
			f.Severity = prodCritical(c)
			return []Finding{f}
		},
	},
	{
		ID: "secret-file-readable", Item: 2, Severity: Moderate,
		Title:     "a file holding secrets is readable by other users",
		Fix:       "chmod 600 the file (Rampart creates its own files that way)",
		Rationale: "Signing keys, client secrets, TLS keys and the user database (password hashes, session and refresh token hashes) are secrets: any local account or process that can read them can forge tokens, impersonate the gateway or attack the hashes offline.",
		check: func(r *Rule, c *config.Config) []Finding {
			var out []Finding
			for _, s := range secretFiles(c) {
				info, err := os.Stat(c.RelativePath(s.path))
				if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o077 == 0 {
					continue
				}
				out = append(out, r.finding(c, s.key, fmt.Sprintf("%s is mode %04o", s.path, info.Mode().Perm())))
			}
			return out
		},
	},
	{
		ID: "admin-pprof", Item: 12, Severity: Low,
		Title:     "the profiler is served on the admin listener",
		Fix:       "turn admin.pprof off once the diagnosis is done",
		Rationale: "Profiles and goroutine dumps show request paths, internals and sometimes data; they are for a diagnosis, not a permanent feature.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.Admin.Pprof && c.Admin.Listen != "off" {
				return []Finding{r.finding(c, "admin.pprof", "")}
			}
			return nil
		},
	},
}

// prodCritical is critical in production (the guard stops the start) and
// high in development (a warning on every start).
func prodCritical(c *config.Config) Severity {
	if c.Env == config.Development {
		return High
	}
	return Critical
}

// secretFile is a configured file that holds a secret, with its key.
type secretFile struct{ key, path string }

// secretFiles lists the files of c that hold secrets.
func secretFiles(c *config.Config) []secretFile {
	var out []secretFile
	add := func(key, path string) {
		if path != "" {
			out = append(out, secretFile{key, path})
		}
	}
	add("csrf.key_file", c.CSRF.KeyFile)
	add("store.key_file", c.Store.KeyFile)
	add("store.redis_file", c.Store.RedisFile)
	add("store.postgres_file", c.Store.PostgresFile)
	add("admin.token_file", c.Admin.TokenFile)
	if c.TLS != nil {
		add("tls.key", c.TLS.Key)
	}
	if c.Auth.Tokens != nil {
		add("auth.tokens.signing_key", c.Auth.Tokens.SigningKey)
	}
	for i, is := range c.Auth.Issuers {
		if is.Login != nil {
			add(fmt.Sprintf("auth.issuers[%d].login.client_secret_file", i), is.Login.ClientSecretFile)
		}
	}
	if (c.Auth.Sessions != nil || c.Auth.Tokens != nil) && c.Store.Postgres == "" {
		add("store.sqlite", c.Store.SQLite)
	}
	return out
}

// loopbackListener reports whether a listen address is on loopback only.
func loopbackListener(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// corsCredentials reports whether the CORS origin at key belongs to a
// policy that allows credentials.
func corsCredentials(c *config.Config, key string) bool {
	if strings.HasPrefix(key, "cors.") {
		return c.CORS != nil && c.CORS.Credentials
	}
	var j int
	if _, err := fmt.Sscanf(key, "routes[%d]", &j); err == nil && j >= 0 && j < len(c.Routes) && c.Routes[j].CORS != nil {
		return c.Routes[j].CORS.Credentials
	}
	return false
}

// sharedHostingDomain reports whether a pattern's domain is a platform that
// hands out subdomains to anyone: the Public Suffix List's private section,
// or one of the platforms listed below.
func sharedHostingDomain(domain string) bool {
	if origin.SharedHosting(domain) {
		return true
	}
	for _, shared := range sharedHosting {
		if domain == shared || strings.HasSuffix(domain, "."+shared) {
			return true
		}
	}
	return false
}

// covers reports whether the union of prefixes covers all of target.
func covers(prefixes []netip.Prefix, target netip.Prefix) bool {
	var inside []netip.Prefix
	for _, p := range prefixes {
		p = p.Masked()
		if p.Addr().Is4() != target.Addr().Is4() {
			continue
		}
		if p.Bits() <= target.Bits() && p.Contains(target.Addr()) {
			return true
		}
		if p.Bits() > target.Bits() && target.Contains(p.Addr()) {
			inside = append(inside, p)
		}
	}
	if len(inside) == 0 || target.Bits() >= target.Addr().BitLen() {
		return false
	}
	// Split the target in halves; each must be covered. Only halves that
	// hold a listed prefix are explored, so the work is bounded by the
	// number of prefixes times the address length.
	lo := netip.PrefixFrom(target.Addr(), target.Bits()+1)
	hiAddr := target.Addr().AsSlice()
	bit := target.Bits()
	hiAddr[bit/8] |= 0x80 >> (bit % 8)
	ha, _ := netip.AddrFromSlice(hiAddr)
	hi := netip.PrefixFrom(ha, target.Bits()+1)
	return covers(inside, lo) && covers(inside, hi)
}

// loginLike reports whether a route pattern looks like it checks
// credentials.
func loginLike(pattern string) bool {
	p := strings.ToLower(pattern)
	for _, w := range []string{"login", "signin", "sign-in", "logon", "auth", "token", "session", "password", "passwd", "otp", "mfa", "2fa"} {
		if strings.Contains(p, w) {
			return true
		}
	}
	return false

}

// sharedHosting are domains under which anyone can get a subdomain.
var sharedHosting = []string{
	"herokuapp.com", "github.io", "vercel.app", "netlify.app", "pages.dev", "web.app",
	"firebaseapp.com", "appspot.com", "azurewebsites.net", "cloudfront.net", "onrender.com",
	"fly.dev", "glitch.me", "repl.co", "gitlab.io", "surge.sh", "workers.dev", "amplifyapp.com",
}

// corsOrigins calls check for every CORS origin in c, global and per route,
// with its key.
func corsOrigins(c *config.Config, check func(key, origin string) []Finding) []Finding {
	var out []Finding
	if c.CORS != nil {
		for i, o := range c.CORS.Origins {
			out = append(out, check(fmt.Sprintf("cors.origins[%d]", i), o)...)
		}
	}
	for j, rt := range c.Routes {
		if rt.CORS != nil {
			for i, o := range rt.CORS.Origins {
				out = append(out, check(fmt.Sprintf("routes[%d].cors.origins[%d]", j, i), o)...)
			}
		}
	}
	return out
}
