package reserved_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/reserved"
)

// FuzzFilter sends arbitrary header names through Client and Upstream and
// checks the promises: nothing owned or overriding survives Client in any
// spelling; no forwarding header survives Upstream from an untrusted peer;
// from a trusted one only the configured pass-through does, in its plain
// spelling; and an owned header set after Client (by Rampart) is re-sent.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		"X-Forwarded-For", "X_Forwarded_For", "x.forwarded.prefix", "X-Forwarded-Prefix", "True-Client-IP",
		"X-Original-URL", "X_Rampart_User", "X.Rampart.Roles", "X-Rampart-Anything", "Proxy", "Forwarded",
		"X-Request-Id", "X_Request_Id", "Accept", "X-App", "X_Custom", "X-Forwardedfor", strings.Repeat("x-forwarded-", 10),
	} {
		f.Add(s, "v", true, false)
	}
	filter, err := reserved.NewFilter(reserved.FilterConfig{Owned: []string{"X-User"}, TrustedForwarding: []string{"X-Forwarded-Prefix"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, value string, trusted, odd bool) {
		if name == "" {
			return
		}
		fl := filter
		if odd {
			fl, _ = reserved.NewFilter(reserved.FilterConfig{Owned: []string{"X-User"}, AllowUnusualNames: true})
		}
		in := http.Header{name: {value}, "Accept": {"*/*"}}
		fl.Client(in)
		cls, plain := fl.Classify(name)
		_, kept := in[name]
		switch {
		case cls == reserved.Owned || cls == reserved.Override:
			if kept {
				t.Fatalf("%q (class %d) survived Client", name, cls)
			}
		case cls == reserved.Forwarding && !plain:
			if kept {
				t.Fatalf("forwarding header %q spelled unusually survived Client", name)
			}
		case cls == reserved.Other && !plain && !odd:
			if kept {
				t.Fatalf("unusual name %q survived Client", name)
			}
		}
		if in.Get("Accept") != "*/*" {
			t.Fatal("Client removed Accept")
		}
		in["X-Rampart-User"] = []string{"set-by-rampart"}
		out := in.Clone()
		out[name] = []string{value} // as if a hop re-added it
		fl.Upstream(out, in, trusted)
		if out.Get("X-Rampart-User") != "set-by-rampart" {
			t.Fatal("Upstream dropped an owned header Rampart set")
		}
		for k := range out {
			c, p := fl.Classify(k)
			switch {
			case c == reserved.Forwarding && (!trusted || odd || !p || reserved.Fold(k) != "x-forwarded-prefix"):
				t.Fatalf("forwarding header %q reached the upstream (trusted %v)", k, trusted)
			case c == reserved.Override:
				t.Fatalf("override header %q reached the upstream", k)
			}
		}
	})
}

func BenchmarkFilter(b *testing.B) {
	f, _ := reserved.NewFilter(reserved.FilterConfig{})
	h := http.Header{"Accept": {"*/*"}, "User-Agent": {"wrk"}, "Cookie": {"a=b"}, "Accept-Encoding": {"gzip"}, "Accept-Language": {"en"}, "Connection": {"keep-alive"}}
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f.Client(h)
		}
	})
	b.Run("upstream", func(b *testing.B) {
		out := h.Clone()
		b.ReportAllocs()
		for b.Loop() {
			f.Upstream(out, h, false)
		}
	})
}
