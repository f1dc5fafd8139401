package ignore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/ignore"
)

func BenchmarkMatch(b *testing.B) {
	var s strings.Builder
	s.WriteString("ignore:\n")
	for i := range 100 {
		fmt.Fprintf(&s, "  - id: GHSA-%d\n    reason: r\n    until: 2027-01-01\n", i)
	}
	l, err := ignore.Parse("x.yaml", []byte(s.String()), now)
	if err != nil {
		b.Fatal(err)
	}
	ids := []string{"GHSA-none", "CVE-2020-1"}
	b.ReportAllocs()
	for b.Loop() {
		if l.Match("p", ids, now) != nil {
			b.Fatal("got a match, want none")
		}
	}
}
