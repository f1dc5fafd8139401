package demo

import (
	"fmt"
	"strconv"
)

// Settings are the parts of the demo's configuration that differ from run
// to run.
type Settings struct {
	// Listen is the gateway's address; Admin the admin listener's, or "off".
	Listen, Admin string
	// Upstream is the demo app's URL.
	Upstream string
	// OpenAPI and SQLite are the paths of the API document and the
	// embedded database.
	OpenAPI, SQLite string
}

// DefaultListen is where `rampart demo` listens unless told otherwise: on
// loopback only, since the demo has a printed password and development
// settings.
const DefaultListen = "127.0.0.1:8080"

// Config returns the configuration `rampart demo` runs with, as the YAML
// a user would write: `rampart demo --print-config` prints it as a starting
// point for one's own, and the tests run the gateway with exactly it.
func Config(s Settings) []byte {
	q := strconv.Quote
	return fmt.Appendf(nil, `# The configuration rampart demo runs with; a starting point for your own.
# Development mode: a missing token signing key is replaced by an ephemeral
# one, and sessions work over plain HTTP on any host name. Use env: production,
# HTTPS and auth.tokens.signing_key for anything real.
env: development
listen: %s
admin: {listen: %s}
upstream: %s
# The demo API's OpenAPI document is the URL allow-list and the validation
# schema: undeclared paths such as the app's /internal/debug are unreachable.
openapi: %s
# Users and sessions in an embedded database.
store: {sqlite: %s}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
  tokens: {access_ttl: 15m, refresh_ttl: 24h}
`, q(s.Listen), q(s.Admin), q(s.Upstream), q(s.OpenAPI), q(s.SQLite))
}
