package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// TestScanStaysOnTheNamedHost: a site that redirects to another host ends
// the scan with exit 2 naming the target, and the other host gets nothing;
// with --follow-cross-origin it gets GET requests only.
func TestScanStaysOnTheNamedHost(t *testing.T) {
	t.Parallel()
	bin := testutil.BuildRampart(t)
	var mu sync.Mutex
	var methods []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>elsewhere</title>")
	}))
	defer other.Close()
	// The same machine under another name: a different host to the scan.
	target := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/welcome"
	named := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	}))
	defer named.Close()

	run := func(args ...string) (int, string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"scan", named.URL + "/", "--login", "/login"}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), stdout.String(), stderr.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, stdout.String(), stderr.String()
	}

	code, _, stderr := run()
	if code != exitUsage {
		t.Errorf("exit %d, want %d\n%s", code, exitUsage, stderr)
	}
	if !strings.Contains(stderr, "redirects to "+target) || !strings.Contains(stderr, "--follow-cross-origin") {
		t.Errorf("stderr does not name the target and the flag:\n%s", stderr)
	}
	mu.Lock()
	if len(methods) != 0 {
		t.Errorf("the other host got %v, want nothing", methods)
	}
	methods = nil
	mu.Unlock()

	code, stdout, stderr := run("--follow-cross-origin")
	if code == exitUsage {
		t.Fatalf("exit %d with --follow-cross-origin\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "graded:   "+target) {
		t.Errorf("the report does not grade the target:\n%s", stdout)
	}
	if !strings.Contains(stdout, "worst:    ") {
		t.Errorf("no worst check beside the score:\n%s", stdout)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(methods) == 0 {
		t.Error("the other host got no request with --follow-cross-origin")
	}
	for _, m := range methods {
		if m != http.MethodGet && m != http.MethodHead {
			t.Errorf("the other host got a %s request; only GET may go to a host not named", m)
		}
	}
}
