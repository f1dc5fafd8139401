package main

import (
	"context"
	"fmt"

	"github.com/rampartsec/rampart/audit/checklist"
	"github.com/rampartsec/rampart/audit/severity"
)

const auditConfigHelp = `Check a Rampart configuration against the security checklist: every rule
of the checklist, with its severity, where it is in the file and how to
fix it. It loads the file as rampart serve does: everything serve would
refuse to start with — a missing file it names, a value a policy rejects,
a critical finding in production — is an error here, with the same words.
'rampart help config' describes every key.

Exit status: 0 no finding at or above --fail-on; 1 findings at or above
--fail-on; 2 usage error or an invalid configuration.`

func runAuditConfig(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("audit config", "audit config FILE [--format table|json|sarif] [--fail-on SEVERITY]", auditConfigHelp)
	format := fs.String("format", "table", "output `format`: table, json or sarif")
	failOn := fs.String("fail-on", "low", "exit 1 on findings of this `severity` or worse: low, moderate, high or critical")
	pos, done, code := c.parseInterspersed(fs, args)
	if done {
		return code
	}
	if len(pos) != 1 {
		return c.usageError("audit config needs one configuration file", "run 'rampart audit config rampart.yaml'")
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
	// The loader serve uses: whatever serve would refuse is an error
	// here, with the same words.
	cfg, err := loadConfig(pos[0], nil)
	if err != nil {
		return c.configError(err)
	}
	findings := checklist.Run(cfg)
	switch *format {
	case "json":
		err = checklist.WriteJSON(c.stdout, findings)
	case "sarif":
		err = checklist.WriteSARIF(c.stdout, findings, buildVersion())
	default:
		err = checklist.WriteTable(c.stdout, findings)
	}
	if err != nil {
		return c.errorf(exitUsage, "writing the report: %v", err)
	}
	if len(checklist.AtLeast(findings, threshold)) > 0 {
		return exitFindings
	}
	return exitOK
}
