package headers

import "time"

// Preset names.
const (
	// PresetHelmet is helmet v8's default header set, byte for byte. It is
	// the default.
	PresetHelmet = "helmet"
	// PresetStrict goes further than helmet: a CSP without 'unsafe-inline'
	// built on default-src 'none' with per-request nonces,
	// Permissions-Policy, Cross-Origin-Embedder-Policy where the CSP makes it
	// safe, frames denied, and a preload-ready HSTS.
	PresetStrict = "strict"
	// PresetNone sends no security headers; leaking headers are still
	// removed and Set still applies.
	PresetNone = "none"
)

// HelmetVersion is the helmet release whose defaults PresetHelmet
// reproduces; the tests compare against that release running in Express.
const HelmetVersion = "8.3.0"

// Header names this package manages.
const (
	hCSP           = "Content-Security-Policy"
	hCSPReportOnly = "Content-Security-Policy-Report-Only"
	hCOEP          = "Cross-Origin-Embedder-Policy"
	hCOOP          = "Cross-Origin-Opener-Policy"
	hCORP          = "Cross-Origin-Resource-Policy"
	hOAC           = "Origin-Agent-Cluster"
	hPermissions   = "Permissions-Policy"
	hReferrer      = "Referrer-Policy"
	hReporting     = "Reporting-Endpoints"
	hHSTS          = "Strict-Transport-Security"
	hXCTO          = "X-Content-Type-Options"
	hXDNS          = "X-Dns-Prefetch-Control"
	hXDownload     = "X-Download-Options"
	hXFO           = "X-Frame-Options"
	hXPCDP         = "X-Permitted-Cross-Domain-Policies"
	hXXSS          = "X-Xss-Protection"
)

type preset struct {
	csp     Directives
	hsts    hstsDefaults
	headers map[string]string
	nonce   bool
	coep    bool
}

type hstsDefaults struct {
	maxAge            time.Duration
	includeSubdomains bool
	preload           bool
}

const year = 365 * 24 * time.Hour

// helmetCSP is helmet's contentSecurityPolicy.getDefaultDirectives().
func helmetCSP() Directives {
	return Directives{
		"default-src":               {"'self'"},
		"base-uri":                  {"'self'"},
		"font-src":                  {"'self'", "https:", "data:"},
		"form-action":               {"'self'"},
		"frame-ancestors":           {"'self'"},
		"img-src":                   {"'self'", "data:"},
		"object-src":                {"'none'"},
		"script-src":                {"'self'"},
		"script-src-attr":           {"'none'"},
		"style-src":                 {"'self'", "https:", "'unsafe-inline'"},
		"upgrade-insecure-requests": {},
	}
}

// strictCSP allows nothing by default and same-origin for what a typical
// application loads; inline code runs only with the request's nonce.
func strictCSP() Directives {
	return Directives{
		"default-src":               {"'none'"},
		"base-uri":                  {"'none'"},
		"connect-src":               {"'self'"},
		"font-src":                  {"'self'"},
		"form-action":               {"'self'"},
		"frame-ancestors":           {"'none'"},
		"img-src":                   {"'self'", "data:"},
		"manifest-src":              {"'self'"},
		"media-src":                 {"'self'"},
		"object-src":                {"'none'"},
		"script-src":                {"'self'"},
		"script-src-attr":           {"'none'"},
		"style-src":                 {"'self'"},
		"worker-src":                {"'self'"},
		"upgrade-insecure-requests": {},
	}
}

// strictPermissions turns off powerful features no page gets by default.
const strictPermissions = "accelerometer=(), autoplay=(), camera=(), display-capture=(), " +
	"encrypted-media=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), " +
	"microphone=(), midi=(), payment=(), serial=(), usb=(), xr-spatial-tracking=()"

func presetFor(name string) (preset, bool) {
	switch name {
	case "", PresetHelmet:
		return preset{
			csp:  helmetCSP(),
			hsts: hstsDefaults{maxAge: year, includeSubdomains: true},
			headers: map[string]string{
				hCOOP: "same-origin",
				hCORP: "same-origin",
				hOAC:  "?1",
				// helmet sends no-referrer, under which browsers send
				// "Origin: null" on same-origin form posts, which no
				// origin check can tell from a forgery.
				hReferrer:  "strict-origin-when-cross-origin",
				hXCTO:      "nosniff",
				hXDNS:      "off",
				hXDownload: "noopen",
				hXFO:       "SAMEORIGIN",
				hXPCDP:     "none",
				hXXSS:      "0",
			},
		}, true
	case PresetStrict:
		return preset{
			csp:   strictCSP(),
			hsts:  hstsDefaults{maxAge: 2 * year, includeSubdomains: true, preload: true},
			nonce: true,
			coep:  true,
			headers: map[string]string{
				hCOOP:        "same-origin",
				hCORP:        "same-origin",
				hOAC:         "?1",
				hPermissions: strictPermissions,
				hReferrer:    "same-origin",
				hXCTO:        "nosniff",
				hXDNS:        "off",
				hXDownload:   "noopen",
				hXFO:         "DENY",
				hXPCDP:       "none",
				hXXSS:        "0",
			},
		}, true
	case PresetNone:
		return preset{headers: map[string]string{}}, true
	}
	return preset{}, false
}
