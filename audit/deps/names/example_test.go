package names_test

import (
	"fmt"

	"github.com/rampartsec/rampart/audit/deps/names"
)

func ExampleChecker_Check() {
	for _, m := range names.NPM().Check("crossenv") {
		fmt.Println(m.Kind, m.Popular)
	}
	// Output: confusable-name cross-env
}
