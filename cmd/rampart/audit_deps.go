package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/ignore"
	"github.com/rampartsec/rampart/audit/deps/lockfile"
	"github.com/rampartsec/rampart/audit/deps/npmaudit"
	"github.com/rampartsec/rampart/audit/deps/osv"
	"github.com/rampartsec/rampart/audit/deps/osvdb"
	"github.com/rampartsec/rampart/config"
)

// staleAfter is the database age past which audits warn.
const staleAfter = 7 * 24 * time.Hour

const auditDepsHelp = `Check the packages pinned by lockfiles against known vulnerabilities and
report supply-chain risks.

PATH is a lockfile or a directory (default "."). A directory is searched
for package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml and
go.mod, skipping node_modules and .git. A file is read as the format its
content shows, whatever it is called.

Advisories come from a local OSV database (--source osv, the default; see
'rampart audit db update') or from the npm registry's bulk advisory
endpoint (--source npm), as npm audit does.

Advisories can be accepted for a while in rampart-audit.yaml beside PATH
(or --ignore-file): each entry needs a reason and an until date at most a
year ahead.

Lockfiles are read only when they are regular files: symbolic links are
not followed (a link could point at the runner's secrets), pipes and
devices are refused, and no line of a file is ever repeated in the output
— a line number and a short reason only. Names are printed with control
characters escaped.

Exit status: 0 clean; 1 findings at or above --fail-on (or signals of the
--fail-on-signal kinds); 2 usage or input error; 3 nothing scanned, entries
that could not be checked, or an advisory database older than --max-db-age.` + inspectHelp

// defaultDBDir returns $RAMPART_OSV_DB, or rampart/osv under the user's
// cache directory.
func (c *cli) defaultDBDir() string { return c.cacheDir("RAMPART_OSV_DB", "osv") }

// cacheDir returns the directory named by the environment variable env,
// or rampart/name under the user's cache directory ($XDG_CACHE_HOME, else
// ~/.cache, else the system's).
func (c *cli) cacheDir(env, name string) string {
	if d := c.getenv(env); d != "" {
		return d
	}
	base := c.getenv("XDG_CACHE_HOME")
	if base == "" {
		if home := c.getenv("HOME"); home != "" {
			base = filepath.Join(home, ".cache")
		} else if d, err := os.UserCacheDir(); err == nil {
			base = d
		}
	}
	return filepath.Join(base, "rampart", name)
}

var goVersionRE = regexp.MustCompile(`^(go)?\d+\.\d+(\.\d+)?((rc|beta)\d+)?$`)

func runAuditDeps(ctx context.Context, c *cli, args []string) int {
	flags := c.newFlagSet("audit deps", "audit deps [PATH] [flags]", auditDepsHelp)
	format := flags.String("format", "table", "output `format`: table, json or sarif")
	dbDir := flags.String("db", c.defaultDBDir(), "OSV database `directory` (all.zip archives or OSV JSON files)")
	source := flags.String("source", "osv", "advisory `source`: osv (offline) or npm (the registry's bulk endpoint)")
	registry := flags.String("registry", npmaudit.DefaultRegistry, "npm registry `URL` for --source npm, and where --inspect and --diff fetch packages")
	failOn := flags.String("fail-on", "low", "exit 1 on findings of this `severity` or worse: low, moderate, high or critical")
	omit := flags.String("omit", "", "dependency `groups` to leave out, comma-separated: dev, optional, peer")
	allPackages := flags.Bool("all-packages", false, "also list every package scanned")
	goVersion := flags.String("go-version", "", "Go toolchain `version` that builds the module (e.g. $(go env GOVERSION)); standard library advisories are matched against it")
	ignoreFile := flags.String("ignore-file", "", "ignores `file` (default: "+ignore.FileName+" beside PATH, when present)")
	maxDBAge := flags.String("max-db-age", "", "oldest advisory database `age` accepted (e.g. 7d, 36h); older ends the audit with exit 3; 0 accepts any age (default 7d when $CI is set, otherwise only a warning)")
	insp := addInspectFlags(flags, c) // --inspect, --installed, --diff, --fail-on-signal
	positional, done, code := c.parseInterspersed(flags, args)
	if done {
		return code
	}
	if len(positional) > 1 {
		return c.usageError(fmt.Sprintf("unexpected argument %q", positional[1]), "audit deps takes one PATH; to scan several projects, name their common directory")
	}
	path := "."
	if len(positional) == 1 {
		path = positional[0]
	}
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if code, ok := insp.validate(c, set); !ok {
		return code
	}
	if *insp.diff != "" {
		return insp.runAuditDiff(ctx, c, positional, *format, *registry, *ignoreFile)
	}
	switch *format {
	case "table", "json", "sarif":
	default:
		return c.usageError(fmt.Sprintf("unknown format %q", *format), "use --format table, json or sarif")
	}
	if *source != "osv" && *source != "npm" {
		return c.usageError(fmt.Sprintf("unknown advisory source %q", *source), "use --source osv (offline database) or --source npm (registry)")
	}
	if set["registry"] && *source != "npm" && !insp.active() {
		return c.usageError("--registry applies only to --source npm", "add --source npm to query a registry, or drop --registry")
	}
	if set["db"] && *source != "osv" {
		return c.usageError("--db applies only to --source osv", "drop --db, or use --source osv")
	}
	threshold, err := osv.ParseSeverity(*failOn)
	if err != nil || threshold == osv.SeverityUnknown {
		return c.usageError(fmt.Sprintf("unknown severity %q for --fail-on", *failOn), "use --fail-on low, moderate, high or critical")
	}
	var groups []string
	for g := range strings.SplitSeq(*omit, ",") {
		switch g = strings.TrimSpace(g); g {
		case "":
		case lockfile.GroupDev, lockfile.GroupOptional, lockfile.GroupPeer:
			groups = append(groups, g)
		default:
			return c.usageError(fmt.Sprintf("unknown dependency group %q for --omit", g), "use --omit with dev, optional or peer, comma-separated")
		}
	}
	if *goVersion != "" && !goVersionRE.MatchString(*goVersion) {
		return c.usageError(fmt.Sprintf("--go-version %q is not a Go version", *goVersion), "pass a version such as 1.23.4 or go1.23.4, e.g. --go-version \"$(go env GOVERSION)\"")
	}
	dbAgeLimit, ok := c.dbAgeLimit(*maxDBAge)
	if !ok {
		return c.usageError(fmt.Sprintf("--max-db-age %q is not a duration", *maxDBAge), "use a unit: 7d, 36h, or 0 to accept any age")
	}
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return c.errorfHint(exitUsage, "run it in a project directory, or name a lockfile", "%s does not exist", path)
		}
		return c.errorf(exitUsage, "%v", err)
	}

	now := time.Now()
	ignores, code, ok := c.loadIgnores(path, info.IsDir(), *ignoreFile, now)
	if !ok {
		return code
	}

	cfg := deps.Config{Paths: []string{path}, Omit: groups, Ignores: ignores, GoVersion: strings.TrimPrefix(*goVersion, "go"), Now: func() time.Time { return now }}
	var dbInfo *osvdb.Info
	var stale string // why the database is too old to trust, when it is
	switch *source {
	case "osv":
		db, di, err := osvdb.Open(*dbDir)
		if err != nil {
			if errors.Is(err, osvdb.ErrNoDatabase) {
				return c.errorfHint(exitUsage, "run 'rampart audit db update' to download it, or pass --db DIR, or use --source npm",
					"no advisory database in %s", *dbDir)
			}
			return c.errorf(exitUsage, "%v", err)
		}
		dbInfo = &di
		cfg.Source = deps.OSVSource{DB: db}
		if age := di.Age(now); dbAgeLimit > 0 && age > dbAgeLimit {
			stale = fmt.Sprintf("the advisory database is %s old (updated %s), older than --max-db-age %s: advisories published since are missing, so the result is incomplete", days(age), di.Updated.Format(time.DateOnly), days(dbAgeLimit))
		} else if age > staleAfter {
			fmt.Fprintf(c.stderr, "rampart: warning: the advisory database is %d days old (updated %s); advisories published since are missing\n", int(age.Hours()/24), di.Updated.Format(time.DateOnly))
			c.hintf("run 'rampart audit db update --db %s'", *dbDir)
		}
		if di.Unevaluable > 0 {
			fmt.Fprintf(c.stderr, "rampart: warning: %d advisory ranges in the database cannot be read and are not matched\n", di.Unevaluable)
		}
	case "npm":
		if _, err := npmaudit.Endpoint(*registry); err != nil {
			return c.usageError(err.Error(), "pass the registry's base URL, e.g. --registry https://registry.npmjs.org")
		}
		cfg.Source = &npmaudit.Source{Registry: *registry}
	}

	report, err := scanUntilDone(ctx, cfg)
	if ctx.Err() != nil {
		return c.errorf(exitNothing, "audit interrupted: nothing was reported")
	}
	if err != nil {
		var se *lockfile.SyntaxError
		if errors.As(err, &se) {
			return c.errorfHint(exitUsage, "fix or regenerate the lockfile with its package manager", "%s", strings.TrimPrefix(err.Error(), "deps: "))
		}
		if errors.Is(err, lockfile.ErrNotRegular) {
			return c.errorfHint(exitUsage, "rampart reads only regular files: links are not followed, pipes and devices are refused; name the real lockfile", "%s", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "deps: "), "lockfile: "))
		}
		if errors.Is(err, lockfile.ErrUnknownFormat) {
			return c.errorfHint(exitUsage, "rampart reads package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml and go.mod", "%s", strings.TrimPrefix(err.Error(), "deps: "))
		}
		hint := "check that the path is readable"
		if *source == "npm" {
			hint = "check --registry and the network, or audit offline with --source osv"
		}
		return c.errorfHint(exitUsage, hint, "%s", strings.TrimPrefix(err.Error(), "deps: "))
	}
	inspectNote := ""
	if insp.active() {
		if inspectNote, code, ok = insp.inspectReport(ctx, c, report, *registry, now); !ok {
			return code
		}
	}
	inspectNote = applySignalIgnores(report, ignores, now, inspectNote)

	switch *format {
	case "json":
		err = deps.WriteJSON(c.stdout, report, *allPackages)
	case "sarif":
		err = deps.WriteSARIF(c.stdout, report, buildVersion())
	default:
		if dbInfo != nil {
			fmt.Fprintf(c.stdout, "Advisories: OSV database %s, %d records, updated %s (%s)\n\n", dbInfo.Dir, dbInfo.Records, dbInfo.Updated.Format(time.DateOnly), ago(dbInfo.Age(now)))
		} else {
			fmt.Fprintf(c.stdout, "Advisories: npm registry %s\n\n", *registry)
		}
		err = deps.WriteTable(c.stdout, report, *allPackages)
		if err == nil && stale != "" {
			// The summary above counts what was checked; this says why
			// it cannot be trusted.
			_, err = fmt.Fprintf(c.stdout, "incomplete: %s\n", stale)
		}
		if err == nil && inspectNote != "" {
			fmt.Fprintln(c.stdout, inspectNote)
		}
	}
	if err != nil {
		return c.errorf(exitUsage, "writing the report: %v", err)
	}

	for _, e := range report.Expired {
		fmt.Fprintf(c.stderr, "rampart: warning: %s:%d: the ignore of %s expired on %s; its findings count again\n", e.File, e.Line, e.ID, e.Until)
	}
	failing := 0
	for _, f := range report.Findings {
		if f.Severity >= threshold || f.Severity == osv.SeverityUnknown {
			failing++
		}
	}
	if failing == 0 {
		if code := insp.failOnSignals(c, report.Signals); code != exitOK {
			return code
		}
	}
	switch {
	case failing > 0:
		return c.errorf(exitFindings, "%d %s at or above %s", failing, pluralize(failing, "finding", "findings"), threshold)
	case stale != "":
		return c.errorfHint(exitNothing, fmt.Sprintf("run 'rampart audit db update --db %s', or raise --max-db-age", *dbDir), "%s", stale)
	case len(report.Gaps) > 0:
		return c.errorfHint(exitNothing, "the result is incomplete: see the entries listed as not checked", "%d %s could not be checked", len(report.Gaps), pluralize(len(report.Gaps), "entry", "entries"))
	case report.Scanned == 0:
		if len(report.Lockfiles) == 0 {
			return c.errorfHint(exitNothing, "name a lockfile, or run in a directory holding package-lock.json, yarn.lock, pnpm-lock.yaml or go.mod", "nothing scanned: no lockfile found in %s", path)
		}
		return c.errorfHint(exitNothing, "check that the lockfile is complete, or that --omit does not leave everything out", "nothing scanned: the lockfiles hold no package to check")
	}
	return exitOK
}

// dbAgeLimit returns the oldest database age the audit accepts: the flag's
// value, else 7 days on a CI runner ($CI set, as every major CI service
// does) and none elsewhere, where staleness is only a warning. 0 means no
// limit.
func (c *cli) dbAgeLimit(flagValue string) (time.Duration, bool) {
	if flagValue == "" {
		if ci := c.getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			return staleAfter, true
		}
		return 0, true
	}
	d, err := config.ParseDuration(flagValue)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// days formats a duration of days for people: "9 days", "36h0m0s".
func days(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}

// scanUntilDone runs the scan until it ends or ctx does (SIGINT, SIGTERM):
// parsing a very large lockfile does not look at ctx, and an audit must
// stop when told to. The abandoned scan ends with the process.
func scanUntilDone(ctx context.Context, cfg deps.Config) (*deps.Report, error) {
	type result struct {
		r   *deps.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := deps.Scan(ctx, cfg)
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		return res.r, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ago formats a database age for people.
func ago(d time.Duration) string {
	switch days := int(d.Hours() / 24); {
	case d < time.Hour:
		return "less than an hour ago"
	case days == 0:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	case days == 1:
		return "1 day ago"
	default:
		return fmt.Sprintf("%d days ago", days)
	}
}

// errorfHint prints an error and a hint and returns code.
func (c *cli) errorfHint(code int, hint, format string, args ...any) int {
	c.errorf(code, format, args...)
	c.hintf("%s", hint)
	return code
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// loadIgnores reads the ignores file: the one named, or rampart-audit.yaml
// beside path when it exists.
func (c *cli) loadIgnores(path string, isDir bool, named string, now time.Time) (*ignore.List, int, bool) {
	file := named
	if file == "" {
		dir := path
		if !isDir {
			dir = filepath.Dir(path)
		}
		file = filepath.Join(dir, ignore.FileName)
		if _, err := os.Lstat(file); errors.Is(err, fs.ErrNotExist) {
			return nil, exitOK, true
		}
	}
	// The ignores file sits in the scanned tree: read like a lockfile
	// (no links, no FIFOs, bounded).
	data, err := lockfile.ReadRegular(file)
	if err != nil {
		return nil, c.errorf(exitUsage, "reading the ignores file: %s", strings.TrimPrefix(err.Error(), "lockfile: ")), false
	}
	l, err := ignore.Parse(file, data, now)
	if err != nil {
		return nil, c.errorfHint(exitUsage, "each ignore needs id, reason and an until date (YYYY-MM-DD) at most a year ahead", "%v", err), false
	}
	return l, exitOK, true
}

func runAuditDB(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] != "update" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
			fmt.Fprint(c.stdout, "Usage: rampart audit db <subcommand> [flags]\n\nSubcommands:\n  update  download the OSV advisory archives for offline audits\n\n")
			return runAuditDB(ctx, c, []string{"update", "--help"})
		}
		hint := "run 'rampart audit db update' to download the advisory database"
		if len(args) == 0 {
			return c.usageError("audit db needs a subcommand", hint)
		}
		return c.usageError(fmt.Sprintf("unknown audit db subcommand %q", args[0]), hint)
	}
	flags := c.newFlagSet("audit db update", "audit db update [PATH] [flags]",
		`Download OSV's advisory archives for offline audits, replacing the local
copy atomically: an interrupted download leaves the previous copy in place.
A download cut short is retried (--retries), resuming where it stopped when
the server accepts ranges. Progress goes to standard error: a bar with
bytes, rate and time left on a terminal, a line every 5 seconds otherwise.

The ecosystems are those of the lockfiles under PATH (default "."), or npm
and Go when there are none.`)
	dbDir := flags.String("db", c.defaultDBDir(), "database `directory` to update")
	mirror := flags.String("mirror", osvdb.DefaultBaseURL, "base `URL` of the archives (<URL>/<ecosystem>/all.zip)")
	ecoFlag := flags.String("ecosystems", "", "`ecosystems` to fetch, comma-separated (npm, Go); default: those of PATH's lockfiles")
	retries := flags.Int("retries", 3, "retry a download cut short this many `times`, resuming where it stopped when the server allows")
	positional, done, code := c.parseInterspersed(flags, args[1:])
	if done {
		return code
	}
	if len(positional) > 1 {
		return c.usageError(fmt.Sprintf("unexpected argument %q", positional[1]), "audit db update takes one PATH")
	}
	var ecosystems []string
	for e := range strings.SplitSeq(*ecoFlag, ",") {
		switch e = strings.TrimSpace(e); strings.ToLower(e) {
		case "":
		case "npm":
			ecosystems = append(ecosystems, osv.EcosystemNPM)
		case "go":
			ecosystems = append(ecosystems, osv.EcosystemGo)
		default:
			return c.usageError(fmt.Sprintf("unsupported ecosystem %q", e), "use --ecosystems npm, Go or npm,Go")
		}
	}
	if len(ecosystems) == 0 {
		path := "."
		if len(positional) == 1 {
			path = positional[0]
		}
		ecosystems = ecosystemsOf(path)
	}
	progress := newProgressPrinter(c.stderr)
	u := &osvdb.Updater{Dir: *dbDir, BaseURL: *mirror, Retries: *retries, Progress: progress.update}
	if *retries == 0 {
		u.Retries = -1 // the flag's 0 means none; the Updater's 0 means its default
	}
	results, err := u.Update(ctx, slices.Compact(ecosystems))
	progress.finish()
	for _, r := range results {
		state := fmt.Sprintf("%d records", r.Meta.Records)
		if r.Unchanged {
			state = "unchanged"
		}
		fmt.Fprintf(c.stdout, "%s: %s (%s)\n", r.Ecosystem, state, filepath.Join(*dbDir, r.Ecosystem, "all.zip"))
	}
	if err != nil {
		return c.errorfHint(exitUsage, "the previous copy, if any, is unchanged; check the network or --mirror and retry", "%v", err)
	}
	return exitOK
}

// ecosystemsOf returns the ecosystems of the lockfiles under path, or npm
// and Go when none is found.
func ecosystemsOf(path string) []string {
	var files []string
	if info, err := os.Stat(path); err == nil && !info.IsDir() {
		files = []string{path}
	} else {
		files, _ = lockfile.Find(path)
	}
	var out []string
	for _, f := range files {
		eco := osv.EcosystemNPM
		if k, _ := lockfile.KindOfName(f); k == lockfile.KindGo {
			eco = osv.EcosystemGo
		}
		if !slices.Contains(out, eco) {
			out = append(out, eco)
		}
	}
	if len(out) == 0 {
		return []string{osv.EcosystemNPM, osv.EcosystemGo}
	}
	slices.Sort(out)
	return out
}
