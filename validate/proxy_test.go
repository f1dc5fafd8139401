package validate_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/validate"
)

// TestThroughReverseProxy runs the validator in front of a real reverse
// proxy and upstream over loopback: a chunked body is buffered, validated
// and forwarded whole, with a Content-Length.
func TestThroughReverseProxy(t *testing.T) {
	t.Parallel()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Length", strconv.FormatInt(r.ContentLength, 10))
		w.Header().Set("X-Chunked", strconv.FormatBool(len(r.TransferEncoding) > 0))
		_, _ = w.Write(b)
	}))
	defer app.Close()
	u, _ := url.Parse(app.URL)
	spec, err := validate.Load("testdata/items-3.1.yaml", validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(spec.Handler(httputil.NewSingleHostReverseProxy(u)))
	defer front.Close()
	client := &http.Client{Timeout: 10 * time.Second}

	pr, pw := io.Pipe()
	go func() {
		for _, part := range []string{validItem[:10], validItem[10:200], validItem[200:]} {
			_, _ = pw.Write([]byte(part))
		}
		_ = pw.Close()
	}()
	req, _ := http.NewRequest("POST", front.URL+"/items", pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != validItem {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Length") != strconv.Itoa(len(validItem)) || resp.Header.Get("X-Chunked") != "false" {
		t.Errorf("upstream saw length %s chunked %s, want %d and false", resp.Header.Get("X-Length"), resp.Header.Get("X-Chunked"), len(validItem))
	}

	resp, err = client.Post(front.URL+"/items", "application/json", strings.NewReader(`{"name":1}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("invalid body: got %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
