package gateway

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/rampartsec/rampart/bruteforce"
)

// LoginLocks is the answer of the admin listener's /login-locks endpoints:
// the login-protection locks and delays on one account.
type LoginLocks struct {
	User  string            `json:"user"`
	Locks []bruteforce.Lock `json:"locks"`
	// Unlocked is set by POST /login-locks/unlock.
	Unlocked bool   `json:"unlocked,omitempty"`
	Error    string `json:"error,omitempty"`
}

// mountLoginLocks serves, on the admin listener, GET /login-locks?user=NAME
// (the account's locks: account-wide, and per client address, until when)
// and POST /login-locks/unlock?user=NAME (lift every one of them). The
// counters live where the gateway keeps them — in this process's memory or
// in Redis — so `rampart users locks` and `users unlock` ask the running
// gateway. Both need the same authorisation as POST /reload: the locks name
// client addresses, and lifting them helps an attacker.
func (g *Gateway) mountLoginLocks(mux *http.ServeMux) {
	cop := http.NewCrossOriginProtection()
	handle := func(unlock bool) http.Handler {
		return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user := r.URL.Query().Get("user")
			if code, msg := g.authorizeAdmin(r); code != 0 {
				if code == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="rampart-admin"`)
				}
				writeLocks(w, code, LoginLocks{User: user, Error: msg})
				return
			}
			if user == "" || len(user) > 256 {
				writeLocks(w, http.StatusBadRequest, LoginLocks{Error: "name the account: ?user=NAME"})
				return
			}
			gen := g.acquire()
			defer gen.release()
			if unlock {
				if err := gen.logins.Unlock(r.Context(), user); err != nil {
					g.log.Error("lifting login locks failed", slog.String("error", err.Error()))
					writeLocks(w, http.StatusServiceUnavailable, LoginLocks{User: user, Error: "the login protection store is unavailable"})
					return
				}
				g.log.Info("login locks lifted by an administrator", slog.String("user", user))
			}
			locks, err := gen.logins.Locks(r.Context(), user)
			if err != nil {
				g.log.Error("listing login locks failed", slog.String("error", err.Error()))
				writeLocks(w, http.StatusServiceUnavailable, LoginLocks{User: user, Error: "the login protection store is unavailable"})
				return
			}
			writeLocks(w, http.StatusOK, LoginLocks{User: user, Locks: locks, Unlocked: unlock})
		}))
	}
	mux.Handle("GET /login-locks", handle(false))
	mux.Handle("POST /login-locks/unlock", handle(true))
}

func writeLocks(w http.ResponseWriter, code int, v LoginLocks) {
	if v.Locks == nil {
		v.Locks = []bruteforce.Lock{}
	}
	for i := range v.Locks {
		v.Locks[i].Until = v.Locks[i].Until.UTC().Truncate(time.Millisecond)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
