package gateway_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBodyBudgetThroughGateway: a body that would take validation past
// validation.max_buffered_bytes gets 503 with Retry-After, never reaches
// the upstream, and the budget is whole again afterwards.
func TestBodyBudgetThroughGateway(t *testing.T) {
	t.Parallel()
	spec, err := filepath.Abs("../validate/testdata/bench.openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../validate/testdata/bench-item.json")
	if err != nil {
		t.Fatal(err)
	}
	up := echoUpstream(t)
	small := start(t, parse(t, up.URL, "openapi: "+spec+"\nvalidation: {max_buffered_bytes: 512}\n"))
	roomy := start(t, parse(t, up.URL, "openapi: "+spec+"\nvalidation: {max_buffered_bytes: 4KiB}\n"))
	post := func(h *harness) (*http.Response, string) {
		req, _ := http.NewRequest("POST", h.url+"/items/7", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		return do(t, nil, req)
	}
	for range 3 {
		resp, b := post(small)
		assertNeutral(t, resp, b, http.StatusServiceUnavailable)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		if strings.Contains(b, `"method"`) {
			t.Error("the upstream was called")
		}
		// Fits, every time: the bytes of earlier requests came back.
		if resp, b := post(roomy); resp.StatusCode != 200 {
			t.Fatalf("within the budget: got %d %s", resp.StatusCode, b)
		}
	}
}
