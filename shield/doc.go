// Package shield keeps an application's internals — stack traces, debug
// pages, SQL errors, source paths — from reaching the client, and sends the
// originals to the log with an incident id instead.
//
// The threat is information disclosure (OWASP A05, CWE-209): an error page
// that shows a stack trace tells an attacker the framework, its version, the
// file layout, the database and sometimes the query they are injecting into.
//
// A Shield wraps a handler — typically the reverse proxy — and decides when
// the handler writes its status:
//
//   - Statuses in Config.Statuses (default 5xx) are replaced by a neutral
//     problem response (problem.Write: HTML or application/problem+json by
//     Accept) with the same status and an incident id equal to the request
//     id. The original body is discarded except for a capped excerpt kept
//     for the log.
//   - Other 4xx and 5xx responses whose type is text, JSON, XML or missing are
//     held back while their first InspectBytes (64 KiB) are searched for leak
//     signatures; a match replaces the response, otherwise the held bytes
//     and the rest of the body stream on. Only the window is buffered,
//     never the whole body. gzip and deflate bodies are inflated for the
//     search; a body in an encoding that cannot be inflated is replaced.
//   - 1xx, 2xx and 3xx responses, and responses written with problem.Write
//     (rampart's own rejections, the gateway's 502 and 504), pass untouched
//     at the cost of one pooled wrapper.
//   - A panic in the handler becomes a neutral 500, or, when the status line
//     is already on the wire, an aborted connection.
//
// The original status, its headers and the body excerpt go to the log through
// a bounded queue served by one goroutine: a request never waits for the log,
// and incidents that do not fit are counted (Dropped, OnLogDropped). Before
// logging, Set-Cookie, Authorization and secret-looking headers are
// replaced, and secret-looking JSON fields, query parameters, bearer tokens,
// JWTs, URL passwords and private keys in the excerpt are redacted.
//
// # Security considerations
//
// Replacement fails closed: a response is held until the shield has decided,
// a flush while holding sends nothing, and an uninspectable encoding is
// replaced. Inspection is bounded by the window: a leak that starts after
// InspectBytes of an error body that is not in Statuses passes; add the
// status to Statuses to replace such bodies whatever they hold. Headers that
// the wrapped handler added are dropped from a replaced response; headers
// that outer middleware set before it ran (security headers, request id,
// CORS) are kept. The signatures are RE2 expressions (linear time) run only
// over the window of error responses.
//
// # Concurrency
//
// A Shield is safe for concurrent use. New starts one goroutine, which
// Close stops after logging what is queued.
//
// References: RFC 9457 (problem details), https://www.rfc-editor.org/rfc/rfc9457;
// OWASP Error Handling Cheat Sheet,
// https://cheatsheetseries.owasp.org/cheatsheets/Error_Handling_Cheat_Sheet.html;
// CWE-209, https://cwe.mitre.org/data/definitions/209.html.
//
// # In a stack
//
// Stacked by hand, this package is layer 3 of 9 from the outside in (see
// package stack and docs/go.md): inside headers and requestid, around
// everything else, so whatever the inner layers or the application answer
// with a 5xx is replaced. stack.Parts builds the order for you.
package shield
