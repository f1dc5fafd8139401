package checklist_test

import (
	"os"

	"github.com/rampartsec/rampart/audit/checklist"
	"github.com/rampartsec/rampart/config"
)

func ExampleRun() {
	c, err := config.Parse("rampart.yaml", []byte(`env: production
upstream: http://127.0.0.1:3000
trusted_proxies: [0.0.0.0/0]
routes: [{match: "GET /{$}"}]
allow: {hosts: [app.example.com]}
rate_limits: [{key: ip, limit: 100, per: 1m}]
`))
	if err != nil {
		panic(err)
	}
	_ = checklist.WriteTable(os.Stdout, checklist.Run(c))
	// Output:
	// 10. Allow-lists of URLs and IPs
	//   CRITICAL  trusted-proxies-everything  rampart.yaml:3: trusted_proxies[0] (0.0.0.0/0)
	//             trusted_proxies trusts every address
	//             fix: list only the CIDRs of the load balancers in front of Rampart
	//
	// 1 finding: 1 critical, 0 high, 0 moderate, 0 low
}
