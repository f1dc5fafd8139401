package main

import (
	"context"
	"fmt"
)

// runAudit dispatches the audit subcommands.
func runAudit(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 {
		return c.usageError("audit needs a subcommand", "run 'rampart audit deps' to audit dependencies, 'rampart audit config FILE' to check a configuration, or 'rampart audit db update' to refresh the advisory database")
	}
	switch args[0] {
	case "deps":
		return runAuditDeps(ctx, c, args[1:])
	case "db":
		return runAuditDB(ctx, c, args[1:])
	case "config":
		return runAuditConfig(ctx, c, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(c.stdout, "Usage: rampart audit <deps|config|db> [flags]")
		fmt.Fprintln(c.stdout)
		fmt.Fprintln(c.stdout, "  deps       check lockfiles against known vulnerabilities and supply-chain risks")
		fmt.Fprintln(c.stdout, "  config     check a configuration against the security checklist")
		fmt.Fprintln(c.stdout, "  db update  download the advisory database for offline audits")
		return exitOK
	}
	return c.usageError(fmt.Sprintf("unknown audit subcommand %q", args[0]), didYouMean(args[0], []string{"deps", "config", "db"})+"run 'rampart audit --help' to list the subcommands")
}
