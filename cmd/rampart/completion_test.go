package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// TestBashCompletion sources the generated script in a real bash and
// completes commands, subcommands and flags.
func TestBashCompletion(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("SKIP: bash not installed")
	}
	bin := testutil.BuildRampart(t)
	script, err := exec.Command(bin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rampart.bash")
	if err := os.WriteFile(file, script, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ words, want string }{
		{"rampart se", "serve selftest"},
		{"rampart self", "selftest"},
		{"rampart selftest --fail", "--fail-on"},
		{"rampart selftest --i-own", "--i-own-this-target"},
		{"rampart serv", "serve"},
		{"rampart serve --ups", "--upstream"},
		{"rampart audit d", "deps db"},
		{"rampart audit deps --max", "--max-db-age"},
		{"rampart audit deps ./app --for", "--format"},
		{"rampart audit db u", "update"},
		{"rampart users a", "add"},
		{"rampart users add --rol", "--roles"},
		{"rampart scan --follow", "--follow-cross-origin"},
		{"rampart help con", "config"},
		{"rampart completion z", "zsh"},
	} {
		words := strings.Fields(tc.words)
		cmdline := "source " + file + "; COMP_WORDS=(" + strings.Join(words, " ") + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) + `; _rampart; echo "${COMPREPLY[*]}"`
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, bash, "--norc", "--noprofile", "-c", cmdline).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.words, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != tc.want {
			t.Errorf("%s<TAB>: got %q, want %q", tc.words, got, tc.want)
		}
	}
}
