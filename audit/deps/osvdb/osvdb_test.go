package osvdb_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/deps/osvdb"
)

func archive(t *testing.T, records map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range records {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func record(id, version string) string {
	return fmt.Sprintf(`{"id":%q,"modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":[%q]}]}`, id, version)
}

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func TestUpdateReplacesAtomically(t *testing.T) {
	t.Parallel()
	good := archive(t, map[string]string{"GHSA-1.json": record("GHSA-1", "1.0.0"), "GHSA-2.json": record("GHSA-2", "2.0.0")})
	var mode atomic.Value
	mode.Store("good")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/npm/all.zip" {
			http.NotFound(w, r)
			return
		}
		switch mode.Load() {
		case "good":
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
			w.Write(good)
		case "truncated":
			w.Header().Set("Content-Length", fmt.Sprint(len(good)))
			w.Write(good[:len(good)/2])
		case "corrupt":
			w.Write(archive(t, map[string]string{"X.json": "{not json"}))
		case "error":
			http.Error(w, "no", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	u := &osvdb.Updater{Dir: dir, BaseURL: srv.URL, Client: srv.Client(), Now: func() time.Time { return t0 }}
	res, err := u.Update(context.Background(), []string{"npm"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Meta.Records != 2 || res[0].Unchanged {
		t.Fatalf("got %+v, want 2 records downloaded", res[0])
	}
	res, err = u.Update(context.Background(), []string{"npm"})
	if err != nil || !res[0].Unchanged {
		t.Fatalf("got %+v %v, want unchanged", res, err)
	}
	for _, m := range []string{"truncated", "corrupt", "error"} {
		t.Run(m, func(t *testing.T) {
			mode.Store(m)
			before, _ := os.ReadFile(filepath.Join(dir, "npm", "all.zip"))
			// A conditional request would be answered 304; force a download.
			os.Remove(filepath.Join(dir, "npm", "all.zip.meta"))
			if _, err := u.Update(context.Background(), []string{"npm"}); err == nil {
				t.Fatal("got nil error, want one")
			}
			after, _ := os.ReadFile(filepath.Join(dir, "npm", "all.zip"))
			if !bytes.Equal(before, after) {
				t.Error("got the archive changed by a failed update, want it untouched")
			}
			tmps, _ := filepath.Glob(filepath.Join(dir, "npm", "*.tmp"))
			if len(tmps) != 0 {
				t.Errorf("got temporary files left behind: %v", tmps)
			}
		})
	}
	db, info, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Records != 2 || db.Records() != 2 {
		t.Errorf("got %d records, want 2", info.Records)
	}
}

func TestOpenAge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, _, err := osvdb.Open(filepath.Join(dir, "missing")); !errors.Is(err, osvdb.ErrNoDatabase) {
		t.Errorf("got %v, want ErrNoDatabase", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "GHSA-1.json"), []byte(record("GHSA-1", "1.0.0")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, info, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.FromDownload || info.Age(t0).Hours() < 24*300 {
		t.Errorf("got %+v, want the newest record's time (2026-01-01)", info)
	}
}

func TestUpdateRejectsBadInput(t *testing.T) {
	t.Parallel()
	u := &osvdb.Updater{Dir: t.TempDir(), BaseURL: "ftp://example.invalid"}
	if _, err := u.Update(context.Background(), []string{"npm"}); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Errorf("got %v, want a base URL error", err)
	}
	u.BaseURL = "http://127.0.0.1:1"
	if _, err := u.Update(context.Background(), []string{"../etc"}); err == nil {
		t.Error("got nil error for a path-like ecosystem, want one")
	}
}

// cutServer serves body, but the first answer stops halfway and drops the
// connection. Later answers honour Range and If-Range when ranges is set.
func cutServer(t *testing.T, body []byte, ranges bool, requests *[]string) *httptest.Server {
	t.Helper()
	var calls atomic.Int32
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*requests = append(*requests, r.Header.Get("Range"))
		w.Header().Set("ETag", `"v1"`)
		if ranges {
			w.Header().Set("Accept-Ranges", "bytes")
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(http.StatusOK)
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // cut the connection mid-body
		}
		if rg := r.Header.Get("Range"); ranges && rg != "" && r.Header.Get("If-Range") == `"v1"` {
			var from int
			fmt.Sscanf(rg, "bytes=%d-", &from)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, len(body)-1, len(body)))
			w.Header().Set("Content-Length", fmt.Sprint(len(body)-from))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body[from:])
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	}))
}

// TestUpdateResumesCutDownload: a download cut halfway is resumed with a
// Range request where the server allows it, restarted where it does not,
// and either way the archive on disk is whole and verified.
func TestUpdateResumesCutDownload(t *testing.T) {
	t.Parallel()
	records := map[string]string{}
	for i := range 200 {
		id := fmt.Sprintf("GHSA-%04d", i)
		records[id+".json"] = record(id, fmt.Sprintf("1.0.%d", i))
	}
	body := archive(t, records)
	for _, ranges := range []bool{true, false} {
		t.Run(fmt.Sprint("ranges=", ranges), func(t *testing.T) {
			var requests []string
			srv := cutServer(t, body, ranges, &requests)
			defer srv.Close()
			dir := t.TempDir()
			var last osvdb.Progress
			u := &osvdb.Updater{Dir: dir, BaseURL: srv.URL, RetryWait: time.Millisecond, Progress: func(p osvdb.Progress) { last = p }}
			res, err := u.Update(context.Background(), []string{"npm"})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Meta.Records != 200 {
				t.Errorf("records: got %d, want 200", res[0].Meta.Records)
			}
			if len(requests) != 2 {
				t.Fatalf("requests: got %q, want two", requests)
			}
			wantRange := ""
			if ranges {
				wantRange = fmt.Sprintf("bytes=%d-", len(body)/2)
			}
			if requests[1] != wantRange {
				t.Errorf("retry Range: got %q, want %q", requests[1], wantRange)
			}
			if !last.Complete || last.Done != int64(len(body)) || last.Total != int64(len(body)) || last.Retry != 1 {
				t.Errorf("last progress: got %+v, want complete %d of %d after 1 retry", last, len(body), len(body))
			}
			got, err := os.ReadFile(filepath.Join(dir, "npm", "all.zip"))
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("archive on disk differs from the served one (err %v)", err)
			}
		})
	}
}

// TestUpdateGivesUpAfterRetries: a server that always cuts the download
// fails the update after the retries, leaving no partial archive.
func TestUpdateGivesUpAfterRetries(t *testing.T) {
	t.Parallel()
	body := archive(t, map[string]string{"GHSA-1.json": record("GHSA-1", "1.0.0")})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	defer srv.Close()
	dir := t.TempDir()
	u := &osvdb.Updater{Dir: dir, BaseURL: srv.URL, Retries: 2, RetryWait: time.Millisecond}
	_, err := u.Update(context.Background(), []string{"npm"})
	if err == nil || !strings.Contains(err.Error(), "2 retries") {
		t.Fatalf("got %v, want an interrupted download after 2 retries", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "npm", "*"))
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
