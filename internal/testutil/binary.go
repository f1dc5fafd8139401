package testutil

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// BuildRampart builds the real rampart binary, once per test binary, and
// returns its path. Tests that run it as a process (signals, replicas, the
// demo) use it.
func BuildRampart(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		// One directory per package directory, reused by later runs of
		// the same package so that binaries do not pile up in the temp dir.
		wd, _ := os.Getwd()
		sum := sha256.Sum256([]byte(wd))
		dir := filepath.Join(os.TempDir(), "rampart-test-bin-"+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "rampart")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/rampartsec/rampart/cmd/rampart").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}
