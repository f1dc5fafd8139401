// Package auth establishes who a request comes from and enforces who may
// reach each route.
//
// This file holds the shared vocabulary: Identity, and how it travels in a
// request's context. The authentication methods — server-side sessions,
// access and refresh tokens, external identity providers — and the route
// rules build on it.
//
// # Security considerations
//
// An Identity is only ever created by Rampart after verifying a credential;
// nothing a client sends can place one in the context. Identity headers sent
// to the upstream are derived from it, and client-supplied copies of those
// headers are always removed first.
//
// # Concurrency
//
// Identity values are immutable once attached to a request and may be read
// from any goroutine.
package auth
