package ignore_test

import (
	"fmt"
	"time"

	"github.com/rampartsec/rampart/audit/deps/ignore"
)

func ExampleParse() {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	_, err := ignore.Parse("rampart-audit.yaml", []byte("ignore:\n  - id: GHSA-p6mc-m468-83gw\n    reason: not reachable\n"), now)
	fmt.Println(err)
	// Output:
	// ignore: rampart-audit.yaml:2: GHSA-p6mc-m468-83gw: until is required: an ignore must expire
}
