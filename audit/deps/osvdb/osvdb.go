package osvdb

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
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
	// Progress, when not nil, is called as an archive downloads: after
	// every chunk written, and once more when it is complete. It runs on
	// the downloading goroutine and must return quickly.
	Progress func(Progress)
	// Retries is how many times a download cut short is retried, resuming
	// where it stopped when the server allows ranges. Zero means 3; a
	// negative value means none.
	Retries int
	// RetryWait is the pause before the first retry, doubled for each
	// next one. Zero means one second.
	RetryWait time.Duration
}

// Progress describes a download in progress.
type Progress struct {
	Ecosystem string
	// Done is how many bytes of the archive are on disk.
	Done int64
	// Total is the archive's size, or -1 when the server did not say.
	Total int64
	// Elapsed is the time since the download started, retries included.
	Elapsed time.Duration
	// Retry counts the retries so far.
	Retry int
	// Complete is set on the last call for an archive.
	Complete bool
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
	defer func() { resp.Body.Close() }()
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
	d := &download{u: u, eco: eco, src: src, client: client, ctx: ctx, tmp: tmp, h: sha256.New(), start: time.Now(),
		total: resp.ContentLength, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"),
		ranges: resp.Header.Get("Accept-Ranges") == "bytes"}
	if d.total <= 0 {
		d.total = -1
	}
	if err := d.run(resp, &resp); err != nil {
		return Result{}, err
	}
	n, h := d.n, d.h
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
		ETag: d.etag, LastModified: d.lastModified}
	if err := writeMeta(dir, m); err != nil {
		return Result{}, err
	}
	return Result{Ecosystem: eco, Meta: m}, nil
}

// download is one archive being written to tmp, across retries.
type download struct {
	u                  *Updater
	eco, src           string
	client             *http.Client
	ctx                context.Context
	tmp                *os.File
	h                  hash.Hash
	n                  int64 // bytes written to tmp and hashed
	total              int64 // the archive's size, -1 when unknown
	start              time.Time
	etag, lastModified string
	ranges             bool // the server accepts Range requests
	retry              int
}

// run copies resp's body to tmp; when the body is cut short it retries,
// asking for the rest (Range, with If-Range so that a changed archive is
// sent whole) when the server accepts ranges, or for all of it again. cur
// is updated to the response being read, so the caller closes the last.
func (d *download) run(resp *http.Response, cur **http.Response) error {
	retries := d.u.Retries
	if retries == 0 {
		retries = 3
	}
	wait := d.u.RetryWait
	if wait <= 0 {
		wait = time.Second
	}
	for {
		err := d.copy(resp.Body)
		if err == nil {
			d.report(true)
			return nil
		}
		if errors.Is(err, errTooLarge) || d.ctx.Err() != nil || d.retry >= retries || retries < 0 {
			if errors.Is(err, errTooLarge) {
				return fmt.Errorf("osvdb: %s: archive larger than %d bytes", d.eco, int64(MaxArchiveSize))
			}
			return fmt.Errorf("osvdb: %s: download interrupted after %d bytes (%d retries): %w", d.eco, d.n, d.retry, err)
		}
		d.retry++
		select {
		case <-d.ctx.Done():
			return fmt.Errorf("osvdb: %s: %w", d.eco, d.ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
		next, err := d.resume()
		if err != nil {
			if d.retry >= retries {
				return err
			}
			continue
		}
		resp.Body.Close()
		resp, *cur = next, next
	}
}

// errTooLarge stops a download past MaxArchiveSize.
var errTooLarge = errors.New("archive too large")

// copy appends body to tmp and the hash, reporting progress.
func (d *download) copy(body io.Reader) error {
	buf := make([]byte, 64<<10)
	for {
		k, err := body.Read(buf)
		if k > 0 {
			if d.n+int64(k) > MaxArchiveSize {
				return errTooLarge
			}
			if _, werr := d.tmp.Write(buf[:k]); werr != nil {
				return werr
			}
			d.h.Write(buf[:k])
			d.n += int64(k)
			d.report(false)
		}
		if err == io.EOF {
			if d.total > 0 && d.n < d.total {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// resume asks for the rest of the archive, or for all of it when the
// server cannot send a part; a restart empties tmp and the hash.
func (d *download) resume() (*http.Response, error) {
	req, err := http.NewRequestWithContext(d.ctx, http.MethodGet, d.src, nil)
	if err != nil {
		return nil, fmt.Errorf("osvdb: %w", err)
	}
	validator := d.etag
	if validator == "" {
		validator = d.lastModified
	}
	partial := d.ranges && validator != "" && d.n > 0
	if partial {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", d.n))
		req.Header.Set("If-Range", validator)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("osvdb: %s: %w", d.eco, err)
	}
	switch {
	case resp.StatusCode == http.StatusPartialContent && partial && strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", d.n)):
		return resp, nil
	case resp.StatusCode == http.StatusOK:
		// Whole again (no range support, or the archive changed).
		if _, err := d.tmp.Seek(0, io.SeekStart); err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("osvdb: %w", err)
		}
		if err := d.tmp.Truncate(0); err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("osvdb: %w", err)
		}
		d.h.Reset()
		d.n = 0
		d.total = resp.ContentLength
		if d.total <= 0 {
			d.total = -1
		}
		d.etag, d.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		d.ranges = resp.Header.Get("Accept-Ranges") == "bytes"
		return resp, nil
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("osvdb: %s: %s answered %s to a retry", d.eco, d.src, resp.Status)
	}
}

func (d *download) report(complete bool) {
	if d.u.Progress != nil {
		d.u.Progress(Progress{Ecosystem: d.eco, Done: d.n, Total: d.total, Elapsed: time.Since(d.start), Retry: d.retry, Complete: complete})
	}
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
