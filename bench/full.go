package main

import "fmt"

// fullConfig is the whole checklist on one route: helmet's headers (the
// default), CORS for one origin with credentials, CSRF origin checks (the
// default), a per-IP rate limit in memory that never triggers, session
// authentication, and an OpenAPI document whose path parameter is checked.
// %s is the store's extra settings.
const fullConfig = `env: development
listen: "{{listen}}"
upstream: "{{upstream}}"
admin: {listen: "off"}
store: {sqlite: "{{dir}}/{{scenario}}-{{tag}}.db"%s}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
cors: {origins: ["https://app.example"], credentials: true}
rate_limits: [{name: per-ip, key: ip, limit: 1000000, per: 1s}]
openapi: "{{repo}}/bench/testdata/items.openapi.yaml"
`

// fullScenario measures the full chain with sessions in the embedded
// SQLite store (the default) and, in the same rounds, in Redis (with the
// session cache).
func fullScenario() scenario {
	return scenario{
		name: "full",
		description: "The full chain: helmet headers, CORS (one origin, credentials), CSRF origin checks, a per-IP rate limit, " +
			"session authentication, an OpenAPI path parameter check; `GET /api/items/42` with a logged-in session. " +
			"`rampart` keeps sessions in the embedded SQLite store (the default) and rate-limit counters in memory; " +
			"`rampart, sessions in Redis` keeps both in a real redis-server, as store.redis does (sessions with the session cache, " +
			"one Redis round trip per request for the shared rate limit).",
		config:          fmt.Sprintf(fullConfig, ""),
		alt:             fmt.Sprintf(fullConfig, `, redis: "{{redis}}"`),
		altName:         "rampart, sessions in Redis",
		request:         request{method: "GET", path: "/api/items/42"},
		prepare:         startRedis,
		altNeedsPrepare: true,
		after:           addBenchUser,
		login:           sessionLogin,
		express:         true,
	}
}
