package events

import "time"

// SetBackoff shortens the first retry delay of w, for tests. Call it before
// the first Emit.
func SetBackoff(w *Webhook, d time.Duration) { w.backoff = d }
