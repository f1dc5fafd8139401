package capability_test

import (
	"fmt"

	"github.com/rampartsec/rampart/audit/deps/capability"
)

func ExampleAnalyze() {
	src := "const https = require('https')\n\neval(atob(payload))\n"
	for _, f := range capability.Analyze([]byte(src), capability.Limits{}).Findings {
		fmt.Printf("%d %s: %s\n", f.Line, f.Kind, f.Detail)
	}
	// Output:
	// 1 network: requires https
	// 3 dynamic-code: calls eval
	// 3 obfuscated: eval runs a payload decoded with atob
}
