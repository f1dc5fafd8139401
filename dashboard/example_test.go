package dashboard_test

import (
	"net/http"

	"github.com/rampartsec/rampart/dashboard"
)

// The dashboard is the catch-all of an admin mux: it answers GET / and its
// assets, and 404 for anything else. The page reads /stats, /events,
// /events/stream and /login-locks from the same origin.
func ExampleHandler() {
	mux := http.NewServeMux()
	mux.Handle("GET /", dashboard.Handler())
	// mux.Handle("GET /stats", …) and the rest of the admin API.
	_ = http.ListenAndServe("127.0.0.1:9090", mux)
}
