package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated examples in docs/")

// docExamples are the examples in the documentation that are output of real
// runs over committed fixtures. Each is the fenced block after the line
// "<!-- example: ID -->" in its document; -update-docs rewrites them.
var docExamples = []struct {
	id, doc string
	dir     string   // working directory, relative to cmd/rampart
	args    []string // rampart's arguments
	stream  string   // "stdout", "stderr" or "both"
	// skip drops leading output lines that depend on the day of the run.
	skip    int
	command string // the command line shown in the example, if any
}{
	{
		id: "audit-deps-table", doc: "../../docs/audit-deps.md",
		dir:  "../../audit/deps/testdata/osv-scanner-oracle",
		args: []string{"audit", "deps", "npm-scratch-project/package-lock.json", "--db", "../advisories/osv-npm-ghsa"},
		// "Advisories: OSV database …, updated … (N days ago)" and a blank.
		stream: "stdout", skip: 2,
	},
	{
		id: "config-errors", doc: "../../docs/config.md",
		dir:     "testdata/docs",
		args:    []string{"serve", "--config", "rampart.yaml"},
		stream:  "stderr",
		command: "$ rampart serve --config rampart.yaml",
	},
}

// TestDocsExamples keeps documented output equal to what the binary
// prints, so that the documentation cannot show severities, versions or
// messages the code does not produce.
func TestDocsExamples(t *testing.T) {
	bin := testutil.BuildRampart(t)
	for _, ex := range docExamples {
		t.Run(ex.id, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, ex.args...)
			cmd.Dir = ex.dir
			cmd.Env = append(os.Environ(), "CI=", "NO_COLOR=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			out := stdout.String()
			switch ex.stream {
			case "stderr":
				out = stderr.String()
			case "both":
				out = stdout.String() + stderr.String()
			}
			lines := strings.SplitAfter(out, "\n")
			if ex.skip > len(lines) {
				t.Fatalf("output too short:\n%s", out)
			}
			got := strings.Join(lines[ex.skip:], "")
			if ex.command != "" {
				got = ex.command + "\n" + got
			}
			doc, err := os.ReadFile(ex.doc)
			if err != nil {
				t.Fatal(err)
			}
			re := regexp.MustCompile("(?s)(<!-- example: " + regexp.QuoteMeta(ex.id) + " [^\n]*-->\n```[a-z]*\n)(.*?)(```\n)")
			m := re.FindSubmatchIndex(doc)
			if m == nil {
				t.Fatalf("%s has no example %q", ex.doc, ex.id)
			}
			if *updateDocs {
				updated := append(append(append([]byte(nil), doc[:m[3]]...), got...), doc[m[6]:]...)
				if err := os.WriteFile(ex.doc, updated, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := string(doc[m[4]:m[5]]); want != got {
				t.Errorf("%s: example %q differs from a real run (go test ./cmd/rampart -run TestDocsExamples -update-docs):\n--- documented\n%s--- real\n%s", filepath.Base(ex.doc), ex.id, want, got)
			}
		})
	}
}
