package capability_test

import (
	"testing"

	"github.com/rampartsec/rampart/audit/deps/capability"
)

func FuzzAnalyze(f *testing.F) {
	f.Add([]byte("const cp = require('child_process'); cp.exec(process.env.X)"))
	f.Add([]byte("eval(atob('aGVsbG8='))\nimport('x')\nexport * from 'fs'"))
	f.Add([]byte("a = /re'gex/g; b = `t${eval(c)}`"))
	f.Fuzz(func(t *testing.T, src []byte) {
		r := capability.Analyze(src, capability.Limits{MaxSize: 1 << 16})
		lines := 1
		for _, c := range src {
			if c == '\n' {
				lines++
			}
		}
		for _, fd := range r.Findings {
			if fd.Line < 1 || fd.Line > lines {
				t.Fatalf("got line %d, want 1..%d", fd.Line, lines)
			}
		}
	})
}
