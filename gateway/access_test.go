package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/testutil"
)

func TestBypassTableThroughGateway(t *testing.T) {
	t.Parallel()
	tbl := testutil.LoadBypasses(t, "../access/testdata/bypasses.json")
	if len(tbl.Cases) < 40 {
		t.Fatalf("got %d cases, want at least 40", len(tbl.Cases))
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream-Target", r.RequestURI)
		w.Header().Set("X-Upstream-Host", r.Host)
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(up.Close)

	var y strings.Builder
	fmt.Fprintf(&y, "trusted_proxies: %s\nallow:\n  hosts: %s\nroutes:\n", jsonList(tbl.Config.TrustedProxies), jsonList(tbl.Config.Hosts))
	for _, r := range tbl.Config.Routes {
		fmt.Fprintf(&y, "  - match: %q\n", r.Match)
		if len(r.AllowIPs) > 0 {
			fmt.Fprintf(&y, "    allow_ips: %s\n", jsonList(r.AllowIPs))
		}
	}
	h := start(t, parse(t, up.URL, y.String()))
	addr := strings.TrimPrefix(h.url, "http://")

	for _, tc := range tbl.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			resp := testutil.Raw(t, addr, tc.Request())
			if resp.StatusCode != tc.Status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.Status)
			}
			if got := resp.Header.Get("X-Upstream-Target"); got != tc.UpstreamTarget {
				t.Errorf("upstream received: got %q, want %q", got, tc.UpstreamTarget)
			}
			if tc.UpstreamHost != "" && resp.Header.Get("X-Upstream-Host") != tc.UpstreamHost {
				t.Errorf("upstream host: got %q, want %q", resp.Header.Get("X-Upstream-Host"), tc.UpstreamHost)
			}
			if len(tc.UpstreamAbsent)+len(tc.UpstreamHeaders) == 0 || resp.StatusCode != http.StatusOK {
				return
			}
			var got http.Header
			if err := json.Unmarshal(resp.Body, &got); err != nil {
				t.Fatalf("upstream headers: %v", err)
			}
			for _, k := range tc.UpstreamAbsent {
				if v, ok := got[k]; ok {
					t.Errorf("%s reached the upstream: %q", k, v)
				}
			}
			for k, want := range tc.UpstreamHeaders {
				if v := got[k]; len(v) != 1 || v[0] != want {
					t.Errorf("%s: upstream got %q, want %q", k, v, want)
				}
			}
		})
	}
}

func jsonList(ss []string) string {
	if ss == nil {
		ss = []string{}
	}
	b, _ := json.Marshal(ss)
	return string(b)
}
