package tarball

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits bounds what Read accepts. A zero field takes its default.
type Limits struct {
	// MaxCompressed is the largest archive accepted, in bytes. Default
	// 64 MiB.
	MaxCompressed int64
	// MaxExpanded is the largest total size of the files, in bytes.
	// Default 256 MiB.
	MaxExpanded int64
	// MaxFile is the largest single file kept, in bytes; a larger file is a
	// Problem and its content is skipped. Default 32 MiB.
	MaxFile int64
	// MaxFiles is the most entries read. Default 20,000.
	MaxFiles int
	// MaxRatio is the largest expanded/compressed ratio accepted once more
	// than 1 MiB has been expanded. Default 200.
	MaxRatio int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxCompressed <= 0 {
		l.MaxCompressed = 64 << 20
	}
	if l.MaxExpanded <= 0 {
		l.MaxExpanded = 256 << 20
	}
	if l.MaxFile <= 0 {
		l.MaxFile = 32 << 20
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = 20000
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = 200
	}
	return l
}

// ProblemKind classifies a Problem.
type ProblemKind string

// The problems Read reports.
const (
	// ProblemTraversal: an entry name that leaves the package directory.
	ProblemTraversal ProblemKind = "path-traversal"
	// ProblemLink: a symbolic or hard link.
	ProblemLink ProblemKind = "link"
	// ProblemSpecial: a device, FIFO or other non-regular entry.
	ProblemSpecial ProblemKind = "special-file"
	// ProblemBound: a size, count or ratio bound was reached.
	ProblemBound ProblemKind = "bound"
	// ProblemDuplicate: two entries with the same name.
	ProblemDuplicate ProblemKind = "duplicate"
	// ProblemCorrupt: the archive is not a readable gzip tar.
	ProblemCorrupt ProblemKind = "corrupt"
)

// Problem is one entry, or the archive as a whole, that was not read as a
// plain file.
type Problem struct {
	Kind ProblemKind
	// Name is the entry's name as written in the archive; empty for the
	// archive as a whole.
	Name   string
	Detail string
}

func (p Problem) String() string {
	if p.Name == "" {
		return string(p.Kind) + ": " + p.Detail
	}
	return fmt.Sprintf("%s: %q: %s", p.Kind, p.Name, p.Detail)
}

// File is one regular file of the package.
type File struct {
	// Path is the file's path inside the package, with the archive's first
	// directory ("package/" for npm) removed, slash-separated and clean.
	Path string
	// Mode is the permission bits recorded in the archive.
	Mode int64
	Data []byte
}

// Archive is what Read found.
type Archive struct {
	Files    []File
	Problems []Problem
	// Truncated reports that a bound or a corrupt archive stopped the read:
	// Files is then incomplete.
	Truncated bool
	// Expanded is the total size of the file contents read.
	Expanded int64
}

// File returns the file at path p, or nil.
func (a *Archive) File(p string) *File {
	for i := range a.Files {
		if a.Files[i].Path == p {
			return &a.Files[i]
		}
	}
	return nil
}

// ErrTooLarge is returned when the compressed archive exceeds
// Limits.MaxCompressed.
var ErrTooLarge = errors.New("tarball: archive larger than the bound")

// Read reads the gzip-compressed tar in data. It returns an error only when
// the archive is over MaxCompressed; every other defect is a Problem in the
// Archive.
func Read(data []byte, lim Limits) (*Archive, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxCompressed {
		return nil, fmt.Errorf("%w: %d bytes, bound %d", ErrTooLarge, len(data), lim.MaxCompressed)
	}
	a := &Archive{}
	stop := func(kind ProblemKind, detail string) *Archive {
		a.Problems = append(a.Problems, Problem{Kind: kind, Detail: detail})
		a.Truncated = true
		return a
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return stop(ProblemCorrupt, "not gzip: "+err.Error()), nil
	}
	zr.Multistream(false)
	// Bound what the decompressor may produce in all, tar headers included.
	budget := &countingReader{r: zr, left: lim.MaxExpanded + 1<<20}
	tr := tar.NewReader(budget)
	seen := map[string]bool{}
	for n := 0; ; n++ {
		if n >= lim.MaxFiles {
			return stop(ProblemBound, fmt.Sprintf("more than %d entries", lim.MaxFiles)), nil
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return a, nil
		}
		if err != nil {
			if budget.left <= 0 {
				return stop(ProblemBound, fmt.Sprintf("expands beyond %d bytes", lim.MaxExpanded)), nil
			}
			return stop(ProblemCorrupt, "bad tar: "+err.Error()), nil
		}
		name, ok := packagePath(h.Name)
		switch {
		case h.Typeflag == tar.TypeXGlobalHeader || h.Typeflag == tar.TypeDir:
			if !ok {
				a.Problems = append(a.Problems, Problem{Kind: ProblemTraversal, Name: h.Name, Detail: "directory name leaves the package"})
			}
			continue
		case !ok:
			a.Problems = append(a.Problems, Problem{Kind: ProblemTraversal, Name: h.Name, Detail: "entry name leaves the package; not read"})
			continue
		case h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink:
			a.Problems = append(a.Problems, Problem{Kind: ProblemLink, Name: h.Name, Detail: "link to " + fmt.Sprintf("%q", h.Linkname) + "; npm does not install links from a package, so this archive was not made by npm pack"})
			continue
		case h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA && h.Typeflag != tar.TypeGNUSparse:
			a.Problems = append(a.Problems, Problem{Kind: ProblemSpecial, Name: h.Name, Detail: fmt.Sprintf("entry of type %q is not a regular file; not read", h.Typeflag)})
			continue
		}
		if seen[name] {
			a.Problems = append(a.Problems, Problem{Kind: ProblemDuplicate, Name: h.Name, Detail: "a second entry with this name; the installed file may differ from the one inspected"})
		}
		seen[name] = true
		if h.Size > lim.MaxFile {
			a.Problems = append(a.Problems, Problem{Kind: ProblemBound, Name: h.Name, Detail: fmt.Sprintf("%d bytes, over the %d-byte bound for one file; not read", h.Size, lim.MaxFile)})
			a.Truncated = true
			continue
		}
		if a.Expanded+h.Size > lim.MaxExpanded {
			return stop(ProblemBound, fmt.Sprintf("expands beyond %d bytes", lim.MaxExpanded)), nil
		}
		buf := make([]byte, 0, min(h.Size, 1<<20))
		w := bytes.NewBuffer(buf)
		got, err := io.Copy(w, io.LimitReader(tr, h.Size))
		if err != nil || got != h.Size {
			if budget.left <= 0 {
				return stop(ProblemBound, fmt.Sprintf("expands beyond %d bytes", lim.MaxExpanded)), nil
			}
			return stop(ProblemCorrupt, "truncated entry "+fmt.Sprintf("%q", h.Name)), nil
		}
		a.Expanded += got
		if a.Expanded > 1<<20 && a.Expanded/max(int64(len(data)), 1) > lim.MaxRatio {
			return stop(ProblemBound, fmt.Sprintf("expands more than %d times (a compression bomb)", lim.MaxRatio)), nil
		}
		a.Files = append(a.Files, File{Path: name, Mode: h.Mode, Data: w.Bytes()})
	}
}

// packagePath strips the archive's top directory from an entry name and
// reports whether what is left stays inside the package.
func packagePath(name string) (string, bool) {
	if name == "" || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") {
		return "", false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return "", false
		}
	}
	clean := path.Clean(name)
	// npm packs everything under one top directory ("package/" by
	// convention, though some registries differ); drop it.
	if _, rest, ok := strings.Cut(clean, "/"); ok {
		clean = rest
	} else if clean == "." {
		return "", true
	}
	if clean == "" || clean == "." {
		return "", true
	}
	return clean, true
}

// countingReader returns an error once left bytes have been read.
type countingReader struct {
	r    io.Reader
	left int64
}

var errBudget = errors.New("tarball: expansion budget exhausted")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
