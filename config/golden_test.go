package config_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rampartsec/rampart/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden parses each testdata/golden/*.yaml and compares the normalised
// configuration (defaults filled in, values parsed) with its .golden file.
// Run with -update to regenerate after an intended change.
func TestGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/golden/*.yaml")
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			c, err := config.Load(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := yaml.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(in, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("normalised config differs from %s (run go test -update if intended):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}
