// Package pages renders the pages Rampart serves itself — the login page,
// the neutral error pages and the signed-out notice — with a small
// self-contained stylesheet, and lets operators brand them (title, logo,
// accent colour) or replace them with their own html/template files.
//
// The pages load nothing from elsewhere: the stylesheet is served from the
// site's own origin (StylesheetPath) and a logo file is inlined as a data:
// URI, so both Rampart presets' Content-Security-Policy allow them (style-src
// 'self', img-src 'self' data:) and no third party learns who visits.
// They carry no script.
//
// # Security considerations
//
// Templates are html/template: every value is escaped for its context.
// Operator templates are parsed and executed with sample data when New runs,
// so a broken one is a configuration error at start or reload, never a
// failure on the request path. Nothing request-controlled reaches a page
// except what the caller passes (a username the user typed, escaped).
//
// # Concurrency
//
// A Pages is immutable after New and safe for concurrent use.
package pages
