package gateway

import (
	"bufio"
	"net"
	"net/http"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/cors"
)

// exchange wraps the client's ResponseWriter for one request: it records the
// status, the bytes written and the policy that decided, for the access log
// and metrics.
type exchange struct {
	http.ResponseWriter
	status int
	bytes  int64
	policy string
	reason string
	route  string
	// cors is the CORS policy of the matched route, for Rampart's own
	// answers (see corsEdge); nil before a route matched or without one.
	cors     *cors.Policy
	upstream string
	hijacked bool
	// sentUpstream: the request was admitted to its upstream, so a client
	// that abandons it has cost the application work.
	sentUpstream bool
	// encodedDelimiter: the path holds an encoded '?' or '#', which only
	// routes with allow_encoded_delimiters serve.
	encodedDelimiter bool
	// pathParameter: the path holds a raw ';', which only the segments of
	// a route's matrix-style parameters may hold.
	pathParameter bool
	// slots, for a WebSocket handshake, are the in-flight slots the request
	// holds; they are given back when the connection is upgraded, since a
	// WebSocket lives as long as the application wants and is bounded by
	// the connection limits instead.
	slots *heldSlots
	// identity is who the request authenticated as, for its event.
	identity *auth.Identity
}

var _ http.ResponseWriter = (*exchange)(nil)

func (e *exchange) WriteHeader(code int) {
	if e.status == 0 && code >= 200 || code == http.StatusSwitchingProtocols {
		e.status = code
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *exchange) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	n, err := e.ResponseWriter.Write(b)
	e.bytes += int64(n)
	return n, err
}

// Flush lets handlers that type-assert http.Flusher stream through the
// exchange.
func (e *exchange) Flush() {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	_ = http.NewResponseController(e.ResponseWriter).Flush()
}

// Hijack supports WebSocket upgrades through the exchange.
func (e *exchange) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(e.ResponseWriter).Hijack()
	if err == nil {
		e.hijacked = true
		if e.slots != nil {
			e.slots.release()
		}
		if e.status == 0 {
			e.status = http.StatusSwitchingProtocols
		}
	}
	return c, rw, err
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (e *exchange) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// RecordReason implements problem.ReasonRecorder: the first reason given
// is the one logged.
func (e *exchange) RecordReason(reason string) {
	if e.reason == "" {
		e.reason = reason
	}
}

// RecordDecision implements problem.Recorder.
func (e *exchange) RecordDecision(policy string) {
	if e.policy == "" {
		e.policy = policy
	}
}

// exchangeOf finds the exchange under any number of wrapping writers.
func exchangeOf(w http.ResponseWriter) *exchange {
	for w != nil {
		if e, ok := w.(*exchange); ok {
			return e
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}
