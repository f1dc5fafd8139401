package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/severity"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/selftest"
)

const selftestHelp = `Prove that a configuration's protections hold: attacks from a corpus of
public advisories (path confusion, forwarded-header and Host spoofing,
look-alike origins, CSRF, JWT forgery, open redirects, rate-limit evasion,
parser differentials, identity-header aliases, request smuggling) are
generated from what the configuration protects, and sent as raw bytes to
the gateway built from it as 'rampart serve' would, in this process,
in front of a recording upstream. Each case is judged by what the client
got and what reached the app. Nothing leaves the machine: stores are
replaced by embedded ones in a temporary directory, unreadable secrets
by throw-away ones, and each issuer's keys by keys the selftest holds;
the report lists every replacement.

With --target, the cases that can be judged from responses alone run
against a running deployment instead: safe methods only unless --unsafe,
at most --budget requests at --rate per second, and only on this machine
unless --i-own-this-target.

Exit status: 0 every case held; 1 a failure at or above --fail-on; 2 usage
error or an invalid configuration.`

func runSelftest(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("selftest", "selftest --config FILE [--format table|json|sarif] [--only CLASSES] [--fail-on SEV] [--target URL]", selftestHelp)
	file := fs.String("config", "", "configuration `FILE` to test")
	format := fs.String("format", "table", "output `format`: table, json or sarif")
	only := fs.String("only", "", "comma-separated `classes` to run (default all; see docs/selftest.md)")
	failOn := fs.String("fail-on", "low", "exit 1 on a failed case of this `severity` or worse: low, moderate, high or critical")
	target := fs.String("target", "", "run against a deployment at this `URL` instead of in-process")
	unsafe := fs.Bool("unsafe", false, "with --target: also send methods that may change data (POST, PUT, PATCH, DELETE)")
	own := fs.Bool("i-own-this-target", false, "with --target: allow a target that is not on this machine")
	budget := fs.Int("budget", 300, "with --target: the most `requests` to send")
	rate := fs.Float64("rate", 10, "with --target: the most requests per `second`")
	timeout := fs.Duration("timeout", 5*time.Second, "bound on each request")
	pos, done, code := c.parseInterspersed(fs, args)
	if done {
		return code
	}
	if len(pos) == 1 && *file == "" {
		*file = pos[0]
	} else if len(pos) > 0 {
		return c.usageError(fmt.Sprintf("unexpected argument %q", pos[0]), "name the configuration with --config FILE")
	}
	if *file == "" {
		return c.usageError("selftest needs a configuration", "run 'rampart selftest --config rampart.yaml'")
	}
	threshold, err := severity.Parse(*failOn)
	if err != nil || threshold == severity.Unknown {
		return c.usageError(fmt.Sprintf("unknown severity %q for --fail-on", *failOn), "use --fail-on low, moderate, high or critical")
	}
	switch *format {
	case "table", "json", "sarif":
	default:
		return c.usageError(fmt.Sprintf("unknown format %q", *format), "use --format table, json or sarif")
	}
	if *target == "" && (*unsafe || *own) {
		return c.usageError("--unsafe and --i-own-this-target apply to --target only", "add --target URL, or drop them: the in-process run sends every case")
	}
	if *budget <= 0 || *rate <= 0 || *timeout <= 0 {
		return c.usageError("--budget, --rate and --timeout must be positive", "")
	}
	var classes []string
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			classes = append(classes, s)
		}
	}
	corpus, err := selftest.Builtin()
	if err != nil {
		return c.errorf(exitUsage, "%v", err)
	}
	if _, err := corpus.Select(classes); err != nil {
		return c.usageError(strings.TrimPrefix(err.Error(), "selftest: "), "run 'rampart selftest --help' and see docs/selftest.md for the classes")
	}
	cfg, errs := config.Read(*file)
	if len(errs) > 0 {
		return c.configError(errs)
	}
	opt := selftest.Options{Corpus: corpus, Classes: classes, Timeout: *timeout}
	var rep *selftest.Report
	if *target != "" {
		rep, err = selftest.RunTarget(ctx, cfg, selftest.TargetOptions{Options: opt, URL: *target, Unsafe: *unsafe, OwnTarget: *own, Budget: *budget, Rate: *rate})
	} else {
		rep, err = selftest.Run(ctx, cfg, opt)
	}
	var cfgErr *selftest.ConfigError
	switch {
	case errors.As(err, &cfgErr):
		return c.configError(cfgErr.Err)
	case errors.Is(err, selftest.ErrNotLoopback):
		return c.usageError(fmt.Sprintf("%s is not on this machine", *target), "add --i-own-this-target to attack a deployment you own")
	case err != nil:
		return c.errorf(exitUsage, "%s", strings.TrimPrefix(err.Error(), "selftest: "))
	}
	switch *format {
	case "json":
		err = rep.WriteJSON(c.stdout)
	case "sarif":
		err = rep.WriteSARIF(c.stdout, buildVersion())
	default:
		err = rep.WriteTable(c.stdout)
	}
	if err != nil {
		return c.errorf(exitUsage, "writing the report: %v", err)
	}
	if rep.Fails(threshold) {
		return exitFindings
	}
	return exitOK
}
