// Package redisfanout shares security events between gateway instances over
// Redis pub/sub, so that any instance can show the whole fleet's events.
//
// Every instance publishes the events it records on one channel and
// subscribes to it; an instance ignores its own messages (it recorded them
// already). Publishing goes through a bounded queue and one goroutine, so
// a slow or unreachable Redis never slows a request: when the queue is
// full, events are dropped and counted. The subscription reconnects by
// itself (go-redis) after Redis restarts; events published meanwhile are
// lost, as pub/sub does not keep messages.
//
// # Security considerations
//
// Whoever can publish on the channel can add events to every instance's
// view: the channel lives in the deployment's Redis, behind its password,
// under store.namespace. Received messages are bounded in size and their
// strings cut to events.MaxFieldLen; a malformed message is ignored.
//
// # Concurrency
//
// A Fanout is safe for concurrent use. New starts two goroutines; Close
// stops them.
package redisfanout
