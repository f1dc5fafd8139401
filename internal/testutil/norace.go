//go:build !race

package testutil

// RaceEnabled reports whether the race detector is on; timing assertions
// loosen under it, since it slows code several times over.
const RaceEnabled = false
