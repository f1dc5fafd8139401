package checklist

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/rampartsec/rampart/config"
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
		ID: "trusted-proxies-everything", Item: 10, Severity: Critical,
		Title:     "trusted_proxies trusts every address",
		Fix:       "list only the CIDRs of the load balancers in front of Rampart",
		Rationale: "A trusted proxy's X-Forwarded-For is believed. Trusting 0.0.0.0/0 or ::/0 lets any client choose its own address, defeating IP allow-lists, rate limits and login protection.",
		check: func(r *Rule, c *config.Config) []Finding {
			var out []Finding
			for i, p := range c.TrustedProxies {
				if p.Bits() == 0 {
					out = append(out, r.finding(c, fmt.Sprintf("trusted_proxies[%d]", i), p.String()))
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
		Fix:       "set admin.listen to a loopback address such as 127.0.0.1:9090, or off",
		Rationale: "Metrics and readiness reveal traffic, routes and internal state. The admin listener has no authentication, so it belongs on loopback or a private network reached through your monitoring.",
		check: func(r *Rule, c *config.Config) []Finding {
			if c.Admin.Listen == "off" {
				return nil
			}
			host, _, err := net.SplitHostPort(c.Admin.Listen)
			if err == nil && host == "localhost" {
				return nil
			}
			if a, perr := netip.ParseAddr(host); err == nil && perr == nil && a.IsLoopback() {
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
			if len(c.Routes) == 0 {
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
}
