// Package checklist checks a Rampart configuration against the security
// checklist Rampart implements, and is the production guard.
//
// Each rule has a stable id, the checklist item it belongs to, a severity,
// a one-line finding, a one-line fix and a rationale. `rampart audit config`
// prints the findings; `rampart serve` runs the same rules at start and
// refuses to start in production when any finding is critical.
// docs/checklist.md is generated from the rule table, so the documentation
// cannot drift from the code.
//
// # Adding a rule
//
// Append a Rule to the table in rules.go with a new id (ids are never
// reused or renamed: users silence and track them), and add a case to the
// table in rules_test.go with a configuration that triggers it and one that
// does not; TestEveryRuleIsTested fails until you do. Then run
// `go test ./audit/checklist -update` to regenerate docs/checklist.md.
//
// # Security considerations
//
// Rules fail towards reporting: when a setting cannot be judged (for
// example, an address that does not parse), the rule reports it rather than
// staying silent.
//
// # Concurrency
//
// Run is safe for concurrent use; the rule table is immutable.
package checklist
