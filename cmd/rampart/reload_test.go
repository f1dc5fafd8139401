package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// TestServeWatchAndReload runs the real binary with --watch: an edit of the
// configuration file, and a new certificate written over the file the
// configuration names, are picked up without a signal; POST /reload on the
// admin listener reloads on demand and answers what happened; an invalid
// file is refused with its errors while the running configuration serves on.
func TestServeWatchAndReload(t *testing.T) {
	t.Parallel()
	var ups []string
	for i := range 2 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "upstream-%d", i)
		}))
		t.Cleanup(srv.Close)
		ups = append(ups, srv.URL)
	}
	dir := t.TempDir()
	certFile, keyFile, _ := testutil.SelfSignedCert(t, dir)
	cfgPath := filepath.Join(dir, "rampart.yaml")
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	write := func(body string) {
		t.Helper()
		// Write then rename, as editors and Kubernetes do.
		tmp := cfgPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	cfg := func(upstream string) string {
		return fmt.Sprintf("listen: %q\nadmin:\n  listen: %q\nupstream: %q\ntls:\n  cert: %q\n  key: %q\nlog:\n  access: false\n",
			listen, admin, upstream, certFile, keyFile)
	}
	write(cfg(ups[0]))
	g := &gatewayProc{cmd: rampartCmd(t, "serve", "--config", cfgPath, "--watch"), logs: &testutil.Buffer{}, done: make(chan struct{})}
	g.cmd.Stderr = g.logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.cmd.Wait(); close(g.done) }()
	t.Cleanup(g.stop)

	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
	body := func() string {
		res, err := client.Get("https://" + listen + "/")
		if err != nil {
			return "error: " + err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	serial := func() string {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", listen, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return ""
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	if !testutil.WaitFor(10*time.Second, func() bool { return body() == "upstream-0" }) {
		t.Fatalf("never served upstream-0:\n%s", g.logs)
	}

	// --watch: the configuration file changes.
	write(cfg(ups[1]))
	if !testutil.WaitFor(10*time.Second, func() bool { return body() == "upstream-1" }) {
		t.Fatalf("--watch did not pick up the new upstream:\n%s", g.logs)
	}

	// --watch: a file the configuration names changes.
	before := serial()
	time.Sleep(20 * time.Millisecond)
	if _, _, _, err := testutil.WriteSelfSignedCert(dir, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !testutil.WaitFor(10*time.Second, func() bool { s := serial(); return s != "" && s != before }) {
		t.Fatalf("--watch did not pick up the new certificate:\n%s", g.logs)
	}

	// --watch: an invalid file is refused, the running configuration stays.
	write(cfg(ups[0]) + "limits:\n  idle_timeout: forever\n")
	if !testutil.WaitFor(10*time.Second, func() bool {
		return strings.Contains(g.logs.String(), "configuration reload failed (file changed)")
	}) {
		t.Fatalf("invalid file not reported:\n%s", g.logs)
	}
	if b := body(); b != "upstream-1" {
		t.Errorf("after an invalid file: got %q, want upstream-1 still serving", b)
	}

	// POST /reload answers with the same errors.
	post := func() (int, map[string]any) {
		res, err := http.Post("http://"+admin+"/reload", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, out
	}
	code, out := post()
	if code != http.StatusUnprocessableEntity || out["result"] != "failure" || !strings.Contains(fmt.Sprint(out["errors"]), "limits.idle_timeout") {
		t.Errorf("POST /reload of an invalid file: got %d %v, want 422 naming limits.idle_timeout", code, out)
	}

	// Fixed: POST /reload succeeds at once (before the watcher's next look).
	write(cfg(ups[0]))
	code, out = post()
	if code != http.StatusOK || out["result"] != "success" {
		t.Errorf("POST /reload: got %d %v, want 200 success", code, out)
	}
	if b := body(); b != "upstream-0" {
		t.Errorf("after POST /reload: got %q, want upstream-0", b)
	}
	if !g.running() {
		t.Fatalf("gateway exited:\n%s", g.logs)
	}
}

func TestServeWatchNeedsConfig(t *testing.T) {
	t.Parallel()
	out, err := rampartCmd(t, "serve", "--upstream", "http://127.0.0.1:1", "--watch").CombinedOutput()
	if exitCode(err) != 2 || !strings.Contains(string(out), "--watch needs --config FILE") {
		t.Errorf("got exit %d, %s", exitCode(err), out)
	}
}

// rampartCmd returns a command running the real binary with args.
func rampartCmd(t *testing.T, args ...string) *osexec.Cmd {
	t.Helper()
	return osexec.Command(testutil.BuildRampart(t), args...)
}
