package selftest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rampartsec/rampart/config"
)

// TargetOptions tune a run against a running deployment.
type TargetOptions struct {
	Options
	// URL is the deployment, e.g. "https://app.example.com".
	URL string
	// Unsafe allows methods other than GET, HEAD and OPTIONS, which may
	// change the app's data. Default false.
	Unsafe bool
	// OwnTarget allows a target that is not a loopback address. Default
	// false: only loopback.
	OwnTarget bool
	// Budget is the most requests sent. Default 300.
	Budget int
	// Rate is the most requests per second. Default 10.
	Rate float64
}

// ErrNotLoopback is returned for a target outside this machine when
// TargetOptions.OwnTarget is false.
var ErrNotLoopback = errors.New("selftest: the target is not a loopback address")

// remoteJudges are the judges that need only the response.
var remoteJudges = []string{"no-acao", "limited"}

// RunTarget runs, against the deployment at opt.URL, the cases that can be
// judged from responses alone, generated from c (the deployment's
// configuration). It sends no request with an unsafe method unless
// opt.Unsafe, at most opt.Budget requests, at most opt.Rate per second,
// and refuses a target that is not on loopback unless opt.OwnTarget.
func RunTarget(ctx context.Context, c *config.Config, opt TargetOptions) (*Report, error) {
	start := time.Now()
	u, err := url.Parse(opt.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("selftest: the target must be http(s)://host[:port], got %q", opt.URL)
	}
	if !opt.OwnTarget {
		if err := checkLoopback(ctx, u.Hostname()); err != nil {
			return nil, err
		}
	}
	corpus, err := selectCorpus(opt.Options)
	if err != nil {
		return nil, err
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Budget <= 0 {
		opt.Budget = 300
	}
	if opt.Rate <= 0 {
		opt.Rate = 10
	}
	rs, err := routes(c)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	cl := &client{addr: net.JoinHostPort(u.Hostname(), port), timeout: opt.Timeout, remote: true,
		budget: opt.Budget, interval: time.Duration(float64(time.Second) / opt.Rate)}
	if u.Scheme == "https" {
		cl.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	}
	keys := &keyring{}
	r := &runner{c: c, cl: cl, opt: opt.Options, routes: rs, pool: &addressPool{c: c}, keys: keys,
		remote: true, unsafe: opt.Unsafe, host: u.Host}
	rep := &Report{Config: c.File(), Mode: "target", Target: u.Scheme + "://" + u.Host, StandIns: []string{}}
	for _, cls := range corpus.Classes {
		kept := &Class{Name: cls.Name, Title: cls.Title, Summary: cls.Summary, Severity: cls.Severity, Fix: cls.Fix, On: cls.On, Expect: cls.Expect}
		for _, cs := range cls.Cases {
			if slices.Contains(remoteJudges, cs.judge()) {
				kept.Cases = append(kept.Cases, cs)
			}
		}
		if len(kept.Cases) == 0 {
			continue
		}
		rep.Classes = append(rep.Classes, r.runClass(ctx, kept))
	}
	rep.StandIns = append(rep.StandIns, fmt.Sprintf("only the cases judged from responses ran (%s); %d of %d requests of the budget used",
		strings.Join(remoteJudges, ", "), opt.Budget-cl.budget, opt.Budget))
	rep.Duration = time.Since(start)
	rep.finish()
	return rep, nil
}

// checkLoopback resolves host and requires every address to be loopback.
func checkLoopback(ctx context.Context, host string) error {
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.IsLoopback() {
			return ErrNotLoopback
		}
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("selftest: resolving %s: %w", host, err)
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return ErrNotLoopback
		}
	}
	return nil
}

// errBudget is the send error once the request budget is spent.
var errBudget = errors.New("the request budget is spent")
