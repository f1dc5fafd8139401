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

// ErrNotRegular is returned for a lockfile path that is not a regular
// file: a symbolic link (never followed — it could point at the runner's
// secrets outside the scanned tree), a FIFO (which would block the audit
// forever), a device or a socket.
var ErrNotRegular = errors.New("lockfile: not a regular file")

// ReadRegular reads the file at path as lockfiles are read: only when it
// is a regular file (a symbolic link, FIFO, device or socket is
// ErrNotRegular), without blocking, and at most MaxFileSize bytes. It is
// for other files an audit reads from an untrusted tree, such as its
// ignores file.
func ReadRegular(path string) ([]byte, error) { return readLimited(path) }

// readLimited reads the regular file at path, at most MaxFileSize bytes.
// The file is checked with Lstat before it is opened, opened without
// following links and without blocking, and checked again once open, so
// that swapping it for a link or a FIFO in between is caught too.
func readLimited(path string) ([]byte, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("lockfile: %w", err)
	}
	if err := regular(path, info); err != nil {
		return nil, err
	}
	if info.Size() > MaxFileSize {
		return nil, fmt.Errorf("%w: %s", ErrTooLarge, path)
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("lockfile: %w", err)
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("lockfile: %s: %w", path, err)
	}
	if err := regular(path, opened); err != nil {
		return nil, err
	}
	if !os.SameFile(info, opened) {
		return nil, fmt.Errorf("%w: %s changed while it was opened", ErrNotRegular, path)
	}
	// One allocation of the size fstat reported (plus one byte, to see a
	// file that grew): io.ReadAll's doubling would allocate about twice
	// the file on the way.
	data := make([]byte, 0, min(opened.Size(), MaxFileSize)+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // grew meanwhile: let append size it
		}
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if len(data) > MaxFileSize {
			return nil, fmt.Errorf("%w: %s", ErrTooLarge, path)
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, fmt.Errorf("lockfile: %s: %w", path, err)
		}
	}
}

// regular returns ErrNotRegular, saying what path is instead, unless info
// is a regular file's.
func regular(path string, info fs.FileInfo) error {
	m := info.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link, which is not followed", ErrNotRegular, path)
	case m&fs.ModeNamedPipe != 0:
		return fmt.Errorf("%w: %s is a named pipe", ErrNotRegular, path)
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return fmt.Errorf("%w: %s is a device", ErrNotRegular, path)
	case m.IsDir():
		return fmt.Errorf("%w: %s is a directory", ErrNotRegular, path)
	default:
		return fmt.Errorf("%w: %s is a %s", ErrNotRegular, path, m.Type())
	}
}
