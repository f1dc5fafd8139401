package testutil

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// NodeAppsDir returns the absolute path of internal/testutil/nodeapps, the
// Express applications shared by tests (see its app.js for the variants).
func NodeAppsDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testutil: cannot locate the nodeapps directory")
	}
	return filepath.Join(filepath.Dir(file), "nodeapps")
}

var npmInstalls sync.Map // hash -> *npmInstall

type npmInstall struct {
	once sync.Once
	dir  string
	err  error
}

// NodeModules installs the packages locked in dir's package-lock.json into
// a cache shared by every test run (os.UserCacheDir()/rampart-test-node/
// <hash of package.json and package-lock.json>) and returns the
// node_modules path. The install runs once per lock file: later runs, and
// other test processes, reuse it, and npm prefers its offline cache. It
// needs node and npm (RequireBinary) and is bounded to five minutes.
func NodeModules(t testing.TB, dir string) string {
	t.Helper()
	RequireBinary(t, "node")
	npm := RequireBinary(t, "npm")
	pkg, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	sum := sha256.Sum256(append(append(pkg, 0), lock...))
	hash := hex.EncodeToString(sum[:8])
	v, _ := npmInstalls.LoadOrStore(hash, &npmInstall{})
	inst := v.(*npmInstall)
	inst.once.Do(func() { inst.dir, inst.err = installNodeModules(npm, hash, pkg, lock) })
	if inst.err != nil {
		t.Fatalf("testutil: installing npm packages for %s: %v", dir, inst.err)
	}
	return inst.dir
}

func installNodeModules(npm, hash string, pkg, lock []byte) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	root := filepath.Join(cache, "rampart-test-node")
	final := filepath.Join(root, hash)
	modules := filepath.Join(final, "node_modules")
	if fi, err := os.Stat(filepath.Join(final, ".complete")); err == nil && !fi.IsDir() {
		return modules, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	// Install beside the final place and rename, so that concurrent test
	// processes never see half an install.
	tmp, err := os.MkdirTemp(root, hash+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), pkg, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, "package-lock.json"), lock, 0o644); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "NODE_ENV=", "npm_config_update_notifier=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm ci: %w\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another process finished first; use its install.
		if _, serr := os.Stat(filepath.Join(final, ".complete")); serr == nil {
			return modules, nil
		}
		return "", err
	}
	return modules, nil
}

// NodeApp is a running Node.js program started by StartNode.
type NodeApp struct {
	// URL is the program's base URL, http://127.0.0.1:PORT.
	URL string
	// Port is the loopback port it listens on.
	Port int
	// Output holds what it printed on standard error.
	Output *Buffer
}

// StartNode runs `node script` in dir with the packages of dir's lock file
// (NodeModules) and the extra environment, waits until it prints
// "ready PORT" on standard output (at most 20 seconds), and stops it when
// the test ends. The program must listen on 127.0.0.1 and the port given in
// PORT (0: its choice, which it prints).
func StartNode(t testing.TB, dir, script string, env ...string) *NodeApp {
	t.Helper()
	node := RequireBinary(t, "node")
	modules := NodeModules(t, dir)
	cmd := exec.Command(node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "PORT=0")
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	app := &NodeApp{Output: &Buffer{}}
	cmd.Stderr = app.Output
	if err := cmd.Start(); err != nil {
		t.Fatalf("testutil: starting node %s: %v", script, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
					ready <- n
				}
			}
		}
	}()
	select {
	case port := <-ready:
		app.Port = port
		app.URL = "http://127.0.0.1:" + strconv.Itoa(port)
		return app
	case <-exited:
		t.Fatalf("testutil: node %s exited before it was ready:\n%s", script, app.Output)
	case <-time.After(20 * time.Second):
		t.Fatalf("testutil: node %s not ready after 20s:\n%s", script, app.Output)
	}
	return nil
}
