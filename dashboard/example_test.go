package dashboard_test

import (
	"net/http"

	"github.com/rampartsec/rampart/dashboard"
)

// The dashboard is the catch-all of an admin mux: it answers GET / and its
// assets, 404 for any other path and 405 for any other method. It is
// mounted at "/" without a method, which no other pattern (such as
// "/debug/pprof/") conflicts with. The page reads /stats, /events,
// /events/stream and /login-locks from the same origin.
func ExampleHandler() {
	mux := http.NewServeMux()
	mux.Handle("/", dashboard.Handler())
	// mux.Handle("GET /stats", …) and the rest of the admin API.
	_ = http.ListenAndServe("127.0.0.1:9090", mux)
}
