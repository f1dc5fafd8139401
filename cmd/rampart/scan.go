package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rampartsec/rampart/audit/severity"
	"github.com/rampartsec/rampart/scan"
)

const scanHelp = `Probe a running site against the security checklist: security headers and
their quality (graded like the MDN HTTP Observatory), cookies, CORS, error
leakage, the redirect to HTTPS and TLS, and, with --login, whether a burst
of failed logins is throttled. The report groups pass, warn and fail by
checklist item; docs/scan.md describes every check.

The scan is polite: requests are sent one at a time, at most --max-requests
(default 31, at most 100), within --timeout.

Exit status: 0 no check failing at or above --fail-on; 1 checks at or above
--fail-on, or a probe that got no answer; 2 usage error, or nothing to grade:
a malformed URL, an unreachable site, an untrusted certificate (without
--insecure), a TLS failure, a redirect loop, or a redirect to another host
(without --follow-cross-origin).

The scan probes only the host named in URL: a redirect elsewhere stops it.
With --follow-cross-origin the page there is graded, but its POSTs, the
login burst and OPTIONS requests are never sent to a host you did not
name.`

func runScan(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("scan", "scan URL [--format table|json] [--max-requests N] [--login PATH] [--timeout D] [--fail-on SEVERITY] [--insecure] [--ca-file FILE]", scanHelp)
	format := fs.String("format", "table", "output `format`: table or json")
	maxRequests := fs.Int("max-requests", scan.DefaultMaxRequests, fmt.Sprintf("send at most `N` requests (1 to %d)", scan.MaxRequestsLimit))
	loginPath := fs.String("login", "", "login `PATH` to test for rate limiting with a burst of at most 20 failed logins (default: no burst)")
	timeout := fs.Duration("timeout", scan.DefaultTimeout, "time `budget` of the whole scan; each request gets at most 10s of it")
	failOn := fs.String("fail-on", "low", "exit 1 on checks of this `severity` or worse: low, moderate, high or critical")
	insecure := fs.Bool("insecure", false, "scan a site whose certificate is not trusted; the certificate then fails the tls-certificate check")
	caFile := fs.String("ca-file", "", "PEM `file` of CA certificates to trust besides the system's")
	followCross := fs.Bool("follow-cross-origin", false, "follow a redirect to another host and grade the page there (only GET requests are sent to it); by default such a redirect ends the scan with exit 2")
	httpPort := fs.Int("http-port", 80, "`port` of the plain-HTTP site checked for a redirect to HTTPS, for https URLs")
	pos, done, code := c.parseInterspersed(fs, args)
	if done {
		return code
	}
	switch {
	case len(pos) == 0:
		return c.usageError("scan needs the URL of a running site", "run 'rampart scan https://app.example.com/'")
	case len(pos) > 1:
		return c.usageError(fmt.Sprintf("unexpected argument %q", pos[1]), "scan takes one URL; run it once per site")
	}
	if _, err := scan.ParseURL(pos[0]); err != nil {
		return c.usageError(strings.TrimPrefix(err.Error(), "scan: "), "give a full URL such as https://app.example.com/")
	}
	switch *format {
	case "table", "json":
	default:
		return c.usageError(fmt.Sprintf("unknown format %q", *format), "use --format table or json")
	}
	threshold, err := severity.Parse(*failOn)
	if err != nil || threshold == severity.Unknown {
		return c.usageError(fmt.Sprintf("unknown severity %q for --fail-on", *failOn), "use --fail-on low, moderate, high or critical")
	}
	if *maxRequests < 1 || *maxRequests > scan.MaxRequestsLimit {
		return c.usageError(fmt.Sprintf("--max-requests %d out of range", *maxRequests), fmt.Sprintf("use a number from 1 to %d; the scan probes, it never load-tests", scan.MaxRequestsLimit))
	}
	if *timeout <= 0 {
		return c.usageError(fmt.Sprintf("--timeout %s must be positive", *timeout), "use a duration such as 30s or 2m")
	}
	if *httpPort < 1 || *httpPort > 65535 {
		return c.usageError(fmt.Sprintf("--http-port %d out of range", *httpPort), "use a port from 1 to 65535")
	}
	cfg := scan.Config{
		URL:                pos[0],
		MaxRequests:        *maxRequests,
		LoginPath:          *loginPath,
		Timeout:            *timeout,
		RequestTimeout:     min(*timeout, scan.DefaultRequestTimeout),
		HTTPPort:           *httpPort,
		InsecureSkipVerify: *insecure,
		FollowCrossOrigin:  *followCross,
	}
	if err := cfg.Validate(); err != nil {
		return c.usageError(strings.TrimPrefix(err.Error(), "scan: "), "run 'rampart scan --help' to see its flags")
	}
	if *caFile != "" {
		pool, err := loadCAFile(*caFile)
		if err != nil {
			return c.errorfHint(exitUsage, "--ca-file needs PEM certificates (-----BEGIN CERTIFICATE-----)", "%v", err)
		}
		cfg.RootCAs = pool
	}

	rep, err := scan.Run(ctx, cfg)
	if err != nil {
		return c.scanError(err, cfg)
	}
	if *format == "json" {
		err = scan.WriteJSON(c.stdout, rep)
	} else {
		err = scan.WriteTable(c.stdout, rep)
	}
	if err != nil {
		return c.errorf(exitUsage, "writing the report: %v", err)
	}
	if len(rep.Failing(threshold)) > 0 {
		return exitFindings
	}
	return exitOK
}

// scanError reports why there was nothing to grade, with a hint for each
// cause, and returns the usage exit code.
func (c *cli) scanError(err error, cfg scan.Config) int {
	msg := err.Error()
	switch {
	case errors.Is(err, context.Canceled):
		return c.errorf(exitUsage, "scan interrupted")
	case errors.Is(err, scan.ErrCertificate):
		return c.errorfHint(exitUsage, "pass the CA that signed it with --ca-file FILE, or scan anyway with --insecure (tls-certificate then fails)", "%s", msg)
	case errors.Is(err, scan.ErrTLS):
		return c.errorfHint(exitUsage, "check the scheme and the port: does the site serve HTTPS there?", "%s", msg)
	case errors.Is(err, scan.ErrCrossOrigin):
		return c.errorfHint(exitUsage, "rampart scans only the host it is given: scan the target URL itself, or pass --follow-cross-origin to grade it from here (only GET requests go to another host)", "%s", msg)
	case errors.Is(err, scan.ErrRedirects):
		return c.errorfHint(exitUsage, "fix the redirect, or scan the page it should end at", "%s", msg)
	case errors.Is(err, scan.ErrBudget):
		return c.errorfHint(exitUsage, fmt.Sprintf("the URL redirects a lot: scan the page it ends at, or raise --max-requests (now %d)", cfg.MaxRequests), "%s", msg)
	case errors.Is(err, scan.ErrTimeout):
		return c.errorfHint(exitUsage, fmt.Sprintf("check that the site is up and answers; raise --timeout (now %s) for a slow one", cfg.Timeout), "%s", msg)
	case errors.Is(err, scan.ErrUnreachable):
		return c.errorfHint(exitUsage, "check the URL, and that the site is running and reachable from here", "%s", msg)
	}
	return c.errorf(exitUsage, "%s", msg)
}

// loadCAFile returns the system's roots plus the certificates in file.
func loadCAFile(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
