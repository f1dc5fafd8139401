// Package requestid gives every request an identifier that ties together the
// client's view, the upstream's view and Rampart's logs.
//
// The identifier is sent to the upstream in the X-Request-Id header, returned
// to the client in the same header, and used as the incident id on every
// neutral error page: a user can quote it, and an operator can find the full
// story in the log without the client ever seeing internals.
//
// # Security considerations
//
// A client-supplied X-Request-Id is replaced unless Config.Trust says the
// request came through a trusted proxy, and even then it is kept only if it
// is short and made of safe characters, so an attacker cannot inject text
// into logs or forge another request's incident id. Generated ids are 128
// random bits, so they cannot be guessed.
//
// # Concurrency
//
// A Handler is safe for concurrent use.
//
// # In a stack
//
// Stacked by hand, this package is layer 1 of 9 from the outside in (see
// package stack and docs/go.md): outermost: every answer, refusals included,
// carries the incident id. stack.Parts builds the order for you.
package requestid
