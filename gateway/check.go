package gateway

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampartsec/rampart/config"
)

// Check reports every reason New would refuse c, without serving anything:
// the values Validate checks, the production guard (critical checklist
// findings), and the constructor of every policy, each with file, line and
// key. It opens no listener and no network connection, and creates no file:
// stores are replaced by in-memory ones, so a store that is down or a
// database file that does not exist yet is not a mistake of c.
//
// Check and New share one code path, so whatever Check accepts, New accepts
// too unless a store or a listener fails at start; `rampart audit config`
// and `rampart serve` therefore give one verdict. The error, when not nil,
// is config.Errors listing every problem at once.
func Check(c *config.Config) error {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		return err
	}
	st, err := newStores()
	if err != nil {
		return err
	}
	st.dry = true
	g := &Gateway{log: slog.New(slog.DiscardHandler), reg: reg, metrics: m, now: time.Now, bufs: &bufferPool{}, stores: st}
	if g.overload, err = newOverload(reg, g.log, m); err != nil {
		_ = st.close()
		return err
	}
	gen, err := g.build(c)
	if gen != nil {
		gen.close()
	}
	_ = st.close()
	return err
}

// appendErrors adds err to errs as configuration errors: config.Errors and
// FieldErrors as they are, joined errors one by one, anything else under
// the configuration's file name.
func appendErrors(errs config.Errors, c *config.Config, err error) config.Errors {
	switch e := err.(type) {
	case nil:
		return errs
	case config.Errors:
		return append(errs, e...)
	case *config.FieldError:
		return append(errs, e)
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			errs = appendErrors(errs, c, x)
		}
		return errs
	}
	var es config.Errors
	if errors.As(err, &es) {
		return append(errs, es...)
	}
	var fe *config.FieldError
	if errors.As(err, &fe) {
		return append(errs, fe)
	}
	return append(errs, &config.FieldError{File: c.File(), Msg: strings.TrimPrefix(err.Error(), "gateway: ")})
}

// appendFindings adds the production guard's refusals to errs, except
// those about a key that already has an error, or a key above or below one
// (a policy that refused auth.tokens has said what is wrong with
// auth.tokens.signing_key).
func appendFindings(errs config.Errors, guard error) config.Errors {
	var findings config.Errors
	if !errors.As(guard, &findings) {
		return errs
	}
	failed := map[string]bool{}
	for _, e := range errs {
		failed[e.Key] = true
	}
	for _, f := range findings {
		related := failed[f.Key]
		for k := range failed {
			related = related || (k != "" && f.Key != "" && (underKey(f.Key, k) || underKey(k, f.Key)))
		}
		if f.Key == "" || !related {
			errs = append(errs, f)
		}
	}
	return errs
}

// dedupeErrors drops repeated errors, and errors about a key under (or
// over) a key that already failed: a key with a wrong value is reported
// once, not again by every policy built from it.
func dedupeErrors(errs config.Errors) config.Errors {
	var out config.Errors
	seen := map[string]bool{}
	for _, e := range errs {
		text := e.Error()
		if seen[text] {
			continue
		}
		seen[text] = true
		related := false
		for _, o := range out {
			if o.Key != "" && e.Key != "" && o.Key != e.Key && (underKey(e.Key, o.Key) || underKey(o.Key, e.Key)) && o.Msg == e.Msg {
				related = true
				break
			}
		}
		if !related {
			out = append(out, e)
		}
	}
	// File order: what a user fixes from top to bottom.
	slices.SortStableFunc(out, func(a, b *config.FieldError) int { return a.Line - b.Line })
	return out
}

// underKey reports whether key is inside parent ("cors.origins[0]" is
// inside "cors").
func underKey(key, parent string) bool {
	return strings.HasPrefix(key, parent) && len(key) > len(parent) && (key[len(parent)] == '.' || key[len(parent)] == '[')
}

// withoutAuthRules drops the routes' authentication errors, which are
// meaningless when the authentication methods themselves failed to build.
func withoutAuthRules(c *config.Config, err error) error {
	var kept []error
	for _, fe := range appendErrors(nil, c, err) {
		if strings.HasSuffix(fe.Key, ".auth") {
			continue
		}
		kept = append(kept, fe)
	}
	return errors.Join(kept...)
}
