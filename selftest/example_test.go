package selftest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/selftest"
)

// A configuration that lets any origin read its responses fails the
// cors-origin class, and the report names the checklist rule that fixes it.
func Example() {
	dir, _ := os.MkdirTemp("", "selftest-example-")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "rampart.yaml")
	_ = os.WriteFile(file, []byte(`env: development
upstream: http://127.0.0.1:9
cors: {origins: ["*"]}
routes:
  - match: "GET /api/{path...}"
`), 0o600)
	c, errs := config.Read(file)
	if len(errs) > 0 {
		fmt.Println(errs)
		return
	}
	rep, err := selftest.Run(context.Background(), c, selftest.Options{Classes: []string{"cors-origin"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	f := rep.Classes[0].Failures[0]
	fmt.Println(rep.Failed > 0, f.Class, f.Fix.Rules[0])
	// Output: true cors-origin cors-any-origin
}
