// Package config reads Rampart's YAML configuration strictly and validates it.
//
// A configuration mistake in a security gateway is a security bug: a
// misspelt key that is silently ignored leaves a protection off. So decoding
// is strict — an unknown key, a duplicate key, a wrong type, a bad duration,
// size, URL or CIDR, or a missing required value is an error — and every
// error names the file, the line and the key. All errors are reported at
// once, so one run shows everything to fix.
//
// Values follow a few conventions shared by every section:
//
//   - durations take Go's units plus days: 30s, 15m, 12h, 365d;
//   - keys ending in _bytes take a size: 512, 32KiB, 10MiB (or KB/MB, powers
//     of 1000);
//   - CIDR lists accept single addresses as /32 or /128, and refuse prefixes
//     with host bits set;
//   - booleans are true or false only (no yes/no/on/off).
//
// Each policy package owns the Config struct for its section; this package
// nests them, so library users and gateway users share one schema.
//
// # Security considerations
//
// Defaults are the safe settings: production mode, no trusted proxies,
// bounded sizes and timeouts, admin listener on loopback. Parse never panics
// on any input and caps the file size it accepts.
//
// # Concurrency
//
// A Config is not modified after Parse or Validate returns and may be read
// from many goroutines.
package config
