package selftest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/html"

	"github.com/rampartsec/rampart/audit/severity"
	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/sqldb"
	"github.com/rampartsec/rampart/ratelimit"
)

// Options tune a run. The zero value runs the built-in corpus.
type Options struct {
	// Corpus is the attack corpus. Nil: Builtin.
	Corpus *Corpus
	// Classes, when not empty, keeps only these classes.
	Classes []string
	// Timeout bounds each request. Default 5s.
	Timeout time.Duration
	// Now is the clock for forged tokens. Nil: time.Now.
	Now func() time.Time
}

// ConfigError is returned when the configuration would not start: the
// same verdict `rampart serve` and `rampart audit config` give.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Run builds the gateway c describes, as `rampart serve` would, behind a
// recording upstream on loopback, and runs every case of the corpus that
// applies to c against it. Stores are replaced by embedded ones in a
// temporary directory, secrets that cannot be read by throw-away ones, and
// each issuer's keys by keys the selftest holds (so that it can sign what
// the provider would sign); the report lists each replacement. Nothing
// leaves the machine. Run changes c.
func Run(ctx context.Context, c *config.Config, opt Options) (*Report, error) {
	start := time.Now()
	corpus, err := selectCorpus(opt)
	if err != nil {
		return nil, err
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	dir, err := os.MkdirTemp("", "rampart-selftest-")
	if err != nil {
		return nil, fmt.Errorf("selftest: %w", err)
	}
	defer os.RemoveAll(dir)
	si := &standIns{dir: dir}
	if err := standInSecrets(c, si); err != nil {
		return nil, err
	}
	if err := gateway.Check(c); err != nil {
		return nil, &ConfigError{Err: err}
	}
	routesList, err := routes(c)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}

	rec, err := newRecorder()
	if err != nil {
		return nil, err
	}
	defer rec.close()
	keys, err := newKeyring()
	if err != nil {
		return nil, err
	}
	defer keys.close()
	if err := swapOutside(c, si, rec, keys); err != nil {
		return nil, err
	}
	user, err := seedUser(ctx, c, routesList)
	if err != nil {
		return nil, err
	}
	g, err := gateway.New(c, gateway.Options{Logger: discard, ProbeInterval: time.Hour})
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	defer g.Close()
	ln, err := newAddrListener()
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- g.Serve(sctx, ln, nil) }()
	defer func() {
		stop()
		<-served
	}()
	cl := &client{addr: ln.Addr().String(), rec: rec, timeout: opt.Timeout}
	if c.TLS != nil {
		// The gateway serves the selftest's own throw-away certificate on
		// loopback: there is nothing to verify.
		// Resumed sessions and a classical key exchange keep a thousand
		// handshakes cheap; the cases test policies, not TLS.
		cl.tls = &tls.Config{InsecureSkipVerify: true, ServerName: hostFor(c, nil), // #nosec G402
			ClientSessionCache: tls.NewLRUClientSessionCache(64), CurvePreferences: []tls.CurveID{tls.X25519}}
	}
	r := &runner{c: c, cl: cl, opt: opt, routes: routesList, pool: &addressPool{c: c}, keys: keys, user: user}
	rep := &Report{Config: c.File(), Mode: "in-process", StandIns: si.notes}
	rep.Classes = make([]ClassResult, len(corpus.Classes))
	// Classes run side by side, each case's requests told apart at the
	// app by a header of their own (and the gateway's request id). Request
	// smuggling runs alone afterwards: a smuggled request carries neither.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	var alone []int
	for i, cls := range corpus.Classes {
		if cls.Name == "request-smuggling" {
			alone = append(alone, i)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rep.Classes[i] = r.runClass(ctx, cls)
		}()
	}
	wg.Wait()
	if stray := rec.take(); len(stray) > 0 {
		// Fail closed: something reached the app that no case owns.
		res := Result{Class: "selftest", Case: "unattributed", Source: "RFC 9112", Target: "the recording upstream",
			Severity: severity.Critical, Reason: fmt.Sprintf("%d request(s) reached the app without a case's tag; run the classes one at a time with --only", len(stray)),
			Fix: Fix{Setting: "run the classes one at a time with --only to find the case"}}
		for _, got := range stray {
			res.Reached = append(res.Reached, got.Raw)
		}
		rep.Classes = append(rep.Classes, ClassResult{Name: "selftest", Title: "requests nobody sent", Run: 1, Failed: 1, Failures: []Result{res}})
	}
	cl.exclusive = true
	for _, i := range alone {
		rep.Classes[i] = r.runClass(ctx, corpus.Classes[i])
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.Duration = time.Since(start)
	rep.finish()
	return rep, nil
}

func selectCorpus(opt Options) (*Corpus, error) {
	corpus := opt.Corpus
	if corpus == nil {
		var err error
		if corpus, err = Builtin(); err != nil {
			return nil, fmt.Errorf("selftest: built-in corpus: %w", err)
		}
	}
	return corpus.Select(opt.Classes)
}

// readable reports whether a configured file can be read.
func readable(c *config.Config, f string) bool {
	if f == "" {
		return true
	}
	_, err := os.ReadFile(c.RelativePath(f))
	return err == nil
}

// standInSecrets replaces what protects nothing a case tests but may be
// missing where the selftest runs (CI has no production keys): the TLS
// certificate, unreadable key files, the admin listener.
func standInSecrets(c *config.Config, si *standIns) error {
	if c.TLS != nil {
		cert, key, err := si.certificate(hostFor(c, nil))
		if err != nil {
			return fmt.Errorf("selftest: %w", err)
		}
		what := "tls.cert and tls.key"
		if c.TLS.ACME != nil {
			what = "tls.acme"
		}
		c.TLS.Cert, c.TLS.Key, c.TLS.ACME = cert, key, nil
		si.note("%s: a throw-away self-signed certificate", what)
	}
	c.ListenHTTP = ""
	if c.Admin.Listen != "off" || c.Admin.TokenFile != "" || c.Admin.Token != "" {
		c.Admin.Listen, c.Admin.TokenFile, c.Admin.Token = "off", "", ""
		si.note("admin: not started")
	}
	if t := c.Auth.Tokens; t != nil && t.SigningKey != "" && !readable(c, t.SigningKey) {
		f, err := si.signingKey("signing.pem")
		if err != nil {
			return fmt.Errorf("selftest: %w", err)
		}
		si.note("auth.tokens.signing_key: %s is unreadable here; a throw-away Ed25519 key", t.SigningKey)
		t.SigningKey = f
		t.VerificationKeys = slices.DeleteFunc(t.VerificationKeys, func(k string) bool { return !readable(c, k) })
	}
	if !readable(c, c.Store.KeyFile) {
		f, err := si.secret("store.key")
		if err != nil {
			return fmt.Errorf("selftest: %w", err)
		}
		si.note("store.key_file: %s is unreadable here; a throw-away key", c.Store.KeyFile)
		c.Store.KeyFile = f
	}
	if !readable(c, c.CSRF.KeyFile) {
		f, err := si.secret("csrf.key")
		if err != nil {
			return fmt.Errorf("selftest: %w", err)
		}
		si.note("csrf.key_file: %s is unreadable here; a throw-away key", c.CSRF.KeyFile)
		c.CSRF.KeyFile = f
	}
	return nil
}

// swapOutside points everything outside the gateway at the selftest's own
// parts: the upstream at the recorder, stores at a temporary directory,
// issuers' keys at the keyring.
func swapOutside(c *config.Config, si *standIns, rec *recorder, keys *keyring) error {
	up, err := config.ParseUpstream(rec.url())
	if err != nil {
		return err
	}
	if len(c.Upstream) > 0 {
		up.Path = c.Upstream[0].Path
	}
	c.Upstream = config.Upstreams{up}
	si.note("upstream: the recording upstream at %s", rec.url())
	var was []string
	if c.Store.Redis != "" {
		was = append(was, "store.redis")
	}
	if c.Store.Postgres != "" {
		was = append(was, "store.postgres")
	}
	was = append(was, "store.sqlite")
	c.Store.Redis, c.Store.Postgres, c.Store.SessionCache = "", "", nil
	c.Store.SQLite = filepath.Join(si.dir, "rampart.db")
	si.note("%s: an embedded database in a temporary directory and in-memory counters, with the same behaviour; nothing stored is read or written", strings.Join(was, ", "))
	for i := range c.Auth.Issuers {
		is := &c.Auth.Issuers[i]
		u, err := keys.addIssuer(*is)
		if err != nil {
			return fmt.Errorf("selftest: auth.issuers[%d]: %w", i, err)
		}
		is.JWKSURL, is.PublicKey, is.Login = u, "", nil
		si.note("auth.issuers[%d] (%s): keys held by the selftest, published on loopback, so that it can sign what the provider would", i, is.Issuer)
	}
	return nil
}

// testUser is the account session cases log in with.
type testUser struct {
	name, password string
}

// seedUser creates a user holding every role the routes name, when
// sessions are on.
func seedUser(ctx context.Context, c *config.Config, rs []*route) (*testUser, error) {
	if c.Auth.Sessions == nil {
		return nil, nil
	}
	db, err := sqldb.OpenSQLite(ctx, c.Store.SQLite)
	if err != nil {
		return nil, fmt.Errorf("selftest: %w", err)
	}
	defer db.Close()
	st, err := users.NewSQLStore(ctx, db, nil)
	if err != nil {
		return nil, fmt.Errorf("selftest: %w", err)
	}
	var roles []string
	for _, r := range rs {
		roles = append(roles, r.roles...)
	}
	slices.Sort(roles)
	roles = slices.Compact(roles)
	h, err := password.NewHasher(c.Auth.Passwords.Hash)
	if err != nil {
		return nil, fmt.Errorf("selftest: %w", err)
	}
	u := &testUser{name: "selftest-user", password: "st-" + randomHex(16)}
	hash, err := h.Hash(u.password)
	if err != nil {
		return nil, fmt.Errorf("selftest: %w", err)
	}
	if err := st.Create(ctx, users.User{Name: u.name, Roles: roles, PasswordHash: hash}); err != nil {
		return nil, fmt.Errorf("selftest: %w", err)
	}
	return u, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runner runs the cases of one configuration.
type runner struct {
	c      *config.Config
	cl     *client
	opt    Options
	routes []*route
	pool   *addressPool
	keys   *keyring
	user   *testUser
	// loginMu guards the session, its error and its CSRF token.
	loginMu  sync.Mutex
	cookie   string
	loginErr error
	csrfTok  []string // header and token, once fetched
	spoof    atomic.Uint32
	formMu   sync.Mutex
	// formNext is whether the login page shows the next it will use:
	// 0 not probed, 1 yes, 2 no.
	formNext int
	// baselines caches, per rate-limit target, what one client gets.
	baselines map[*target]int
	// remote is target mode: no recorder, no stand-ins, only safe
	// methods unless unsafe; host is the target's Host.
	remote bool
	unsafe bool
	host   string
}

// target is one thing a case is instantiated against.
type target struct {
	label   string // e.g. "routes[2] /admin/{path...}"
	key     string
	line    int
	route   *route
	vars    map[string]string
	exclude []netip.Prefix // client addresses the attacker must not use
	issuer  *issuerKey
	rule    *ratelimit.Rule
	origin  string
}

func (r *runner) targets(kind string) []*target {
	var out []*target
	routeTarget := func(rt *route) *target {
		first, rest := rt.concrete, ""
		if i := strings.IndexByte(rt.concrete[1:], '/'); i >= 0 {
			first, rest = rt.concrete[:i+1], rt.concrete[i+1:]
		}
		first = strings.TrimPrefix(first, "/")
		init, last := "/", strings.TrimPrefix(rt.concrete, "/")
		if i := strings.LastIndexByte(rt.concrete, '/'); i >= 0 {
			init, last = rt.concrete[:i+1], rt.concrete[i+1:]
		}
		v := map[string]string{"method": rt.requestMethod(), "path": rt.concrete, "first": first, "rest": rest,
			"init": init, "last": last, "host": hostFor(r.c, rt), "max_body": fmt.Sprint(rt.maxBody)}
		return &target{label: rt.key + " " + rt.match, key: rt.key, line: rt.line, route: rt, vars: v}
	}
	public := func() *route {
		for _, rt := range r.routes {
			if !rt.protected() && (rt.method == "" || rt.method == "GET") {
				return rt
			}
		}
		for _, rt := range r.routes {
			if !rt.protected() {
				return rt
			}
		}
		return r.routes[0]
	}
	switch kind {
	case "protected-path":
		for _, rt := range r.routes {
			if rt.protected() {
				out = append(out, routeTarget(rt))
			}
		}
	case "ip-route":
		for _, rt := range r.routes {
			if len(rt.ips.AllowIPs) > 0 {
				t := routeTarget(rt)
				t.vars["inside_ip"] = insideIP(rt.ips.AllowIPs)
				t.exclude = rt.ips.AllowIPs
				out = append(out, t)
			}
		}
	case "any-route":
		for _, rt := range r.routes {
			out = append(out, routeTarget(rt))
		}
	case "host":
		if len(r.c.Allow.Hosts) > 0 {
			out = append(out, routeTarget(public()))
		}
	case "cors-origin":
		seen := map[string]bool{}
		for _, rt := range r.routes {
			for _, o := range rt.cors {
				if seen[o] {
					continue
				}
				seen[o] = true
				t := routeTarget(rt)
				parts := originParts(o, t.vars["host"])
				if parts == nil {
					continue
				}
				for k, v := range parts {
					t.vars[k] = v
				}
				t.origin = o
				t.label = "cors origin " + o + " on " + t.label
				t.key = "cors.origins"
				if rt.key != "openapi" && r.c.Has(rt.key+".cors") {
					t.key = rt.key + ".cors.origins"
				}
				t.line = r.c.Line(t.key)
				out = append(out, t)
			}
		}
	case "csrf-route":
		for _, rt := range r.routes {
			if rt.unsafe() && rt.csrf != csrf.ModeOff || rt.unsafe() && rt.csrf == csrf.ModeOff && r.c.CSRF.Mode == csrf.ModeOff && !r.c.Has(rt.key+".csrf") {
				t := routeTarget(rt)
				if rt.method == "" {
					t.vars["method"] = "POST"
				}
				t.key, t.line = "csrf.mode", r.c.Line("csrf.mode")
				trusted := "https://" + t.vars["host"]
				if len(r.c.CSRF.TrustedOrigins) > 0 {
					trusted = r.c.CSRF.TrustedOrigins[0]
				}
				for k, v := range originParts(trusted, t.vars["host"]) {
					if k != "origin" {
						t.vars[k] = v
					}
				}
				if len(r.c.CSRF.TrustedOrigins) == 0 && r.c.TLS == nil {
					// Served over plain HTTP: http://host is the site
					// itself, not a downgrade.
					delete(t.vars, "o_downgrade")
				}
				out = append(out, t)
			}
		}
	case "issuer":
		var rt *route
		for _, x := range r.routes {
			if x.mode == 0 && len(x.ips.AllowIPs) == 0 && (rt == nil || len(rt.roles) > len(x.roles)) {
				rt = x
			}
		}
		if rt == nil {
			break
		}
		for i, ik := range r.keys.issuers {
			t := routeTarget(rt)
			t.issuer = ik
			t.vars["issuer"], t.vars["audience"] = ik.cfg.Issuer, ik.cfg.Audience
			t.key = fmt.Sprintf("auth.issuers[%d]", i)
			t.line = r.c.Line(t.key)
			t.label = fmt.Sprintf("issuer %s on %s", ik.cfg.Issuer, t.label)
			out = append(out, t)
		}
	case "login":
		if r.user != nil {
			out = append(out, &target{label: "login /.rampart/login", key: "auth.sessions", line: r.c.Line("auth.sessions"),
				vars: map[string]string{"host": hostFor(r.c, nil), "path": "/.rampart/login"}})
		}
	case "rate-rule":
		add := func(rt *route, rule ratelimit.Rule, key string) {
			if rule.DryRun || !slices.Equal(rule.Key, ratelimit.Key{"ip"}) && !slices.Equal(rule.Key, ratelimit.Key{"ip", "route"}) && len(rule.Key) != 0 {
				return
			}
			if n := rule.Limit + rule.Burst; n < 1 || n > 400 {
				return
			}
			t := routeTarget(rt)
			t.rule = &rule
			t.key, t.line = key, r.c.Line(key)
			t.label = fmt.Sprintf("%s (%d per %s) on %s", key, rule.Limit, rule.Per, t.label)
			out = append(out, t)
		}
		for i, rule := range r.c.RateLimits {
			add(public(), rule, fmt.Sprintf("rate_limits[%d]", i))
		}
		for _, rt := range r.routes {
			for i, rule := range rt.rates {
				add(rt, rule, fmt.Sprintf("%s.rate_limits[%d]", rt.key, i))
			}
		}
	case "validated-route":
		for _, rt := range r.routes {
			if rt.schema == nil {
				continue
			}
			t := routeTarget(rt)
			t.vars["content_type"] = rt.contentType
			if body, ok := sampleBody(rt.schema, rt.schemaRoot); ok {
				for k, v := range bodyVariants(body, rt.maxBody, r.c.Validation.MaxDepth) {
					t.vars[k] = v
				}
			}
			out = append(out, t)
		}
	}
	return out
}

// runClass runs every case of cls on every target of its kinds.
func (r *runner) runClass(ctx context.Context, cls *Class) (res ClassResult) {
	start := time.Now()
	res = ClassResult{Name: cls.Name, Title: cls.Title, Summary: cls.Summary}
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	byKind := map[string][]*Case{}
	var kinds []string
	for _, cs := range cls.Cases {
		k := cs.kind()
		if _, ok := byKind[k]; !ok {
			kinds = append(kinds, k)
		}
		byKind[k] = append(byKind[k], cs)
	}
	for _, kind := range kinds {
		cases := byKind[kind]
		// Controls first: a target whose control fails is not judged.
		slices.SortStableFunc(cases, func(a, b *Case) int {
			switch {
			case a.Control && !b.Control:
				return -1
			case b.Control && !a.Control:
				return 1
			}
			return 0
		})
		for _, t := range r.targets(kind) {
			res.Targets++
			broken := ""
			for _, cs := range cases {
				if ctx.Err() != nil {
					return res
				}
				if broken != "" && !cs.Control {
					res.add(Result{Class: cls.Name, Case: cs.ID, Source: cs.Source, Target: t.label, Skipped: broken})
					continue
				}
				out := r.runCase(ctx, cs, t)
				if cs.Control && out.Skipped == "" && !out.Held {
					broken = fmt.Sprintf("the control case %s did not get through (%s), so this target cannot be judged", cs.ID, out.Observed)
					out.Skipped = broken
				}
				res.add(out)
			}
		}
	}
	if res.Targets == 0 {
		res.NotApplicable = "the configuration has nothing this class attacks"
	}
	return res
}

// runCase instantiates cs for t, sends it and judges the outcome.
func (r *runner) runCase(ctx context.Context, cs *Case, t *target) Result {
	res := Result{Class: cs.class.Name, Case: cs.ID, Source: cs.Source, Note: cs.Note, Target: t.label,
		Key: t.key, File: r.c.File(), Line: t.line, Severity: cs.severity, Fix: cs.fix(), Control: cs.Control}
	if k := res.Fix.Key; k != "" {
		res.Key, res.Line = k, r.c.Line(k)
	}
	vars := maps(t.vars)
	if r.remote && r.host != "" {
		vars["host"] = r.host
	}
	vars["marker"] = "st" + randomHex(6)
	spoof := r.spoof.Add(1)
	vars["spoof_ip"] = netip.AddrFrom4([4]byte{100, 64 + byte(spoof>>16&63), byte(spoof >> 8), byte(spoof)}).String()
	vars["identity_user"] = nonEmpty(r.c.Auth.IdentityHeaders.User, "X-Rampart-User")
	vars["identity_roles"] = nonEmpty(r.c.Auth.IdentityHeaders.Roles, "X-Rampart-Roles")
	vars["attacker_jwks_url"] = r.keys.base() + "/attacker/jwks.json"
	from := r.pool.take(t.exclude)
	vars["ip"] = from.String()
	if r.pool.allTrusted() {
		res.Note = strings.TrimSpace(res.Note + " Every address the attacker could use is a trusted proxy.")
	}
	if cs.Session {
		switch {
		case r.user != nil:
			cookie, err := r.login(ctx)
			if err != nil {
				res.Skipped = err.Error()
				return res
			}
			vars["credentials"] = "Cookie: " + cookie
			if cs.class.Name != "csrf" {
				// A legitimate same-site request also carries the CSRF
				// token when the mode asks for one; an attacker's never.
				if h, tok := r.csrfToken(ctx, cookie); tok != "" {
					vars["credentials"] += "\r\n" + h + ": " + tok
				}
			}
		case len(r.keys.issuers) > 0 && cs.class.Name != "csrf":
			// No sessions: a token the first issuer would issue, with the
			// route's roles. (A cross-site request cannot carry one, so
			// CSRF cases never use it.)
			var roles []string
			if t.route != nil {
				roles = t.route.roles
			}
			tok, err := r.keys.forge(r.keys.issuers[0], &TokenSpec{}, vars, roles, r.opt.Now())
			if err != nil {
				res.Skipped = "could not sign a token: " + err.Error()
				return res
			}
			vars["credentials"] = "Authorization: Bearer " + tok
		case cs.class.Name == "csrf":
			res.Skipped = "not applicable: no sessions, so no cookie a cross-site request would carry"
			return res
		default:
			vars["credentials"] = "X-Selftest: anonymous"
		}
	}
	if r.user != nil {
		vars["username"], vars["password"] = r.user.name, r.user.password
	}
	if cs.Origin != "" {
		o, err := expand(cs.Origin, vars)
		if err != nil {
			res.Skipped = "not applicable"
			return res
		}
		vars["origin"] = o
	}
	if cs.Next != "" {
		n, err := expand(cs.Next, vars)
		if err != nil {
			res.Skipped = "not applicable"
			return res
		}
		vars["next"] = n
	}
	if cs.Token != nil {
		if t.issuer == nil {
			res.Skipped = "not applicable"
			return res
		}
		tok, err := r.keys.forge(t.issuer, cs.Token, vars, t.route.roles, r.opt.Now())
		if err != nil {
			if errors.Is(err, errNotApplicable) {
				res.Skipped = "not applicable"
			} else {
				res.Skipped = "could not forge the token: " + err.Error()
			}
			return res
		}
		vars["token"] = tok
	}
	if cs.judge() == "limited" {
		return r.runLimited(ctx, cs, t, vars, res)
	}
	if cs.judge() == "same-site-redirect" && !r.remote {
		if kept, checked := r.loginPageKeeps(ctx, from, vars); checked && kept == "" {
			// The login page already dropped the target: a login
			// would go to the default. No password hash spent.
			res.Held, res.Reason = true, "the login page refused the target"
			res.Request = fmt.Sprintf("GET /.rampart/login?next=%s HTTP/1.1", url.QueryEscape(vars["next"]))
			res.Observed = "the login form carries no next"
			return res
		}
	}
	raw, err := buildRequest(cs, vars)
	if err != nil {
		res.Skipped = "not applicable"
		return res
	}
	if r.remote && !r.unsafe && !safeMethod(raw) {
		res.Skipped = "not run: an unsafe method against a deployment needs --unsafe"
		return res
	}
	ex := r.cl.send(ctx, from, raw)
	if errors.Is(ex.Err, errBudget) {
		res.Skipped = "not run: " + errBudget.Error()
		return res
	}
	res.Request = string(raw)
	res.fill(ex)
	res.Held, res.Reason = judge(cs.judge(), ex, vars, r)
	return res
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+8)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// loginPageKeeps asks the login page which redirect target it keeps for
// next. checked is false when the page does not show it (custom
// templates), and every case then logs in.
func (r *runner) loginPageKeeps(ctx context.Context, from netip.Addr, vars map[string]string) (kept string, checked bool) {
	get := func(next string) (string, bool) {
		raw := fmt.Sprintf("GET /.rampart/login?next=%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", url.QueryEscape(next), vars["host"])
		ex := r.cl.send(ctx, from, []byte(raw))
		if ex.Err != nil || ex.Status != http.StatusOK {
			return "", false
		}
		return formNext(ex.Body), true
	}
	r.formMu.Lock()
	if r.formNext == 0 {
		r.formNext = 2
		if v, ok := get("/selftest-ok"); ok && v == "/selftest-ok" {
			r.formNext = 1
		}
	}
	shows := r.formNext == 1
	r.formMu.Unlock()
	if !shows {
		return "", false
	}
	return get(vars["next"])
}

// formNext returns the value of the login form's hidden next field.
func formNext(page []byte) string {
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "input" || !hasAttr {
				continue
			}
			var n, v string
			for {
				k, val, more := z.TagAttr()
				switch string(k) {
				case "name":
					n = string(val)
				case "value":
					v = string(val)
				}
				if !more {
					break
				}
			}
			if n == "next" {
				return v
			}
		}
	}
}

// safeMethod reports whether the request's method changes nothing.
func safeMethod(raw []byte) bool {
	m, _, _ := strings.Cut(string(raw), " ")
	return m == "GET" || m == "HEAD" || m == "OPTIONS"
}

// buildRequest expands a case into the bytes to send.
func buildRequest(cs *Case, vars map[string]string) ([]byte, error) {
	if cs.Raw != "" {
		s, err := expand(cs.Raw, vars)
		if err != nil {
			return nil, err
		}
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
		if !strings.Contains(s, "\r\n\r\n") {
			s = strings.TrimRight(s, "\r\n") + "\r\n\r\n"
		}
		return []byte(s), nil
	}
	method := "${method}"
	if cs.Method != "" {
		method = cs.Method
	}
	proto := "HTTP/1.1"
	if cs.Proto != "" {
		proto = cs.Proto
	}
	host := "${host}"
	if cs.Host != nil {
		host = *cs.Host
	}
	var b strings.Builder
	line, err := expand(method+" "+cs.Target+" "+proto, vars)
	if err != nil {
		return nil, err
	}
	b.WriteString(line + "\r\n")
	if host != "" {
		h, err := expand(host, vars)
		if err != nil {
			return nil, err
		}
		b.WriteString("Host: " + h + "\r\n")
	}
	framed := false
	headers := slices.Clone(cs.Headers)
	if cs.Session {
		headers = append(headers, "${credentials}")
	}
	for _, h := range headers {
		h, err := expand(h, vars)
		if err != nil {
			return nil, err
		}
		name, _, _ := strings.Cut(h, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); n == "content-length" || n == "transfer-encoding" {
			framed = true
		}
		b.WriteString(h + "\r\n")
	}
	body, err := expand(cs.Body, vars)
	if err != nil {
		return nil, err
	}
	if body != "" && !framed {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	return []byte(b.String()), nil
}

// login signs the test user in and returns its session cookie, once.
func (r *runner) login(ctx context.Context) (string, error) {
	r.loginMu.Lock()
	defer r.loginMu.Unlock()
	if r.cookie != "" || r.loginErr != nil {
		return r.cookie, r.loginErr
	}
	body, _ := json.Marshal(map[string]string{"username": r.user.name, "password": r.user.password})
	raw := fmt.Sprintf("POST /.rampart/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		hostFor(r.c, nil), len(body), body)
	ex := r.cl.send(ctx, r.pool.take(nil), []byte(raw))
	if ex.Err != nil || ex.Status != http.StatusOK {
		r.loginErr = fmt.Errorf("the test user could not log in (%s)", observed(ex))
		return "", r.loginErr
	}
	var parts []string
	for _, sc := range ex.Header.Values("Set-Cookie") {
		nv, _, _ := strings.Cut(sc, ";")
		parts = append(parts, strings.TrimSpace(nv))
	}
	if len(parts) == 0 {
		return "", errors.New("the login set no cookie")
	}
	r.cookie = strings.Join(parts, "; ")
	return r.cookie, nil
}

// csrfToken fetches a CSRF token for the session, when token mode is on
// anywhere; "" otherwise.
func (r *runner) csrfToken(ctx context.Context, cookie string) (header, token string) {
	r.loginMu.Lock()
	defer r.loginMu.Unlock()
	if r.csrfTok != nil {
		return r.csrfTok[0], r.csrfTok[1]
	}
	r.csrfTok = []string{"", ""}
	raw := fmt.Sprintf("GET /.rampart/csrf HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nConnection: close\r\n\r\n", hostFor(r.c, nil), cookie)
	ex := r.cl.send(ctx, r.pool.take(nil), []byte(raw))
	if ex.Err != nil || ex.Status != http.StatusOK {
		return "", ""
	}
	var tr struct {
		Token  string `json:"token"`
		Header string `json:"header"`
	}
	if json.Unmarshal(ex.Body, &tr) != nil || tr.Token == "" || tr.Header == "" {
		return "", ""
	}
	r.csrfTok = []string{tr.Header, tr.Token}
	return tr.Header, tr.Token
}

// observed summarises an exchange on both sides.
func observed(ex *exchange) string {
	s := "no response"
	if ex.Err == nil {
		s = fmt.Sprintf("status %d", ex.Status)
	} else if ex.Status == 0 {
		s = "no response: " + ex.Err.Error()
	}
	if n := len(ex.Reached); n > 0 {
		s += fmt.Sprintf(", %d request(s) reached the app", n)
	} else {
		s += ", nothing reached the app"
	}
	return s
}

// judge decides whether the exchange shows the protection held.
func judge(kind string, ex *exchange, vars map[string]string, r *runner) (bool, string) {
	switch kind {
	case "reached":
		if len(ex.Reached) > 0 {
			return true, "the legitimate request reached the app"
		}
		return false, "the legitimate request did not reach the app"
	case "not-reached":
		if len(ex.Reached) == 0 {
			return true, "refused before the app"
		}
		return false, "the attack reached the app"
	case "refused":
		if len(ex.Reached) == 0 && ex.Status >= 400 && ex.Status < 500 {
			return true, "refused"
		}
		return false, fmt.Sprintf("the attack was not refused (%s)", observed(ex))
	case "no-protected-reach":
		for _, got := range ex.Reached {
			for _, p := range lenientPaths(got.Target) {
				for _, rt := range r.routes {
					if rt.protected() && matchLenient(rt.pattern, p) {
						return false, fmt.Sprintf("the app received %s, which an application that reads paths leniently serves as %s (%s %s)", got.Target, p, rt.key, rt.match)
					}
				}
			}
		}
		return true, "nothing reached the app on a protected path"
	case "no-marker":
		for _, got := range ex.Reached {
			for _, m := range []string{vars["marker"], vars["spoof_ip"]} {
				if strings.Contains(strings.ToLower(got.Target), strings.ToLower(m)) {
					return false, fmt.Sprintf("the app received a request for %s", got.Target)
				}
				for name, vs := range got.Header {
					for _, v := range vs {
						if strings.Contains(v, m) {
							return false, fmt.Sprintf("the app received the attacker's value in %s: %s", name, v)
						}
					}
				}
			}
		}
		return true, "the attacker's value never reached the app"
	case "host-kept":
		for _, got := range ex.Reached {
			for _, h := range append([]string{got.Host}, got.Header.Values("X-Forwarded-Host")...) {
				if !hostAllowed(r.c.Allow.Hosts, h) {
					return false, fmt.Sprintf("the app received a request for host %q", h)
				}
			}
		}
		return true, "only allowed hosts reached the app"
	case "no-acao":
		acao := ex.Header.Get("Access-Control-Allow-Origin")
		if acao != "" && (acao == "*" || acao == vars["origin"]) {
			return false, fmt.Sprintf("the response grants %s CORS access (Access-Control-Allow-Origin: %s)", vars["origin"], acao)
		}
		return true, "no CORS access granted"
	case "same-site-redirect":
		return judgeRedirect(ex, vars)
	}
	return false, "unknown judge " + kind
}

func hostAllowed(hosts []string, h string) bool {
	h = strings.ToLower(h)
	if host, _, ok := strings.Cut(h, ":"); ok && !strings.HasPrefix(h, "[") {
		h = host
	}
	for _, a := range hosts {
		a = strings.ToLower(a)
		if a == h || strings.HasPrefix(a, "*.") && strings.HasSuffix(h, a[1:]) && len(h) > len(a)-1 {
			return true
		}
	}
	return false
}

// judgeRedirect reads where a login sends the browser, as a browser
// would, and requires the site itself.
func judgeRedirect(ex *exchange, vars map[string]string) (bool, string) {
	if ex.Status >= 400 || ex.Status == 0 {
		return true, fmt.Sprintf("the login was refused (%s)", observed(ex))
	}
	next := ex.Header.Get("Location")
	if next == "" {
		var body struct {
			Next string `json:"next"`
		}
		_ = json.Unmarshal(ex.Body, &body)
		next = body.Next
	}
	if next == "" {
		return true, "no redirect"
	}
	// Browsers drop tabs and newlines and read '\' as '/'.
	clean := strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, strings.TrimSpace(next))
	base, _ := url.Parse("https://" + vars["host"] + "/")
	u, err := base.Parse(clean)
	if err != nil {
		return false, fmt.Sprintf("the login redirects to %q, which is not a URL this site controls", next)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || !strings.EqualFold(u.Hostname(), base.Hostname()) {
		return false, fmt.Sprintf("the login redirects to %q, which a browser opens as %s", next, u.Redacted())
	}
	return true, "the redirect stays on the site"
}

// runLimited sends the case's request as many times as one client may
// plus a few, and compares what gets through with what one client sending
// the ordinary request gets.
func (r *runner) runLimited(ctx context.Context, cs *Case, t *target, vars map[string]string, res Result) Result {
	rule := t.rule
	n := rule.Limit + rule.Burst + 5
	if r.remote {
		if cs.Client == "same-64" {
			res.Skipped = "not applicable: a deployment sees this machine's own address"
			return res
		}
		if 2*n > r.cl.budget {
			res.Skipped = fmt.Sprintf("not run: needs %d requests, %d left in the budget", 2*n, r.cl.budget)
			return res
		}
		if !r.unsafe && !safeMethod([]byte(t.vars["method"]+" ")) {
			res.Skipped = "not run: an unsafe method against a deployment needs --unsafe"
			return res
		}
	}
	// A request gets through when the limiter let it pass: it reached the
	// app, or the limiter's RateLimit header is on the answer, or it
	// succeeded. A request refused before the limiter is no evasion.
	through := func(ex *exchange) bool {
		if ex.Err != nil || ex.Status == 0 || ex.Status == http.StatusTooManyRequests {
			return false
		}
		return len(ex.Reached) > 0 || ex.Header.Get("RateLimit") != "" || ex.Status < 400
	}
	base, ok := r.baselines[t]
	startBase := time.Now()
	if !ok {
		// What one client sending the ordinary request gets, measured
		// once per target.
		baseCase := &Case{Target: "${path}", class: cs.class}
		baseFrom := r.pool.take(t.exclude)
		streak := 0
		for i := range n {
			v := maps(vars)
			v["i"] = fmt.Sprint(i + 1)
			raw, err := buildRequest(baseCase, v)
			if err != nil {
				res.Skipped = "not applicable"
				return res
			}
			ex := r.cl.send(ctx, baseFrom, raw)
			if through(ex) {
				base++
				streak = 0
			} else if streak++; streak >= 3 {
				break
			}
		}
		if r.baselines == nil {
			r.baselines = map[*target]int{}
		}
		r.baselines[t] = base
	}
	if base == 0 {
		res.Skipped = "the limit refused every request of one client: its budget is already spent (run this class alone, or after a period)"
		return res
	}
	if base >= n {
		res.Skipped = fmt.Sprintf("the limit did not stop one client sending %d requests in %s", n, time.Since(startBase).Round(time.Millisecond))
		return res
	}
	from := r.pool.take(t.exclude)
	n64 := r.spoof.Add(1)
	prefix := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0x5e, 0x1f, byte(n64 >> 8), byte(n64)}), 64)
	if cs.Client == "same-64" && !r.pool.admits(prefix.Addr(), t.exclude) {
		res.Skipped = "not applicable: IPv6 clients cannot reach this route"
		return res
	}
	got, limited, refused := 0, 0, 0
	start := time.Now()
	var first *exchange
	for i := range n {
		v := maps(vars)
		v["i"] = fmt.Sprint(i + 1)
		raw, err := buildRequest(cs, v)
		if err != nil {
			res.Skipped = "not applicable"
			return res
		}
		src := from
		if cs.Client == "same-64" {
			b := prefix.Addr().As16()
			b[14], b[15] = byte((i+1)>>8), byte(i+1)
			src = netip.AddrFrom16(b)
		}
		ex := r.cl.send(ctx, src, raw)
		if first == nil || through(ex) {
			first = ex
			res.Request = string(raw)
		}
		switch {
		case through(ex):
			got++
			limited, refused = 0, 0
		case ex.Status == http.StatusTooManyRequests:
			limited++
		default:
			refused++
		}
		// Once the limiter refuses the variants in a row, or something
		// before it refuses every one, the rest would go the same way.
		if limited >= 3 || refused >= 10 {
			break
		}
	}
	// Tokens refilled while sending are not an evasion.
	refill := 0
	if rule.Per > 0 {
		refill = int(float64(rule.Limit)*time.Since(start).Seconds()/rule.Per.Seconds()) + 1
	}
	res.fill(first)
	res.Observed = fmt.Sprintf("%d requests got through; one client sending the ordinary request gets %d", got, base)
	if got <= base+refill {
		res.Held, res.Reason = true, "the variants were counted as one client"
	} else {
		res.Reason = fmt.Sprintf("the variants got %d requests through where one client gets %d: the limit counts them as different clients", got, base)
	}
	return res
}
