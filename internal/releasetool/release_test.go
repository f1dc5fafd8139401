package main

import (
	"debug/buildinfo"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestCycloneDX(t *testing.T) {
	t.Parallel()
	info := &buildinfo.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/rampartsec/rampart"},
		Deps: []*debug.Module{
			{Path: "go.yaml.in/yaml/v3", Version: "v3.0.6", Sum: "h1:abc="},
			{Path: "github.com/old/mod", Version: "v1.0.0", Replace: &debug.Module{Path: "github.com/new/mod", Version: "v1.0.1", Sum: "h1:def="}},
		},
		Settings: []debug.BuildSetting{{Key: "CGO_ENABLED", Value: "0"}, {Key: "-trimpath", Value: "true"}, {Key: "-ldflags", Value: "-X main.version=v1"}},
	}
	s := Stamp{Version: "v1.2.3", Commit: "0123456789abcdef", Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a, err := CycloneDX(info, s)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := CycloneDX(info, s)
	if string(a) != string(b) {
		t.Error("two SBOMs of the same build differ")
	}
	var bom struct {
		BOMFormat, SpecVersion, SerialNumber string
		Metadata                             struct {
			Timestamp string
			Component struct{ Name, Version, PURL string }
		}
		Components []struct {
			Name, Version, PURL string
			Properties          []struct{ Name, Value string }
		}
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	if err := json.Unmarshal(a, &bom); err != nil {
		t.Fatal(err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.5" || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") || len(bom.SerialNumber) != 45 {
		t.Errorf("header: %+v", bom)
	}
	if bom.Metadata.Timestamp != "2026-01-02T03:04:05Z" || bom.Metadata.Component.PURL != "pkg:golang/github.com/rampartsec/rampart@v1.2.3" {
		t.Errorf("metadata: %+v", bom.Metadata)
	}
	if len(bom.Components) != 2 || bom.Components[0].PURL != "pkg:golang/github.com/new/mod@v1.0.1" || bom.Components[1].PURL != "pkg:golang/go.yaml.in/yaml/v3@v3.0.6" {
		t.Errorf("components: %+v", bom.Components)
	}
	if len(bom.Dependencies) != 1 || len(bom.Dependencies[0].DependsOn) != 2 {
		t.Errorf("dependencies: %+v", bom.Dependencies)
	}
	if strings.Contains(string(a), "main.version") {
		t.Error("the SBOM carries the raw -ldflags")
	}
}

func TestChecksums(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{"b.bin": "hello\n", "a.json": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Checksums([]string{filepath.Join(dir, "b.bin"), filepath.Join(dir, "a.json")})
	if err != nil {
		t.Fatal(err)
	}
	want := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.json\n" +
		"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  b.bin\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSelectTargets(t *testing.T) {
	t.Parallel()
	if got, err := selectTargets(""); err != nil || len(got) != 4 {
		t.Errorf("default: %v %v", got, err)
	}
	if got, err := selectTargets("linux/arm64, windows/amd64"); err != nil || len(got) != 2 || got[1].OS != "windows" {
		t.Errorf("two: %v %v", got, err)
	}
	if _, err := selectTargets("plan9/386"); err == nil {
		t.Error("an unsupported target was accepted")
	}
}

func TestBinaryName(t *testing.T) {
	t.Parallel()
	s := Stamp{Version: "v1.0.0"}
	if got := BinaryName(s, Target{"windows", "amd64"}); got != "rampart_v1.0.0_windows_amd64.exe" {
		t.Errorf("got %s", got)
	}
	if got := BinaryName(s, Target{"linux", "arm64"}); got != "rampart_v1.0.0_linux_arm64" {
		t.Errorf("got %s", got)
	}
}
