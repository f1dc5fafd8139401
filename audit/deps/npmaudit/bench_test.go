package npmaudit_test

import (
	"testing"

	"github.com/rampartsec/rampart/audit/deps/npmaudit"
)

func BenchmarkAffecting(b *testing.B) {
	advs := []npmaudit.Advisory{
		{ID: "755", Severity: "critical", VulnerableVersions: "<=4.0.13 || >=4.1.0 <4.1.2"},
		{ID: "1164", Severity: "high", VulnerableVersions: "<3.0.8 || >=4.0.0 <4.3.0"},
		{ID: "1300", Severity: "moderate", VulnerableVersions: ">=4.0.0 <4.4.5"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if found, _ := npmaudit.Affecting(advs, "4.0.11"); len(found) != 3 {
			b.Fatalf("got %d, want 3", len(found))
		}
	}
}
