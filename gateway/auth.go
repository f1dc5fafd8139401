package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/issuer"
	"github.com/rampartsec/rampart/auth/login"
	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/pages"
)

// authn is everything authentication needs in one generation: the
// configured methods and the endpoints they serve.
type authn struct {
	enabled  bool
	users    users.Store
	sessions *session.Manager
	login    *login.Service
	tokens   *token.Manager
	issuers  *issuer.Set
	oidc     *issuer.Login
	// methods are tried in order: session cookie, Rampart's bearer
	// tokens, external issuers' bearer tokens.
	methods []auth.Authenticator
}

// buildAuth builds the authentication methods c configures.
func (g *Gateway) buildAuth(ctx context.Context, c *config.Config, l *lease, ips *clientip.Resolver, logins *bruteforce.Protector, pg *pages.Pages, recordKey []byte, ns string) (*authn, error) {
	a := &authn{enabled: c.Auth.Enabled()}
	if !a.enabled {
		return a, nil
	}
	var errs []error
	dev := c.Env == config.Development
	needUsers := c.Auth.Sessions != nil || c.Auth.Tokens != nil
	// pending is the database when it did not answer: its stores fail
	// closed until it does, and the rest of the gateway serves.
	var pending *pendingSQL
	if needUsers {
		pending = g.pendingFor(c)
		if pending == nil {
			db, err := l.sql(ctx, c)
			var down *storeDownError
			if errors.As(err, &down) && !g.stores.dry {
				pending = g.pendingDB(c, ns, err)
			} else if err != nil {
				return nil, err
			} else if a.users, err = l.users(ctx, c, db); err != nil {
				return nil, err
			}
		}
		if pending != nil {
			a.users = pending.users()
		}
	}
	if sc := c.Auth.Sessions; sc != nil {
		var st session.Store
		var err error
		if pending != nil && c.Store.Redis == "" {
			st = pending.sessions()
		} else if st, err = l.sessions(ctx, c, ns); err != nil {
			return nil, err
		}
		cfg := *sc
		cfg.RecordKey, cfg.Deployment = recordKey, ns
		cfg.Logger = g.log
		cfg.OnEvent = g.metrics.sessionEvent
		if dev && !cfg.UnsafeInsecureCookie {
			// A login that works in development over plain HTTP on any
			// host name, with no setting: requests over plain HTTP get a
			// cookie without Secure, HTTPS ones keep the __Host- cookie.
			cfg.UnsafePlainHTTP = plainHTTP(ips)
		}
		if a.sessions, err = session.New(st, cfg); err != nil {
			// Collected, not returned: the other methods' mistakes are
			// reported in the same run.
			errs = append(errs, c.Errorf("auth.sessions", "%v", err))
		} else {
			a.methods = append(a.methods, a.sessions)
		}
	}
	if needUsers {
		hasher, err := g.stores.hasher(c.Auth.Passwords.Hash)
		if err != nil {
			errs = append(errs, c.Errorf("auth.passwords.hash", "%v", err))
			hasher, _ = g.stores.hasher(password.Params{})
		}
		lc := c.Auth.Login
		lc.Users, lc.Sessions, lc.Hasher = a.users, a.sessions, hasher
		lc.Protection = loginProtection{logins}
		lc.Pages = pg
		if c.CORS != nil {
			// A single-page app on an origin the CORS policy allows may
			// sign in from there. A policy that does not build is
			// reported once, under cors, and lends no origin.
			if _, err := cors.New(*c.CORS); err == nil {
				lc.TrustedOrigins = c.CORS.Origins
			}
		}
		lc.ClientIP = ips
		lc.Logger = g.log
		lc.OnAttempt = g.metrics.loginAttempt
		if a.login, err = login.New(lc); err != nil {
			errs = append(errs, c.Errorf("auth.login", "%v", err))
		}
	}
	if tc := c.Auth.Tokens; tc != nil {
		var st token.Store
		var err error
		if pending != nil && c.Store.Redis == "" {
			st = pending.tokens()
		} else if st, err = l.tokens(ctx, c, ns); err != nil {
			return nil, err
		}
		cfg := *tc
		cfg.SigningKey = c.RelativePath(cfg.SigningKey)
		for i, k := range cfg.VerificationKeys {
			cfg.VerificationKeys[i] = c.RelativePath(k)
		}
		cfg.Store = st
		cfg.RecordKey, cfg.Deployment = recordKey, ns
		cfg.Passwords = tokenPasswords{svc: a.login, users: a.users}
		cfg.ClientIP = ips
		// In development a missing signing key is replaced by an ephemeral
		// one (with a warning); production refuses to start without one.
		cfg.InsecureEphemeralKey = dev && cfg.SigningKey == ""
		cfg.Logger = g.log
		cfg.OnDecision = g.metrics.authDecision("token")
		if a.tokens, err = token.New(cfg); err != nil {
			errs = append(errs, c.Errorf("auth.tokens", "%v", err))
		} else {
			a.methods = append(a.methods, a.tokens)
		}
	}
	if len(c.Auth.Issuers) > 0 {
		var vs []*issuer.Verifier
		for i, ic := range c.Auth.Issuers {
			key := fmt.Sprintf("auth.issuers[%d]", i)
			cfg := ic
			cfg.PublicKey = c.RelativePath(cfg.PublicKey)
			cfg.Logger = g.log
			cfg.OnDecision = g.metrics.authDecision("issuer")
			if cfg.Login != nil {
				login := *cfg.Login
				login.ClientSecretFile = c.RelativePath(login.ClientSecretFile)
				login.Complete = a.completeOIDC
				cfg.Login = &login
			}
			v, err := issuer.New(cfg)
			if err != nil {
				errs = append(errs, c.Errorf(key, "%v", err))
				continue
			}
			if v.Login() != nil {
				if a.oidc != nil {
					errs = append(errs, c.Errorf(key+".login", "only one issuer may have a login block"))
					continue
				}
				if c.Auth.Sessions == nil {
					errs = append(errs, c.Errorf(key+".login", "OIDC login starts a session: configure auth.sessions too"))
					continue
				}
				a.oidc = v.Login()
			}
			vs = append(vs, v)
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		set, err := issuer.NewSet(vs...)
		if err != nil {
			return nil, c.Errorf("auth.issuers", "%v", err)
		}
		a.issuers = set
		a.methods = append(a.methods, set)
		// Fetch the providers' keys now, so the first requests do not wait
		// (not when only checking the configuration: Check touches no
		// network).
		for _, v := range vs {
			if g.stores.dry {
				break
			}
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := v.Refresh(ctx); err != nil {
					g.log.Warn("fetching an issuer's keys at start failed; will retry on demand", "issuer", v.Issuer(), "error", err.Error())
				}
			}()
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return a, nil
}

// completeOIDC starts a session for an identity an OIDC provider vouched
// for, then sends the browser on.
func (a *authn) completeOIDC(w http.ResponseWriter, r *http.Request, id *auth.Identity, next string) {
	if _, err := a.sessions.LoginIdentity(w, r, id); err != nil {
		http.Error(w, "login failed", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// authenticators are what route rules consult: nothing when no method is
// configured, else the answer identify found.
func (a *authn) authenticators() []auth.Authenticator {
	if !a.enabled {
		return nil
	}
	return []auth.Authenticator{a.cached()}
}

// loginURL is where unauthenticated browsers are sent: the login page when
// sessions are on.
func (a *authn) loginURL() string {
	if a.sessions == nil || a.login == nil {
		return ""
	}
	return a.login.LoginPath()
}

// identifiedKey carries the result of identify in a request's context.
type identifiedKey struct{}

type identified struct {
	id  *auth.Identity
	err error
	// from is the method that answered (found an identity or failed), nil
	// when no method found a credential.
	from auth.Authenticator
}

// identify runs the authentication methods once, early in a route's chain,
// so that rate limits keyed by user and the route's auth rule share one
// answer. It refuses nothing: the auth rule decides later.
func (a *authn) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := &identified{}
		for _, m := range a.methods {
			res.id, res.err = m.Authenticate(r)
			if res.err != nil || res.id != nil {
				res.from = m
				break
			}
		}
		if e := exchangeOf(w); e != nil && res.id != nil {
			e.identity = res.id // for the request's event
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identifiedKey{}, res)))
	})
}

// cached is the route rules' authenticator: the answer identify found.
func (a *authn) cached() auth.Authenticator {
	return auth.AuthenticatorFunc(func(r *http.Request) (*auth.Identity, error) {
		if res, ok := r.Context().Value(identifiedKey{}).(*identified); ok {
			return res.id, res.err
		}
		for _, m := range a.methods {
			id, err := m.Authenticate(r)
			if err != nil || id != nil {
				return id, err
			}
		}
		return nil, nil
	})
}

// userOf is the rate limits' user key: the identity identify found, or ""
// for an anonymous request (which the limiter then counts by IP).
func userOf(r *http.Request) string {
	if res, ok := r.Context().Value(identifiedKey{}).(*identified); ok && res.id != nil {
		return res.id.Principal()
	}
	return ""
}

// sessionID binds CSRF tokens to the session cookie: the session's
// storage key, never the secret id itself.
func (a *authn) sessionID(r *http.Request) (string, bool) {
	if a.sessions == nil {
		return "", false
	}
	ck, err := r.Cookie(a.sessions.CookieNameFor(r))
	if err != nil {
		return "", false
	}
	key, ok := session.ParseID(ck.Value)
	if !ok {
		return "", false
	}
	return key.String(), true
}

// loginProtection adapts brute-force protection to the login flows.
type loginProtection struct{ p *bruteforce.Protector }

func (lp loginProtection) Check(ctx context.Context, account string, ip netip.Addr) (bool, time.Duration, error) {
	err := lp.p.Check(ctx, account, ip)
	var locked *bruteforce.LockedError
	switch {
	case err == nil:
		return true, 0, nil
	case errors.As(err, &locked):
		return false, locked.RetryAfter, nil
	}
	return false, 0, err
}

func (lp loginProtection) Fail(ctx context.Context, account string, ip netip.Addr) error {
	lp.p.Fail(ctx, account, ip)
	return nil
}

func (lp loginProtection) Succeed(ctx context.Context, account string, ip netip.Addr) error {
	return lp.p.Succeed(ctx, account, ip)
}

func (lp loginProtection) Cancel(ctx context.Context, account string, ip netip.Addr) error {
	return lp.p.Cancel(ctx, account, ip)
}

// tokenPasswords adapts the login service to the token endpoint's password
// grant, and reloads identities at each refresh so that a locked user's
// tokens die at the next refresh.
type tokenPasswords struct {
	svc   *login.Service
	users users.Store
}

// retryAfter carries a throttled login's delay to the token endpoint.
type retryAfter struct {
	error
	d time.Duration
}

func (e retryAfter) RetryAfter() time.Duration { return e.d }

func (tp tokenPasswords) VerifyPassword(ctx context.Context, username, pw, clientIP string) (*auth.Identity, error) {
	ip, _ := netip.ParseAddr(clientIP)
	id, err := tp.svc.VerifyPassword(ctx, username, pw, ip)
	var throttled *login.ThrottledError
	switch {
	case err == nil:
		return id, nil
	case errors.As(err, &throttled):
		return nil, retryAfter{err, throttled.RetryAfter}
	case errors.Is(err, login.ErrInvalidCredentials):
		return nil, fmt.Errorf("%w: %v", token.ErrInvalidCredentials, err)
	case errors.Is(err, login.ErrUnavailable):
		return nil, fmt.Errorf("%w: %w", token.ErrUnavailable, err)
	}
	return nil, err
}

func (tp tokenPasswords) LoadIdentity(ctx context.Context, subject string) (*auth.Identity, error) {
	u, err := tp.users.Lookup(ctx, subject)
	if errors.Is(err, users.ErrNotFound) {
		return nil, token.ErrInvalidCredentials
	}
	if err != nil {
		// The user store failed: the refresh is refused, and the token
		// kept for the client's retry.
		return nil, fmt.Errorf("%w: %w", token.ErrUnavailable, err)
	}
	if u.Locked {
		return nil, token.ErrInvalidCredentials
	}
	return &auth.Identity{Subject: u.Name, Roles: u.Roles, Method: "token"}, nil
}
