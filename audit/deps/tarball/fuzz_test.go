package tarball_test

import (
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/tarball"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

func FuzzRead(f *testing.F) {
	f.Add(npmregistrytest.Tarball(map[string]string{"package.json": "{}", "index.js": "x"}))
	f.Add(npmregistrytest.RawTarball([]npmregistrytest.Entry{{Name: "../x", Body: "y"}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := tarball.Read(data, tarball.Limits{MaxExpanded: 4 << 20})
		if err != nil {
			return
		}
		for _, file := range a.Files {
			if strings.HasPrefix(file.Path, "/") || strings.Contains("/"+file.Path+"/", "/../") {
				t.Fatalf("got path %q outside the package", file.Path)
			}
		}
		if a.Expanded > 4<<20 {
			t.Fatalf("got %d bytes expanded, want at most the bound", a.Expanded)
		}
	})
}
