// Package stack puts Rampart's middleware in the right order around a Go
// handler, so a program that uses the packages on their own — without the
// whole gateway — gets the order the gateway uses without having to know
// it.
//
// From the outside in:
//
//  1. request id: every answer, refusals included, carries the incident id
//     that the logs use;
//  2. security headers: on every answer, Rampart's own refusals included;
//  3. the error shield: whatever the inner layers or the application
//     answer with a 5xx is replaced by a neutral page, the original logged
//     under the incident id;
//  4. IP and URL allow-lists: a refused client costs nothing further;
//  5. CORS: a preflight is answered before anything asks for credentials
//     (a browser never sends them on one), and refusals below still carry
//     the CORS headers a page needs to read them;
//  6. rate limits: counted before the expensive work (a session lookup, a
//     token check, a body parse);
//  7. authentication and route rules: who is asking, and may they;
//  8. CSRF: needs to know whether the request is a browser's, and is
//     checked only for requests that would otherwise be served;
//  9. request validation: the body is read and checked last, just before
//     the application, so nothing above pays for parsing a request that
//     would be refused anyway.
//
// Parts left nil are skipped. The client address every part uses comes
// from the clientip.Resolver given to each part's own configuration: build
// one and pass it to all of them.
//
// The gateway (package gateway, with gateway.Options.App for an
// in-process handler) does all of this from one configuration file, with
// routes, reloads and metrics; stack is for programs that assemble the
// parts themselves.
package stack

import (
	"net/http"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/requestid"
	"github.com/rampartsec/rampart/shield"
	"github.com/rampartsec/rampart/validate"
)

// Parts are the middleware of a stack; nil parts are skipped.
type Parts struct {
	// RequestID assigns the request id. Nil: a default requestid.Config
	// (ids are always assigned: every other part logs with them).
	RequestID *requestid.Config
	Headers   *headers.Policy
	Shield    *shield.Policy
	Access    *access.Policy
	CORS      *cors.Policy
	RateLimit *ratelimit.Policy
	Auth      *auth.Policy
	CSRF      *csrf.Policy
	Validate  *validate.Policy
}

// middleware is what every part is.
type middleware interface {
	Handler(http.Handler) http.Handler
}

// Handler returns app wrapped by the parts in the order of the package
// documentation.
func (p Parts) Handler(app http.Handler) http.Handler {
	ids := requestid.Config{}
	if p.RequestID != nil {
		ids = *p.RequestID
	}
	// Innermost first.
	layers := []middleware{}
	if p.Validate != nil {
		layers = append(layers, p.Validate)
	}
	if p.CSRF != nil {
		layers = append(layers, p.CSRF)
	}
	if p.Auth != nil {
		layers = append(layers, p.Auth)
	}
	if p.RateLimit != nil {
		layers = append(layers, p.RateLimit)
	}
	if p.CORS != nil {
		layers = append(layers, p.CORS)
	}
	if p.Access != nil {
		layers = append(layers, p.Access)
	}
	if p.Shield != nil {
		layers = append(layers, p.Shield)
	}
	if p.Headers != nil {
		layers = append(layers, p.Headers)
	}
	layers = append(layers, ids)
	h := app
	for _, l := range layers {
		h = l.Handler(h)
	}
	return h
}
