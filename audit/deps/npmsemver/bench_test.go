package npmsemver_test

import (
	"testing"

	"github.com/rampartsec/rampart/audit/deps/npmsemver"
)

func BenchmarkParseRange(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := npmsemver.ParseRange("<=4.0.13 || >=4.1.0 <4.1.2", npmsemver.NPMAudit); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkContains(b *testing.B) {
	r, err := npmsemver.ParseRange("<=4.0.13 || >=4.1.0 <4.1.2", npmsemver.NPMAudit)
	if err != nil {
		b.Fatal(err)
	}
	v, err := npmsemver.ParseVersion("4.1.1", npmsemver.NPMAudit)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !r.Contains(v) {
			b.Fatal("got false, want true")
		}
	}
}
