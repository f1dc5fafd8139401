// Package problem writes Rampart's one neutral error response, shared by every
// policy, so that every "no" looks the same and none of them leaks anything.
//
// A rejection is an RFC 9457 problem: `application/problem+json` for API
// clients, or a small HTML page for browsers, chosen by the Accept header.
// Both carry the status, a generic title and an incident id equal to the
// request id (see package requestid); the details stay in the log.
//
// # Security considerations
//
// Nothing request-controlled is reflected except what a caller puts in
// Detail or Errors, which callers keep short and generic; every string is
// escaped for its format. Responses are marked no-store and nosniff. Which
// policy decided is recorded for logs and metrics through the Recorder
// interface and never sent to the client.
//
// # Concurrency
//
// Write is safe for concurrent use.
//
// Specification: RFC 9457, https://www.rfc-editor.org/rfc/rfc9457
package problem
