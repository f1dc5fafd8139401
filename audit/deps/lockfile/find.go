package lockfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxFileSize bounds how much of one lockfile is read. Real lockfiles of
// very large monorepos stay well below it.
const MaxFileSize = 256 << 20

// ErrTooLarge is returned for a lockfile larger than MaxFileSize.
var ErrTooLarge = errors.New("lockfile: file larger than 256 MiB")

// Find walks the tree at root and returns the paths of the lockfiles it
// holds, sorted. It skips node_modules and .git directories, and a
// package-lock.json that sits beside an npm-shrinkwrap.json, since npm
// then installs from the shrinkwrap alone. Symbolic links are not
// followed. An unreadable directory is an error.
func Find(root string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("lockfile: %w", err)
		}
		if d.IsDir() {
			if p != root && (d.Name() == "node_modules" || d.Name() == ".git") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if _, ok := KindOfName(d.Name()); !ok {
			return nil
		}
		if d.Name() == "package-lock.json" {
			if _, err := os.Lstat(filepath.Join(filepath.Dir(p), "npm-shrinkwrap.json")); err == nil {
				return nil
			}
		}
		found = append(found, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(found)
	return found, nil
}

// ReadFile reads and parses the lockfile at path as the kind Detect finds:
// the content decides, whatever the file is called. For a go.mod, the go.sum beside it
// (for "x.mod", "x.sum") is read when present.
func ReadFile(path string) (*File, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	kind, ok := Detect(path, data)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownFormat, path)
	}
	var goSum []byte
	if kind == KindGo {
		sum := strings.TrimSuffix(path, ".mod") + ".sum"
		if sum != path {
			switch data, err := readLimited(sum); {
			case err == nil:
				goSum = data
			case !errors.Is(err, fs.ErrNotExist):
				return nil, err
			}
		}
	}
	return ParseKind(kind, path, data, goSum)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lockfile: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("lockfile: %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s", ErrTooLarge, path)
	}
	return data, nil
}
