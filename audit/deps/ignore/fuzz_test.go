package ignore_test

import (
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/deps/ignore"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte("ignore:\n  - id: GHSA-1\n    reason: x\n    until: 2027-01-01\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ignore.Parse("f.yaml", data, now)
		if err != nil {
			return
		}
		for _, e := range l.Entries {
			if e.ID == "" || e.Reason == "" || e.Until.IsZero() || e.Until.Sub(now) > ignore.MaxDuration {
				t.Fatalf("got an invalid entry accepted: %+v", e)
			}
		}
		l.Match("p", []string{"GHSA-1"}, time.Now())
	})
}
