package main

import (
	"archive/zip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"rampart": func() {
			c := newCLI(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
			os.Exit(c.main(context.Background(), os.Args[1:]))
		},
	})
}

// TestScript runs every script in testdata/script against the real
// binary.
func TestScript(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Keep the default database inside the script's work directory.
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv("RAMPART_OSV_DB", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"adminapi":    cmdAdminAPI,
			"exitcode":    cmdExitCode,
			"ignorefile":  cmdIgnoreFile,
			"npmregistry": cmdNPMRegistry,
			"osvmirror":   cmdOSVMirror,
			"scansite":    cmdScanSite,
		},
	})
}

// cmdAdminAPI starts a stand-in admin API of a running gateway that asks
// for TOKEN, with a little traffic (seededAdminAPI), and sets $ADMIN to its
// host:port.
func cmdAdminAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: adminapi TOKEN")
	}
	srv := httptest.NewServer(seededAdminAPI(args[0]).Handler(nil))
	ts.Defer(srv.Close)
	ts.Setenv("ADMIN", strings.TrimPrefix(srv.URL, "http://"))
}

// cmdNPMRegistry serves FILE as the answer of the bulk advisory endpoint
// on a loopback port and sets $NPM_REGISTRY to its URL. With a second
// argument "fail", it answers 503 instead.
func cmdNPMRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: npmregistry FILE [fail]")
	}
	answer := []byte(ts.ReadFile(args[0]))
	fail := len(args) > 1 && args[1] == "fail"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/-/npm/v1/security/advisories/bulk" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	ts.Defer(srv.Close)
	ts.Setenv("NPM_REGISTRY", srv.URL)
}

// cmdOSVMirror serves DIR/<ecosystem>/*.json as <URL>/<ecosystem>/all.zip
// on a loopback port and sets $OSV_MIRROR to its URL.
func cmdOSVMirror(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: osvmirror DIR")
	}
	root := ts.MkAbs(args[0])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		eco, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/all.zip")
		files, _ := filepath.Glob(filepath.Join(root, filepath.Base(eco), "*.json"))
		if !ok || len(files) == 0 {
			http.NotFound(w, r)
			return
		}
		zw := zip.NewWriter(w)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			fw, _ := zw.Create(filepath.Base(f))
			fw.Write(data)
		}
		zw.Close()
	}))
	ts.Defer(srv.Close)
	ts.Setenv("OSV_MIRROR", srv.URL)
}

// cmdExitCode runs "rampart ARGS…" like exec does and checks that it exits
// with status N: exitcode N rampart ARGS…
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROGRAM [ARGS…]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	path, err := exec.LookPath(args[1])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	cmd := exec.Command(path, args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "XDG_CACHE_HOME", "RAMPART_OSV_DB", "NPM_REGISTRY", "OSV_MIRROR", "WORK"} {
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	// testscript.Main runs the named command when this variable is set.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GO_") || strings.HasPrefix(kv, "GOCOVERDIR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	err = cmd.Run()
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("got exit status %d, want %d", got, want)
	}
}

// cmdIgnoreFile writes an ignores file accepting ID for DAYS days from
// today (negative: expired): ignorefile FILE ID DAYS [PACKAGE]
func cmdIgnoreFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: ignorefile FILE ID DAYS [PACKAGE]")
	}
	days, err := strconv.Atoi(args[2])
	if err != nil {
		ts.Fatalf("ignorefile: %v", err)
	}
	until := time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly)
	body := "ignore:\n  - id: " + args[1] + "\n"
	if len(args) > 3 {
		body += "    package: " + args[3] + "\n"
	}
	body += "    reason: build-time only\n    until: " + until + "\n"
	if err := os.WriteFile(ts.MkAbs(args[0]), []byte(body), 0o644); err != nil {
		ts.Fatalf("ignorefile: %v", err)
	}
}
