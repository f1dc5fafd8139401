// Package events records what a security gateway refused, and why, as one
// structured event model, and keeps, counts and forwards those events.
//
// An operator asks "what was blocked in the last hour, from where, and
// why?". An Event answers it for one request: when, the request id (the
// incident id the client was shown), the policy and rule that decided, the
// status, the route pattern, the client address and the network it belongs
// to, the user when known, a short reason and a few policy-specific fields.
// A Ring keeps the last N events for queries and live streams, Stats counts
// requests and refusals over time, and a Webhook forwards events to another
// system in batches. Sinks receive events through the Sink interface, so
// a program can add its own.
//
// # Security considerations
//
// Events are read by operators and sent to other systems, so they never
// carry a secret: no cookie, token, password, authorization header, body or
// query string. Callers build events from labels (policy, route pattern,
// reason) and from the client address, never from request content; Scrub
// removes query strings and fragments from any URL-like field value and
// bounds every string, so a field taken from a request header (an Origin)
// cannot smuggle one in or grow an event without bound.
//
// Emitting must never slow or block the request that caused it: Ring.Add
// and Stats are short critical sections, and a Webhook's Emit only queues;
// a full queue drops the event and counts the drop.
//
// # Concurrency
//
// Ring, Stats and Webhook are safe for concurrent use. Webhook starts one
// goroutine in NewWebhook, stopped by Close.
package events
