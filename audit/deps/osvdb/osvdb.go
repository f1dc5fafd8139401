package osvdb

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/deps/osv"
)

// DefaultBaseURL is OSV's public bucket of per-ecosystem archives.
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// MaxArchiveSize bounds one downloaded archive.
const MaxArchiveSize = 4 << 30

// Meta records one archive's download.
type Meta struct {
	URL          string    `json:"url"`
	Downloaded   time.Time `json:"downloaded"`
	Records      int       `json:"records"`
	SHA256       string    `json:"sha256"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
}

// Result reports the update of one ecosystem.
type Result struct {
	Ecosystem string
	Meta      Meta
	// Unchanged reports that the server had nothing newer.
	Unchanged bool
}

// Updater downloads archives into Dir.
type Updater struct {
	// Dir is the database directory. Required.
	Dir string
	// BaseURL is where "<BaseURL>/<ecosystem>/all.zip" is fetched from;
	// empty means DefaultBaseURL.
	BaseURL string
	// Client makes the requests; nil means a client with a 10 minute
	// timeout.
	Client *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// ErrNoDatabase is returned by Open for a directory holding no advisories.
var ErrNoDatabase = errors.New("osvdb: no advisory database")

// Update fetches the archive of each ecosystem and replaces the local copy
// atomically. It stops at the first failure; archives already updated stay
// updated, and the failed one keeps its previous copy.
func (u *Updater) Update(ctx context.Context, ecosystems []string) ([]Result, error) {
	var out []Result
	for _, eco := range ecosystems {
		r, err := u.updateOne(ctx, eco)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (u *Updater) updateOne(ctx context.Context, eco string) (Result, error) {
	if eco == "" || strings.ContainsAny(eco, `/\`) || eco == "." || eco == ".." {
		return Result{}, fmt.Errorf("osvdb: bad ecosystem name %q", eco)
	}
	base := u.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	bu, err := url.Parse(base)
	if err != nil || (bu.Scheme != "https" && bu.Scheme != "http") || bu.Host == "" {
		return Result{}, fmt.Errorf("osvdb: base URL %q is not an http(s) URL", base)
	}
	src := strings.TrimSuffix(base, "/") + "/" + url.PathEscape(eco) + "/all.zip"
	dir := filepath.Join(u.Dir, eco)
	// 0700: the cache is the user's own; archives are written 0600
	// (os.CreateTemp) and renamed into place.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Result{}, fmt.Errorf("osvdb: %w", err)
	}
	now := time.Now
	if u.Now != nil {
		now = u.Now
	}
	old, _ := readMeta(filepath.Join(dir, "all.zip.meta"))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return Result{}, fmt.Errorf("osvdb: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "all.zip")); err == nil && old.ETag != "" {
		req.Header.Set("If-None-Match", old.ETag)
	}
	client := u.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Minute}
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("osvdb: %s: %w", eco, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		old.Downloaded = now().UTC()
		if err := writeMeta(dir, old); err != nil {
			return Result{}, err
		}
		return Result{Ecosystem: eco, Meta: old, Unchanged: true}, nil
	}
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("osvdb: %s: %s answered %s", eco, src, resp.Status)
	}
	tmp, err := os.CreateTemp(dir, "all.zip.*.tmp")
	if err != nil {
		return Result{}, fmt.Errorf("osvdb: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, MaxArchiveSize+1))
	if err != nil {
		return Result{}, fmt.Errorf("osvdb: %s: download interrupted: %w", eco, err)
	}
	if n > MaxArchiveSize {
		return Result{}, fmt.Errorf("osvdb: %s: archive larger than %d bytes", eco, int64(MaxArchiveSize))
	}
	if err := tmp.Sync(); err != nil {
		return Result{}, fmt.Errorf("osvdb: %w", err)
	}
	zr, err := zip.NewReader(tmp, n)
	if err != nil {
		return Result{}, fmt.Errorf("osvdb: %s: downloaded file is not a zip archive: %w", eco, err)
	}
	check := osv.NewDB()
	if err := check.AddZip(src, zr); err != nil {
		return Result{}, err
	}
	if err := tmp.Close(); err != nil {
		return Result{}, fmt.Errorf("osvdb: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, "all.zip")); err != nil {
		return Result{}, fmt.Errorf("osvdb: %w", err)
	}
	committed = true
	syncDir(dir)
	m := Meta{URL: src, Downloaded: now().UTC(), Records: check.Records(), SHA256: hex.EncodeToString(h.Sum(nil)),
		ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	if err := writeMeta(dir, m); err != nil {
		return Result{}, err
	}
	return Result{Ecosystem: eco, Meta: m}, nil
}

// syncDir flushes a directory entry change; failures only weaken
// durability, not correctness, so they are ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func readMeta(path string) (Meta, error) {
	var m Meta
	data, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	err = json.Unmarshal(data, &m)
	return m, err
}

// writeMeta replaces the meta file atomically.
func writeMeta(dir string, m Meta) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("osvdb: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "all.zip.meta.*.tmp")
	if err != nil {
		return fmt.Errorf("osvdb: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("osvdb: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("osvdb: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, "all.zip.meta")); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("osvdb: %w", err)
	}
	return nil
}

// Info describes an opened database.
type Info struct {
	// Dir is the database directory.
	Dir string
	// Updated is when the oldest archive was last downloaded, or, for a
	// directory without meta files (plain OSV JSON), the newest record's
	// modified time.
	Updated time.Time
	// FromDownload reports that Updated is a download time.
	FromDownload bool
	// Records counts the records loaded.
	Records int
	// Unevaluable counts ranges that cannot be decided.
	Unevaluable int
}

// Age returns how old the database is at now.
func (i Info) Age(now time.Time) time.Duration { return now.Sub(i.Updated) }

// Open loads the database in dir: downloaded archives, and any other OSV
// JSON files or archives below it.
func Open(dir string) (*osv.DB, Info, error) {
	info := Info{Dir: dir}
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, info, fmt.Errorf("%w in %s", ErrNoDatabase, dir)
		}
		return nil, info, fmt.Errorf("osvdb: %w", err)
	}
	db, err := osv.Load(dir)
	if err != nil {
		return nil, info, err
	}
	if db.Records() == 0 {
		return nil, info, fmt.Errorf("%w in %s", ErrNoDatabase, dir)
	}
	info.Records, info.Unevaluable = db.Records(), db.Unevaluable()
	info.Updated = db.Newest()
	if st.IsDir() {
		metas, _ := filepath.Glob(filepath.Join(dir, "*", "all.zip.meta"))
		for _, p := range metas {
			m, err := readMeta(p)
			if err != nil {
				continue
			}
			if !info.FromDownload || m.Downloaded.Before(info.Updated) {
				info.Updated, info.FromDownload = m.Downloaded, true
			}
		}
	}
	return db, info, nil
}
