// Command rampart is the security layer in front of a web application: a
// gateway that applies the Node.js security checklist to every request, and a
// set of audits for dependencies, configuration and deployed sites.
//
// This package holds only command-line wiring; the work is done by the
// packages it imports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/printable"
	"github.com/rampartsec/rampart/internal/suggest"
)

// exit codes shared by every command, as documented in the README.
const (
	exitOK       = 0
	exitFindings = 1 // audits: findings at or above the threshold; serve: runtime failure
	exitUsage    = 2 // usage or input error
	exitNothing  = 3 // audits: nothing scanned or entries left unparsed
	// exitStart is serve's status when a valid configuration could not be
	// put to work (a port in use, a failure while serving): distinct from
	// exitUsage, which an invalid configuration gets, so that supervisors
	// can restart the one and not the other.
	exitStart = exitFindings
)

// cli is what every command receives: its streams and a way to report errors
// in one consistent shape.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// getenv reads the environment; tests replace it.
	getenv func(string) string
	// helpers holds the help printer of each flag set made by newFlagSet.
	helpers map[*flag.FlagSet]func()
}

// command is one subcommand. run receives the arguments after the command's
// name and returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) int
	hidden  bool
}

// commands is the explicit list of subcommands, in the order help shows them.
func commands() []command {
	return []command{
		{name: "serve", summary: "run the gateway in front of an app", run: runServe},
		{name: "demo", summary: "run the gateway in front of a built-in sample app", run: runDemo},
		{name: "audit", summary: "audit dependencies or a configuration", run: runAudit},
		{name: "scan", summary: "probe a running site against the security checklist", run: runScan},
		{name: "selftest", summary: "attack a configuration's own protections and report what held", run: runSelftest},
		{name: "users", summary: "manage the built-in user store", run: runUsers},
		{name: "top", summary: "show what the running gateway refuses, live, in the terminal", run: runTop},
		{name: "healthcheck", summary: "probe the admin /healthz (container HEALTHCHECK)", run: runHealthcheck},
		{name: "version", summary: "print the version", run: runVersion},
		{name: "completion", summary: "print a shell completion script", run: runCompletion},
		{name: "help", summary: "show help for a command", run: runHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := newCLI(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	code := c.main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func newCLI(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *cli {
	return &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, helpers: map[*flag.FlagSet]func(){}}
}

func (c *cli) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		c.usage(c.stdout)
		return exitOK
	case "-v", "-version", "--version":
		name = "version"
	}
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd.run(ctx, c, args[1:])
		}
	}
	return c.usageError(fmt.Sprintf("unknown command %q", name), didYouMean(name, commandNames())+"run 'rampart help' to list the commands")
}

// commandNames lists the visible commands.
func commandNames() []string {
	var names []string
	for _, cmd := range commands() {
		if !cmd.hidden {
			names = append(names, cmd.name)
		}
	}
	return names
}

// didYouMean returns "did you mean "x"? " for the candidate nearest to
// name, or "" when none is near.
func didYouMean(name string, candidates []string) string {
	maxDist := 2
	if len(name) <= 3 {
		maxDist = 1
	}
	for _, cand := range candidates {
		// A prefix of a longer name ("serv", "comp") is what the user
		// started to type.
		if len(name) >= 3 && strings.HasPrefix(cand, name) {
			return fmt.Sprintf("did you mean %q? ", cand)
		}
	}
	if s := suggest.Closest(name, candidates, maxDist); s != "" {
		return fmt.Sprintf("did you mean %q? ", s)
	}
	return ""
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: rampart <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, cmd := range commands() {
		if !cmd.hidden {
			fmt.Fprintf(w, "  %-12s %s\n", cmd.name, cmd.summary)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'rampart <command> --help' for a command's flags.")
}

// errorf prints "rampart: error: …" and returns code.
// The message is escaped: it may quote file names or values an attacker
// chose, and must stay one inert line on a terminal or in a CI log.
func (c *cli) errorf(code int, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "rampart: error: %s\n", printable.Escape(fmt.Sprintf(format, args...)))
	return code
}

// hintf prints "rampart: hint: …", escaped as errorf is.
func (c *cli) hintf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "rampart: hint: %s\n", printable.Escape(fmt.Sprintf(format, args...)))
}

// usageError reports a usage mistake with its hint and returns exitUsage.
func (c *cli) usageError(reason, hint string) int {
	c.errorf(exitUsage, "%s", reason)
	if hint != "" {
		c.hintf("%s", hint)
	}
	return exitUsage
}

// newFlagSet returns a flag set for the named command that reports errors
// through usageError instead of printing the full usage on every mistake.
func (c *cli) newFlagSet(name, usageLine, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("rampart "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// flag calls Usage on every parse error; parseFlags prints help only
	// for --help, so the real help printer lives in helpers.
	fs.Usage = func() {}
	c.helpers[fs] = func() {
		w := c.stdout
		fmt.Fprintf(w, "Usage: rampart %s\n\n%s\n", usageLine, description)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nFlags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return fs
}

// parseFlags parses args with fs. It returns done=true with the exit code when
// the command must stop: --help (exit 0) or a usage mistake (exit 2, with a
// hint naming the command's help).
func (c *cli) parseFlags(fs *flag.FlagSet, args []string) (done bool, code int) {
	err := fs.Parse(args)
	if err == nil {
		return false, exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		c.helpers[fs]()
		return true, exitOK
	}
	msg := err.Error()
	hint := "run '" + fs.Name() + " --help' to see its flags"
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		msg = "unknown flag --" + strings.TrimLeft(name, "-")
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if s := didYouMean(strings.TrimLeft(name, "-"), names); s != "" {
			hint = strings.Replace(s, `"`, `"--`, 1) + hint
		}
		return true, c.usageError(msg, hint)
	}
	// "invalid value "5" for flag -timeout: parse error": say what a
	// valid value looks like.
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if _, after, ok := strings.Cut(rest, " for flag -"); ok {
			name, _, _ := strings.Cut(after, ":")
			if f := fs.Lookup(name); f != nil {
				value, _, _ := strings.Cut(rest, " for flag -")
				msg = fmt.Sprintf("invalid value %s for --%s", value, name)
				switch fmt.Sprintf("%T", f.Value) {
				case "*flag.durationValue":
					hint = "use a unit: 5s, 2m, 1h"
					if n := strings.Trim(value, `"`); n != "" && strings.Trim(n, "0123456789") == "" {
						hint = fmt.Sprintf("use a unit: %ss (or %sm, %sh)", n, n, n)
					}
				case "*flag.intValue", "*flag.int64Value", "*flag.uintValue":
					hint = "use a whole number"
				case "*flag.boolValue":
					hint = "use --" + name + " alone, or --" + name + "=false"
				}
			}
		}
	}
	return true, c.usageError(msg, hint)
}

// parseInterspersed parses args with fs, allowing flags before and after
// positional arguments (`rampart audit deps ./app --format json`). It returns
// the positional arguments; a lone "--" ends flag parsing.
func (c *cli) parseInterspersed(fs *flag.FlagSet, args []string) (positional []string, done bool, code int) {
	for {
		if done, code := c.parseFlags(fs, args); done {
			return nil, true, code
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, false, exitOK
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), false, exitOK
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// noArgs reports a usage error when a command that takes no positional
// arguments got some.
func (c *cli) noArgs(fs *flag.FlagSet) (done bool, code int) {
	if fs.NArg() == 0 {
		return false, exitOK
	}
	return true, c.usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)),
		"run '"+fs.Name()+" --help' to see its usage")
}

func runHelp(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 {
		c.usage(c.stdout)
		return exitOK
	}
	if args[0] == "config" {
		return runHelpConfig(c, args[1:])
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] && cmd.name != "help" {
			return cmd.run(ctx, c, append(append([]string(nil), args[1:]...), "--help"))
		}
	}
	return c.usageError(fmt.Sprintf("unknown command %q", args[0]), "run 'rampart help' to list the commands")
}

// runHelpConfig prints the configuration reference built into the binary,
// or the sections of it that document one key.
func runHelpConfig(c *cli, args []string) int {
	switch len(args) {
	case 0:
		fmt.Fprint(c.stdout, config.Reference)
		return exitOK
	case 1:
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			fmt.Fprintln(c.stdout, "Usage: rampart help config [KEY]\n\nPrint the configuration reference: every key, its default and its meaning.\nWith KEY (e.g. auth.sessions or limits.max_body_bytes), print only the\nsections that document it.")
			return exitOK
		}
		ref := config.ReferenceFor(args[0])
		if ref == "" {
			hint := "run 'rampart help config' for the whole reference"
			if s := suggest.Closest(args[0], config.Keys(), 3); s != "" {
				hint = fmt.Sprintf("did you mean %q? ", s) + hint
			}
			return c.usageError(fmt.Sprintf("no configuration key %q", args[0]), hint)
		}
		fmt.Fprint(c.stdout, ref)
		return exitOK
	}
	return c.usageError(fmt.Sprintf("unexpected argument %q", args[1]), "run 'rampart help config KEY' for one key")
}
