package tarball_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/tarball"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

func TestReadPlain(t *testing.T) {
	t.Parallel()
	data := npmregistrytest.Tarball(map[string]string{"package.json": `{"name":"a"}`, "lib/index.js": "module.exports = 1\n"})
	a, err := tarball.Read(data, tarball.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Problems) != 0 || a.Truncated {
		t.Fatalf("got problems %v, want none", a.Problems)
	}
	if f := a.File("lib/index.js"); f == nil || string(f.Data) != "module.exports = 1\n" {
		t.Fatalf("got %+v, want lib/index.js", a.Files)
	}
}

func TestReadHostile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []npmregistrytest.Entry
		want    tarball.ProblemKind
	}{
		{"dot-dot", []npmregistrytest.Entry{{Name: "package/../../evil.sh", Body: "x"}}, tarball.ProblemTraversal},
		{"absolute", []npmregistrytest.Entry{{Name: "/etc/cron.d/evil", Body: "x"}}, tarball.ProblemTraversal},
		{"backslash", []npmregistrytest.Entry{{Name: "package\\..\\..\\evil", Body: "x"}}, tarball.ProblemTraversal},
		{"symlink", []npmregistrytest.Entry{{Name: "package/link", Type: tar.TypeSymlink, Linkname: "/etc/passwd"}}, tarball.ProblemLink},
		{"hardlink", []npmregistrytest.Entry{{Name: "package/link", Type: tar.TypeLink, Linkname: "../../x"}}, tarball.ProblemLink},
		{"fifo", []npmregistrytest.Entry{{Name: "package/fifo", Type: tar.TypeFifo}}, tarball.ProblemSpecial},
		{"duplicate", []npmregistrytest.Entry{{Name: "package/a.js", Body: "1"}, {Name: "package/a.js", Body: "2"}}, tarball.ProblemDuplicate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := tarball.Read(npmregistrytest.RawTarball(tc.entries), tarball.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Problems) == 0 || a.Problems[0].Kind != tc.want {
				t.Fatalf("got %v, want a %s problem", a.Problems, tc.want)
			}
			for _, f := range a.Files {
				if strings.Contains(f.Path, "..") || strings.HasPrefix(f.Path, "/") {
					t.Fatalf("got file %q outside the package", f.Path)
				}
			}
		})
	}
}

func bomb(size int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	_ = tw.WriteHeader(&tar.Header{Name: "package/zeros", Size: int64(size), Mode: 0o644, Typeflag: tar.TypeReg})
	chunk := make([]byte, 1<<16)
	for left := size; left > 0; left -= len(chunk) {
		_, _ = tw.Write(chunk[:min(left, len(chunk))])
	}
	_ = tw.Close()
	_ = zw.Close()
	return buf.Bytes()
}

func TestReadBounds(t *testing.T) {
	t.Parallel()
	t.Run("ratio", func(t *testing.T) {
		a, err := tarball.Read(bomb(16<<20), tarball.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !a.Truncated || a.Problems[len(a.Problems)-1].Kind != tarball.ProblemBound {
			t.Fatalf("got %v truncated=%v, want a bound problem", a.Problems, a.Truncated)
		}
	})
	t.Run("expanded", func(t *testing.T) {
		a, _ := tarball.Read(bomb(4<<20), tarball.Limits{MaxExpanded: 1 << 20, MaxFile: 8 << 20, MaxRatio: 1 << 30})
		if !a.Truncated {
			t.Fatalf("got %v, want truncated", a.Problems)
		}
	})
	t.Run("one file", func(t *testing.T) {
		a, _ := tarball.Read(bomb(2<<20), tarball.Limits{MaxFile: 1 << 20, MaxRatio: 1 << 30})
		if !a.Truncated || len(a.Files) != 0 {
			t.Fatalf("got %v, want the file skipped", a.Problems)
		}
	})
	t.Run("files", func(t *testing.T) {
		files := map[string]string{}
		for i := range 50 {
			files[strings.Repeat("d/", i%5)+string(rune('a'+i%26))+strings.Repeat("x", i)] = "x"
		}
		a, _ := tarball.Read(npmregistrytest.Tarball(files), tarball.Limits{MaxFiles: 10})
		if !a.Truncated || len(a.Files) > 10 {
			t.Fatalf("got %d files, want at most 10 and truncated", len(a.Files))
		}
	})
	t.Run("compressed", func(t *testing.T) {
		if _, err := tarball.Read(make([]byte, 2048), tarball.Limits{MaxCompressed: 1024}); err == nil {
			t.Fatal("got no error, want ErrTooLarge")
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		a, err := tarball.Read([]byte("not gzip"), tarball.Limits{})
		if err != nil || !a.Truncated || a.Problems[0].Kind != tarball.ProblemCorrupt {
			t.Fatalf("got %v %v, want a corrupt problem", a, err)
		}
	})
}
