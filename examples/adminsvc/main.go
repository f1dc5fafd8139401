// Command adminsvc is an internal admin service behind IP allow-lists,
// served in-process behind the Rampart chain: only the office network
// reaches it at all, only the operators' subnet reaches the dangerous
// routes, the load balancer's health check has a route of its own, and the
// client address is read from X-Forwarded-For only when the load balancer
// sent it.
//
//	go run ./examples/adminsvc
package main

import (
	"fmt"
	"log"
	"net/http"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
)

const configYAML = `env: development
trusted_proxies: [10.0.0.2/32]    # the load balancer
allow:
  ips: [10.0.0.0/8, 127.0.0.0/8]  # the office network and this machine
routes:
  - match: "GET /healthz"
    auth: none
    allow_ips: [10.0.0.2/32, 127.0.0.0/8]
  - match: "GET /stats"
    auth: none
  - match: "POST /cache/purge"
    auth: none
    csrf: "off"                   # called by scripts, not browsers
    allow_ips: [10.20.0.0/16, 127.0.0.0/8]   # the operators only
`

func app() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "requests served: 42 (asked by %s)\n", r.Header.Get("X-Real-Ip"))
	})
	mux.HandleFunc("POST /cache/purge", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "purged") })
	return mux
}

func newGateway() (*gateway.Gateway, error) {
	cfg, err := config.Parse("adminsvc.yaml", []byte(configYAML))
	if err != nil {
		return nil, err
	}
	return gateway.New(cfg, gateway.Options{App: app()})
}

func main() {
	gw, err := newGateway()
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()
	fmt.Println("listening on http://localhost:8083")
	log.Fatal(http.ListenAndServe("localhost:8083", gw))
}
