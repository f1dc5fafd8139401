package osv_test

import (
	"fmt"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/osv"
)

func BenchmarkLookup(b *testing.B) {
	db := osv.NewDB()
	for i := range 50 {
		v, err := osv.ParseRecord(fmt.Appendf(nil, `{"id":"R-%d","affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"%d.0.0"},{"fixed":"%d.5.0"}]}]}]}`, i, i, i))
		if err != nil {
			b.Fatal(err)
		}
		db.Add(v)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Lookup("npm", "lodash", "7.1.0"); err != nil {
			b.Fatal(err)
		}
	}
}
