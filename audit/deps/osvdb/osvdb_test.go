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
