package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// secret is what a hostile lockfile tries to publish in the CI log.
const secret = "//registry.npmjs.org/:_authToken=npm_SECRETSECRETSECRET"

// oneRecordDB writes an OSV database of one npm record, modified at
// modified, and returns its directory.
func oneRecordDB(t *testing.T, modified time.Time) string {
	t.Helper()
	dir := t.TempDir()
	rec := `{"id":"GHSA-test-0001","modified":"` + modified.UTC().Format(time.RFC3339) + `","affected":[{"package":{"name":"left-pad","ecosystem":"npm"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.0"}]}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "GHSA-test-0001.json"), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runDeps runs the real binary's `audit deps` with env added, bounded in
// time, and returns its exit code, standard output and standard error.
func runDeps(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	bin := testutil.BuildRampart(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"audit", "deps"}, args...)...)
	cmd.Env = append(append(os.Environ(), "CI="), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("audit deps %v hung", args)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// writeGoModule writes a go.mod beside whatever go.sum the case makes.
func writeGoModule(t *testing.T, dir string) {
	t.Helper()
	// Go 1.16: go.sum is read for the modules go.mod does not list.
	mod := "module example.com/m\n\ngo 1.16\n\nrequire golang.org/x/text v0.3.0\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAuditDepsHostileFiles(t *testing.T) {
	t.Parallel()
	db := oneRecordDB(t, time.Now())
	outside := filepath.Join(t.TempDir(), ".npmrc")
	if err := os.WriteFile(outside, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(t *testing.T, dir string) string{
		// A go.sum linked to a file outside the tree is not read.
		"go.sum symlink": func(t *testing.T, dir string) string {
			writeGoModule(t, dir)
			if err := os.Symlink(outside, filepath.Join(dir, "go.sum")); err != nil {
				t.Fatal(err)
			}
			return dir
		},
		// A lockfile named on the command line that is a link.
		"named symlink": func(t *testing.T, dir string) string {
			link := filepath.Join(dir, "package-lock.json")
			if err := os.Symlink(outside, link); err != nil {
				t.Fatal(err)
			}
			return link
		},
		// A go.sum linked to a device that never ends.
		"go.sum device": func(t *testing.T, dir string) string {
			writeGoModule(t, dir)
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "go.sum")); err != nil {
				t.Fatal(err)
			}
			return dir
		},
		"named device": func(t *testing.T, dir string) string { return "/dev/zero" },
		// The ignores file beside the lockfile is read the same way.
		"ignores symlink": func(t *testing.T, dir string) string {
			writeGoModule(t, dir)
			if err := os.Symlink(outside, filepath.Join(dir, "rampart-audit.yaml")); err != nil {
				t.Fatal(err)
			}
			return dir
		},
		"ignores FIFO": func(t *testing.T, dir string) string {
			writeGoModule(t, dir)
			if err := syscall.Mkfifo(filepath.Join(dir, "rampart-audit.yaml"), 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			return dir
		},
		// A FIFO with no writer would block an ordinary open forever.
		"go.sum FIFO": func(t *testing.T, dir string) string {
			writeGoModule(t, dir)
			if err := syscall.Mkfifo(filepath.Join(dir, "go.sum"), 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			return dir
		},
		"named FIFO": func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "yarn.lock")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			return p
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := setup(t, t.TempDir())
			for _, format := range []string{"table", "json", "sarif"} {
				code, stdout, stderr := runDeps(t, nil, path, "--db", db, "--format", format)
				if code != exitUsage {
					t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", format, code, exitUsage, stdout, stderr)
				}
				if strings.Contains(stdout+stderr, "SECRET") {
					t.Errorf("%s: the linked file's content reached the output:\n%s%s", format, stdout, stderr)
				}
				if !strings.Contains(stderr, "not a regular file") {
					t.Errorf("%s: stderr does not say the file was refused:\n%s", format, stderr)
				}
			}
		})
	}
}

// TestAuditDepsNoRawLines: lines that do not parse are reported by number
// and reason, never repeated, in every format.
func TestAuditDepsNoRawLines(t *testing.T) {
	t.Parallel()
	db := oneRecordDB(t, time.Now())
	dir := t.TempDir()
	writeGoModule(t, dir)
	// A go.sum that is really someone's credentials file: its lines are
	// not go.sum lines, and must be reported by number only.
	sum := "golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWG=\n" + secret + "\nAWS_SECRET_ACCESS_KEY=SECRETSECRET\n"
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), []byte(sum), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"table", "json", "sarif"} {
		code, stdout, stderr := runDeps(t, nil, dir, "--db", db, "--format", format)
		if code != exitNothing {
			t.Errorf("%s: exit %d, want %d (entries not checked)\n%s", format, code, exitNothing, stderr)
		}
		if strings.Contains(stdout+stderr, "SECRET") {
			t.Errorf("%s: a raw input line reached the output:\n%s%s", format, stdout, stderr)
		}
		if format != "sarif" && !strings.Contains(stdout, "not a go.sum line") {
			t.Errorf("%s: the unparsed lines are not reported:\n%s", format, stdout)
		}
	}
}

// TestAuditDepsEscapes: names with terminal escapes, CR/LF and workflow
// commands are printed escaped, and flagged.
func TestAuditDepsEscapes(t *testing.T) {
	t.Parallel()
	db := oneRecordDB(t, time.Now())
	dir := t.TempDir()
	lock := `{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"},` +
		`"node_modules/left-pad":{"version":"1.0.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.0.0.tgz","integrity":"sha512-x"},` +
		`"node_modules/evil\u001b[2J\u001b]8;;https://evil.example\u0007":{"version":"1.0.0","resolved":"https://registry.npmjs.org/evil/-/evil-1.0.0.tgz","integrity":"sha512-x"},` +
		`"node_modules/forge\r\n::error file=x::owned":{"version":"1.0.0","resolved":"https://registry.npmjs.org/forge/-/forge-1.0.0.tgz","integrity":"sha512-x"},` +
		`"node_modules/bidi\u202eexe.js":{"version":"1.0.0\u001b[31m","resolved":"https://registry.npmjs.org/bidi/-/bidi-1.0.0.tgz","integrity":"sha512-x"}}}`
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lock), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runDeps(t, nil, dir, "--db", db, "--all-packages")
	if code != exitFindings {
		t.Errorf("exit %d, want %d (left-pad is vulnerable)\n%s", code, exitFindings, stderr)
	}
	out := stdout + stderr
	for _, raw := range []string{"\x1b", "\a", "\r", "\u202e", "\n::error"} {
		if strings.Contains(out, raw) {
			t.Errorf("raw %q in the table output:\n%q", raw, out)
		}
	}
	for _, want := range []string{`evil\x1b[2J\x1b]8;;https://evil.example\x07`, `forge\r\n::error file=x::owned`, `bidi\u202eexe.js`, "unprintable-name"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in the output:\n%s", want, stdout)
		}
	}
	// JSON keeps the exact names, encoded.
	_, js, _ := runDeps(t, nil, dir, "--db", db, "--format", "json", "--all-packages")
	if strings.ContainsAny(js, "\x1b\a\r") || !strings.Contains(js, `evil\u001b[2J`) {
		t.Errorf("JSON output does not encode the control characters:\n%s", js)
	}
}

// TestAuditDepsStaleDatabase: past --max-db-age (7 days by default on CI)
// a clean audit exits 3 and says why.
func TestAuditDepsStaleDatabase(t *testing.T) {
	t.Parallel()
	old := oneRecordDB(t, time.Now().AddDate(-4, 0, 0))
	dir := t.TempDir()
	lock := `{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/left-pad":{"version":"1.3.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz","integrity":"sha512-x"}}}`
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lock), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"on CI", []string{"CI=true"}, nil, exitNothing, "older than --max-db-age 7 days"},
		{"flag", nil, []string{"--max-db-age", "30d"}, exitNothing, "older than --max-db-age 30 days"},
		{"not CI", nil, nil, exitOK, "warning: the advisory database is"},
		{"limit off on CI", []string{"CI=true"}, []string{"--max-db-age", "0"}, exitOK, "warning: the advisory database is"},
		{"bad flag", nil, []string{"--max-db-age", "7"}, exitUsage, "use a unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runDeps(t, tc.env, append([]string{dir, "--db", old}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr (want %q):\n%s", code, tc.code, tc.want, stderr)
			}
			if incomplete := strings.Contains(stdout, "\nincomplete: the advisory database is"); incomplete != (tc.code == exitNothing) {
				t.Errorf("summary says incomplete: %v, want %v:\n%s", incomplete, tc.code == exitNothing, stdout)
			}
		})
	}
}

// TestAuditDepsEndsOnSIGTERM: an audit waiting on something (here a
// registry that never answers) ends promptly on SIGTERM, exit 3.
func TestAuditDepsEndsOnSIGTERM(t *testing.T) {
	t.Parallel()
	bin := testutil.BuildRampart(t)
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang)
	dir := t.TempDir()
	lock := `{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/left-pad":{"version":"1.3.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz","integrity":"sha512-x"}}}`
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lock), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "audit", "deps", dir, "--source", "npm", "--registry", srv.URL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitNothing {
			t.Errorf("got %v, want exit %d\n%s", err, exitNothing, stderr.String())
		}
		if d := time.Since(sent); d > 3*time.Second {
			t.Errorf("ended %s after SIGTERM", d)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-waited
		t.Fatal("audit deps did not end on SIGTERM")
	}
}
