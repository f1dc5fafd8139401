package npmsemver_test

import (
	"fmt"

	"github.com/rampartsec/rampart/audit/deps/npmsemver"
)

func ExampleSatisfies() {
	// npm audit's options: a prerelease of a vulnerable line is vulnerable.
	for _, v := range []string{"4.0.13", "4.1.1-beta.2", "4.1.2"} {
		ok, err := npmsemver.Satisfies(v, "<=4.0.13 || >=4.1.0 <4.1.2", npmsemver.NPMAudit)
		fmt.Println(v, ok, err)
	}
	// Output:
	// 4.0.13 true <nil>
	// 4.1.1-beta.2 true <nil>
	// 4.1.2 false <nil>
}
