package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/testutil"
)

// bypassFile is access/testdata/bypasses.json: the same path, host and
// address confusion table the access package runs, here through the real
// gateway.
type bypassFile struct {
	Config struct {
		TrustedProxies []string `json:"trusted_proxies"`
		Hosts          []string `json:"hosts"`
		Routes         []struct {
			Match    string   `json:"match"`
			AllowIPs []string `json:"allow_ips"`
		} `json:"routes"`
	} `json:"config"`
	Cases []struct {
		Name           string   `json:"name"`
		Method         string   `json:"method"`
		Target         string   `json:"target"`
		Proto          string   `json:"proto"`
		Host           *string  `json:"host"`
		Headers        []string `json:"headers"`
		Status         int      `json:"status"`
		UpstreamTarget string   `json:"upstream_target"`
		UpstreamHost   string   `json:"upstream_host"`
	} `json:"cases"`
}

func TestBypassTableThroughGateway(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../access/testdata/bypasses.json")
	if err != nil {
		t.Fatal(err)
	}
	var tbl bypassFile
	if err := json.Unmarshal(data, &tbl); err != nil {
		t.Fatal(err)
	}
	if len(tbl.Cases) < 40 {
		t.Fatalf("got %d cases, want at least 40", len(tbl.Cases))
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream-Target", r.RequestURI)
		w.Header().Set("X-Upstream-Host", r.Host)
		_, _ = w.Write([]byte("upstream"))
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
			proto := tc.Proto
			if proto == "" {
				proto = "HTTP/1.1"
			}
			var req strings.Builder
			req.WriteString(tc.Method + " " + tc.Target + " " + proto + "\r\n")
			switch {
			case tc.Host == nil:
				req.WriteString("Host: app.example.com\r\n")
			case *tc.Host != "":
				req.WriteString("Host: " + *tc.Host + "\r\n")
			}
			for _, hd := range tc.Headers {
				req.WriteString(hd + "\r\n")
			}
			req.WriteString("Connection: close\r\n\r\n")
			resp := testutil.Raw(t, addr, req.String())
			if resp.StatusCode != tc.Status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.Status)
			}
			if got := resp.Header.Get("X-Upstream-Target"); got != tc.UpstreamTarget {
				t.Errorf("upstream received: got %q, want %q", got, tc.UpstreamTarget)
			}
			if tc.UpstreamHost != "" && resp.Header.Get("X-Upstream-Host") != tc.UpstreamHost {
				t.Errorf("upstream host: got %q, want %q", resp.Header.Get("X-Upstream-Host"), tc.UpstreamHost)
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
