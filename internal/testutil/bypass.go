package testutil

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// BypassTable is access/testdata/bypasses.json: path, host and
// client-address confusion attempts with the decision a correctly wired
// gateway makes. The access package runs it through its own middleware;
// the gateway runs the very same table through the real gateway.
type BypassTable struct {
	Description string `json:"description"`
	Config      struct {
		TrustedProxies []string `json:"trusted_proxies"`
		Hosts          []string `json:"hosts"`
		Routes         []struct {
			Match    string   `json:"match"`
			AllowIPs []string `json:"allow_ips"`
		} `json:"routes"`
	} `json:"config"`
	Cases []BypassCase `json:"cases"`
}

// BypassCase is one attempt.
type BypassCase struct {
	Name    string   `json:"name"`
	Method  string   `json:"method"`
	Target  string   `json:"target"`
	Proto   string   `json:"proto"`   // default HTTP/1.1
	Host    *string  `json:"host"`    // default app.example.com; "" omits the header
	Headers []string `json:"headers"` // "Name: value"
	Status  int      `json:"status"`
	// UpstreamTarget is the request target the upstream must receive when
	// the request is allowed; empty when it must not reach the upstream.
	UpstreamTarget string `json:"upstream_target"`
	// UpstreamHost is the Host the upstream must receive, when set.
	UpstreamHost string `json:"upstream_host"`
	// UpstreamAbsent are header names (exactly as Go spells the key) the
	// upstream must not receive, and UpstreamHeaders the only value each
	// named header must have. Checked through the real gateway, which
	// owns request header hygiene; the access package's own run ignores
	// them.
	UpstreamAbsent  []string          `json:"upstream_absent"`
	UpstreamHeaders map[string]string `json:"upstream_headers"`
}

// LoadBypasses reads the table at path, refusing unknown fields.
func LoadBypasses(t testing.TB, path string) *BypassTable {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tbl BypassTable
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tbl); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &tbl
}

// Request is the case's raw HTTP/1.1 request, for Raw.
func (c BypassCase) Request() string {
	proto := c.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	var b strings.Builder
	b.WriteString(c.Method + " " + c.Target + " " + proto + "\r\n")
	switch {
	case c.Host == nil:
		b.WriteString("Host: app.example.com\r\n")
	case *c.Host != "":
		b.WriteString("Host: " + *c.Host + "\r\n")
	}
	for _, h := range c.Headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}
