package osv_test

import (
	"fmt"

	"github.com/rampartsec/rampart/audit/deps/osv"
)

func ExampleDB_Lookup() {
	db := osv.NewDB()
	v, err := osv.ParseRecord([]byte(`{
  "id": "GHSA-p6mc-m468-83gw",
  "aliases": ["CVE-2020-8203"],
  "affected": [{
    "package": {"ecosystem": "npm", "name": "lodash"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.7.0"}, {"fixed": "4.17.19"}]}]
  }]
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	db.Add(v)
	matches, err := db.Lookup("npm", "lodash", "4.17.15")
	for _, m := range matches {
		fmt.Println(m.Vuln.ID, m.Vuln.Aliases, "fixed in", m.Fixed)
	}
	fmt.Println(err)
	// Output:
	// GHSA-p6mc-m468-83gw [CVE-2020-8203] fixed in [4.17.19]
	// <nil>
}
