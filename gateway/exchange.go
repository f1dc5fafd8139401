package gateway

import (
	"bufio"
	"net"
	"net/http"
)

// exchange wraps the client's ResponseWriter for one request: it records the
// status, the bytes written and the policy that decided, for the access log
// and metrics.
type exchange struct {
	http.ResponseWriter
	status   int
	bytes    int64
	policy   string
	reason   string
	route    string
	upstream string
	hijacked bool
	// encodedDelimiter: the path holds an encoded '?' or '#', which only
	// routes with allow_encoded_delimiters serve.
	encodedDelimiter bool
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
		if e.status == 0 {
			e.status = http.StatusSwitchingProtocols
		}
	}
	return c, rw, err
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (e *exchange) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// RecordDecision implements problem.Recorder.
// RecordReason implements problem.ReasonRecorder: the first reason given
// is the one logged.
func (e *exchange) RecordReason(reason string) {
	if e.reason == "" {
		e.reason = reason
	}
}

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
