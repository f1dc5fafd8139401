package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

func TestServeConfigErrorsAllReported(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	os.WriteFile(path, []byte("upstream: http://127.0.0.1:3000\nlimits:\n  read_header_timeout: 5 seconds\n  max_body_byte: 1MiB\ntrusted_proxies: [\"10.0.0.0/33\"]\n"), 0o600)
	cmd := exec.Command(testutil.BuildRampart(t), "serve", "--config", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if code := exitCode(err); code != 2 {
		t.Fatalf("exit code: got %d, want 2\n%s", code, stderr.String())
	}
	for _, want := range []string{
		"rampart: error: " + path + ":3: limits.read_header_timeout: invalid duration",
		"rampart: error: " + path + ":4: limits.max_body_byte: unknown key",
		"rampart: error: " + path + ":5: trusted_proxies[0]: invalid CIDR",
		"rampart: hint: ",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// TestServeSIGHUP runs the real binary, reloads it with SIGHUP under
// concurrent load (no request may fail), then sends a bad configuration
// (the old one must keep serving), then stops it with SIGTERM.
func TestServeSIGHUP(t *testing.T) {
	t.Parallel()
	var ups []*httptest.Server
	for i := range 2 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "upstream-%d", i)
		}))
		t.Cleanup(srv.Close)
		ups = append(ups, srv)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "rampart.yaml")
	listen := testutil.FreeAddr(t)
	writeCfg := func(upstream, extra string) {
		t.Helper()
		body := fmt.Sprintf("listen: %q\nadmin:\n  listen: \"off\"\nupstream: %q\nlog:\n  access: false\n%s", listen, upstream, extra)
		if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg(ups[0].URL, "")
	cmd := exec.Command(testutil.BuildRampart(t), "serve", "--config", cfgPath)
	logs := &testutil.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	url := "http://" + listen + "/"
	body := func() string {
		resp, err := http.Get(url)
		if err != nil {
			return "error: " + err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if !testutil.WaitFor(10*time.Second, func() bool { return body() == "upstream-0" }) {
		t.Fatalf("gateway never served upstream-0:\n%s", logs)
	}

	// Load while reloading.
	var failures, total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				total.Add(1)
				if b := body(); b != "upstream-0" && b != "upstream-1" {
					failures.Add(1)
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	writeCfg(ups[1].URL, "")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !testutil.WaitFor(10*time.Second, func() bool { return body() == "upstream-1" }) {
		t.Fatalf("SIGHUP did not switch to upstream-1:\n%s", logs)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() > 0 {
		t.Errorf("%d of %d requests failed across the reload", failures.Load(), total.Load())
	}

	// A bad configuration is rejected and the current one keeps serving.
	writeCfg(ups[0].URL, "limits:\n  idle_timeout: forever\n")
	_ = cmd.Process.Signal(syscall.SIGHUP)
	if !testutil.WaitFor(10*time.Second, func() bool { return strings.Contains(logs.String(), "configuration reload failed") }) {
		t.Fatalf("bad reload not logged:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "limits.idle_timeout") {
		t.Errorf("reload error does not name the key:\n%s", logs)
	}
	if b := body(); b != "upstream-1" {
		t.Errorf("after a bad reload: got %q, want upstream-1 still serving", b)
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

// TestServeExitStatus: an invalid configuration exits 2; a valid one that
// cannot start (its port is taken) exits 1, so a supervisor can tell them
// apart.
func TestServeExitStatus(t *testing.T) {
	t.Parallel()
	bin := testutil.BuildRampart(t)
	dir := t.TempDir()
	taken := testutil.Listen(t)
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"invalid", "upstream: http://127.0.0.1:1\nlimits: {idle_timeout: soon}\n", 2},
		{"port taken", fmt.Sprintf("listen: %q\nadmin: {listen: \"off\"}\nupstream: http://127.0.0.1:1\nenv: development\n", taken.Addr().String()), 1},
	} {
		cfg := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
		if err := os.WriteFile(cfg, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", "--config", cfg)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != c.want {
			t.Errorf("%s: got %v, want exit status %d\n%s", c.name, err, c.want, out)
		}
	}
}
