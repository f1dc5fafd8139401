package osv_test

import (
	"testing"

	"github.com/rampartsec/rampart/audit/deps/osv"
)

func FuzzRecordLookup(f *testing.F) {
	f.Add([]byte(`{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]}`), "a", "1.1.0")
	f.Add([]byte(`{"id":"G","affected":[{"package":{"ecosystem":"Go","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"2"}]}],"versions":["v1"]}]}`), "a", "1.21rc1")
	f.Fuzz(func(t *testing.T, data []byte, name, version string) {
		v, err := osv.ParseRecord(data)
		if err != nil {
			return
		}
		db := osv.NewDB()
		db.Add(v)
		osv.SeverityOf(v)
		for _, eco := range []string{"npm", "Go"} {
			ms, err := db.Lookup(eco, name, version)
			if err != nil && len(ms) > 0 {
				t.Fatalf("got matches and error %v", err)
			}
		}
	})
}
