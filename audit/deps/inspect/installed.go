package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/osv"
	"github.com/rampartsec/rampart/audit/deps/tarball"
)

// Bounds of the installed-tree walk.
const (
	maxInstalledPackages = 50000
	maxInstalledDepth    = 32
	maxInstalledRead     = 256 << 20
)

// installedIndex maps "name@version" to the directories holding that
// package in an installed tree.
type installedIndex struct {
	root     string
	dirs     map[string][]string
	versions map[string][]string // name → versions installed
}

// indexInstalled walks a node_modules tree (dir itself, or dir/node_modules)
// without following links.
func indexInstalled(dir string) (*installedIndex, error) {
	root := dir
	if info, err := os.Lstat(filepath.Join(dir, "node_modules")); err == nil && info.IsDir() {
		root = filepath.Join(dir, "node_modules")
	}
	info, err := os.Lstat(root)
	if err != nil {
		return nil, fmt.Errorf("installed tree: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("installed tree: %s is not a directory", root)
	}
	idx := &installedIndex{root: root, dirs: map[string][]string{}, versions: map[string][]string{}}
	n := 0
	var walk func(nm string, depth int) error
	walk = func(nm string, depth int) error {
		if depth > maxInstalledDepth {
			return nil
		}
		entries, err := os.ReadDir(nm)
		if err != nil {
			return nil // an unreadable directory holds nothing we can check
		}
		for _, e := range entries {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue // links (workspaces) are not followed
			}
			pkgDirs := []string{filepath.Join(nm, e.Name())}
			if strings.HasPrefix(e.Name(), "@") {
				pkgDirs = nil
				scoped, _ := os.ReadDir(filepath.Join(nm, e.Name()))
				for _, s := range scoped {
					if s.IsDir() {
						pkgDirs = append(pkgDirs, filepath.Join(nm, e.Name(), s.Name()))
					}
				}
			}
			for _, pd := range pkgDirs {
				if n++; n > maxInstalledPackages {
					return fmt.Errorf("installed tree: more than %d packages", maxInstalledPackages)
				}
				if pj, err := readPackageJSON(filepath.Join(pd, "package.json")); err == nil && pj.Name != "" {
					k := pj.Name + "@" + pj.Version
					if len(idx.dirs[k]) == 0 {
						idx.versions[pj.Name] = append(idx.versions[pj.Name], pj.Version)
					}
					idx.dirs[k] = append(idx.dirs[k], pd)
				}
				if err := walk(filepath.Join(pd, "node_modules"), depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return nil, err
	}
	return idx, nil
}

func readPackageJSON(p string) (packageJSON, error) {
	var pj packageJSON
	data, err := readRegular(p, 1<<20)
	if err != nil {
		return pj, err
	}
	err = json.Unmarshal(data, &pj)
	return pj, err
}

var errNotRegular = errors.New("not a regular file")

// readRegular reads a regular file (never through a link) of at most
// limit bytes.
func readRegular(p string, limit int64) ([]byte, error) {
	info, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errNotRegular
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, over the %d-byte bound", p, info.Size(), limit)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// installedFiles reads the installed copy of a package when no archive
// could be had: its code can still be analysed, but not verified.
func (r *run) installedFiles(pr *pkgRun) []tarball.File {
	if r.installed == nil {
		return nil
	}
	dirs := r.installed.dirs[pr.p.Name+"@"+pr.p.Version]
	if len(dirs) == 0 {
		pr.gap("not installed under " + r.installed.root + " and no archive could be had")
		return nil
	}
	var files []tarball.File
	var total int64
	lim := r.cfg.Archive
	maxFiles := lim.MaxFiles
	if maxFiles <= 0 {
		maxFiles = 20000
	}
	dir := dirs[0]
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == "node_modules" && p != dir {
			return fs.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if len(files) >= maxFiles || total > maxInstalledRead {
			return fs.SkipAll
		}
		data, err := readRegular(p, 32<<20)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		total += int64(len(data))
		files = append(files, tarball.File{Path: filepath.ToSlash(rel), Data: data})
		return nil
	})
	if err != nil {
		pr.gap("installed copy: " + err.Error())
	}
	pr.gap("analysed the installed copy in " + dir + ": the archive could not be had, so its integrity is not verified")
	return files
}

// checkInstalledVersion reports a package installed at other versions
// than the lockfile pins.
func (r *run) checkInstalledVersion(pr *pkgRun) {
	if len(r.installed.dirs[pr.p.Name+"@"+pr.p.Version]) == 0 && len(r.installed.versions[pr.p.Name]) > 0 {
		pr.signal(deps.SignalInstalledModified, osv.SeverityModerate, "", 0,
			fmt.Sprintf("the lockfile pins %s but %s holds %s: the installed tree does not match the lockfile",
				pr.p.Version, filepath.ToSlash(r.installed.root), strings.Join(r.installed.versions[pr.p.Name], ", ")))
	}
}

// checkInstalled compares the installed copies of a package with its
// verified archive.
func (r *run) checkInstalled(pr *pkgRun, a *tarball.Archive) {
	dirs := r.installed.dirs[pr.p.Name+"@"+pr.p.Version]
	for _, dir := range dirs {
		rel, _ := filepath.Rel(filepath.Dir(r.installed.root), dir)
		type change struct {
			path string
			line int
			why  string
		}
		var changed []change
		var missing []string
		for _, f := range a.Files {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			// Read a little past the archive's size so a grown file can be
			// compared line by line, and old npm's additions to
			// package.json fit.
			limit := min(max(2*int64(len(f.Data)), 1<<20), 64<<20)
			got, err := readRegular(p, limit)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				missing = append(missing, f.Path)
			case errors.Is(err, errNotRegular):
				changed = append(changed, change{f.Path, 0, "is no longer a regular file (a link or a directory)"})
			case err != nil:
				changed = append(changed, change{f.Path, 0, "differs in size"})
			case !bytes.Equal(got, f.Data) && !(f.Path == "package.json" && samePackageJSON(got, f.Data)):
				changed = append(changed, change{f.Path, firstDiffLine(got, f.Data), "differs"})
			}
		}
		for _, c := range changed {
			where := path.Join(filepath.ToSlash(rel), c.path)
			if c.line > 0 {
				where = fmt.Sprintf("%s:%d", where, c.line)
			}
			pr.signal(deps.SignalInstalledModified, osv.SeverityCritical, c.path, c.line,
				fmt.Sprintf("%s %s from the archive the lockfile pins (integrity verified): changed after install", where, c.why))
		}
		if len(pr.profile.Scripts) == 0 {
			// Without install scripts nothing legitimately adds code to an
			// installed package; with them, build output would.
			if extra := extraCode(dir, a); len(extra) > 0 {
				pr.signal(deps.SignalInstalledModified, osv.SeverityHigh, extra[0], 0,
					fmt.Sprintf("%d code %s in %s that the archive does not hold (first: %s); the package has no install script that would make them",
						len(extra), pluralWord(len(extra), "file", "files"), filepath.ToSlash(rel), extra[0]))
			}
		}
		if len(missing) > 0 {
			pr.signal(deps.SignalInstalledModified, osv.SeverityModerate, missing[0], 0,
				fmt.Sprintf("%d files of the archive are missing from %s (first: %s)", len(missing), filepath.ToSlash(rel), missing[0]))
		}
	}
}

// samePackageJSON compares two package.json files ignoring the "_"
// fields older npm versions add at install.
func samePackageJSON(a, b []byte) bool {
	var ma, mb map[string]any
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return false
	}
	for _, m := range []map[string]any{ma, mb} {
		for k := range m {
			if strings.HasPrefix(k, "_") {
				delete(m, k)
			}
		}
	}
	ja, _ := json.Marshal(ma)
	jb, _ := json.Marshal(mb)
	return bytes.Equal(ja, jb)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// extraCode lists the JavaScript and native files under dir (outside
// nested node_modules) that the archive does not hold.
func extraCode(dir string, a *tarball.Archive) []string {
	have := make(map[string]bool, len(a.Files))
	for _, f := range a.Files {
		have[f.Path] = true
	}
	var extra []string
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > 20000 {
			return fs.SkipAll
		}
		if d.IsDir() && d.Name() == "node_modules" && p != dir {
			return fs.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch path.Ext(rel) {
		case ".js", ".cjs", ".mjs", ".node":
			if !have[rel] {
				extra = append(extra, rel)
			}
		}
		return nil
	})
	return extra
}

// firstDiffLine returns the 1-based line of the first byte where a and b
// differ.
func firstDiffLine(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	return bytes.Count(a[:i], []byte("\n")) + 1
}
