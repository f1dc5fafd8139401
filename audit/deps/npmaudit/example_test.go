package npmaudit_test

import (
	"fmt"

	"github.com/rampartsec/rampart/audit/deps/npmaudit"
)

func ExampleAffecting() {
	advs := []npmaudit.Advisory{{ID: "1179", Title: "Prototype Pollution", Severity: "low", VulnerableVersions: "<0.2.1 || >=1.0.0 <1.2.3"}}
	for _, v := range []string{"0.0.8", "1.2.3-rc.1", "1.2.3"} {
		found, bad := npmaudit.Affecting(advs, v)
		fmt.Println(v, len(found), bad == "")
	}
	// Output:
	// 0.0.8 1 true
	// 1.2.3-rc.1 1 true
	// 1.2.3 0 true
}
