package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// slowArchiveServer serves an OSV archive of n records at /npm/all.zip in
// small chunks over about a second, so that progress is drawn many times.
func slowArchiveServer(t *testing.T, n int) *httptest.Server {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("GHSA-%05d.json", i), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, `{"id":"GHSA-%05d","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"p%d"},"versions":["1.0.0"]}]}`, i, i)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	body := buf.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		const chunks = 20
		step := len(body)/chunks + 1
		for i := 0; i < len(body); i += step {
			w.Write(body[i:min(i+step, len(body))])
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestDBUpdateProgressOnTerminal runs the real binary in a pseudo-terminal
// (script(1)) and expects a bar redrawn in place with bytes, rate and ETA;
// without a terminal, plain lines with no control characters.
func TestDBUpdateProgressOnTerminal(t *testing.T) {
	t.Parallel()
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("SKIP: script(1) not installed; cannot make a pseudo-terminal")
	}
	bin := testutil.BuildRampart(t)
	srv := slowArchiveServer(t, 3000)
	args := []string{"audit", "db", "update", "--ecosystems", "npm", "--mirror", srv.URL}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	line := bin + " " + strings.Join(args, " ") + " --db " + filepath.Join(t.TempDir(), "db")
	out, err := exec.CommandContext(ctx, scriptBin, "-qfec", line, "/dev/null").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%q", err, out)
	}
	tty := string(out)
	for _, want := range []string{"\r\x1b[K", "npm  [", "#", "/s  ETA ", " MiB", "npm: 3000 records"} {
		if !strings.Contains(tty, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, tty)
		}
	}
	if n := strings.Count(tty, "\r\x1b[K"); n < 3 {
		t.Errorf("the bar was drawn %d times, want it redrawn as the download goes", n)
	}

	cmd := exec.CommandContext(ctx, bin, append(args, "--db", filepath.Join(t.TempDir(), "db"))...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	plain := stderr.String()
	if strings.ContainsAny(plain, "\r\x1b") {
		t.Errorf("control characters in non-terminal progress:\n%q", plain)
	}
	if !strings.Contains(plain, "(100%)") || !strings.Contains(plain, "npm: ") {
		t.Errorf("no plain progress line:\n%s", plain)
	}
}
