package gateway

import (
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// parseForwardedElement parses one RFC 7239 element strictly: pairs
// separated by ';', values tokens or quoted-strings with '\' escapes. It
// reports ok=false on a top-level ',' (a second element) or bad syntax.
func parseForwardedElement(s string) (map[string]string, bool) {
	pairs := map[string]string{}
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, false
		}
		name := s[:eq]
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, false
		}
		s = s[eq+1:]
		var val strings.Builder
		if strings.HasPrefix(s, `"`) {
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
					if i == len(s) {
						return nil, false
					}
				}
				val.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, false
			}
			s = s[i+1:]
		} else {
			end := strings.IndexAny(s, ";,")
			if end < 0 {
				end = len(s)
			}
			if end == 0 || !httpguts.ValidHeaderFieldName(s[:end]) {
				return nil, false
			}
			val.WriteString(s[:end])
			s = s[end:]
		}
		if _, dup := pairs[strings.ToLower(name)]; dup {
			return nil, false
		}
		pairs[strings.ToLower(name)] = val.String()
		switch {
		case s == "":
		case s[0] == ';':
			s = s[1:]
		default:
			return nil, false // ',' starts another element
		}
	}
	return pairs, true
}

// FuzzForwardedValue: whatever the host and scheme, the Forwarded header
// Rampart builds is exactly one element with exactly for, host and proto,
// and reads back as the values given (less the bytes a quoted-string
// cannot hold).
func FuzzForwardedValue(f *testing.F) {
	for _, s := range []string{"app.example.com", `x",for=6.6.6.6;proto=https;host="good.example`, `a\b`, "a,b", "", "[::1]:8080", "h\x00\r\n"} {
		f.Add(s, "https", true)
	}
	f.Fuzz(func(t *testing.T, host, proto string, v6 bool) {
		client := netip.MustParseAddr("198.51.100.7")
		if v6 {
			client = netip.MustParseAddr("2001:db8::7")
		}
		v := forwardedValue(client, client.String(), host, proto)
		pairs, ok := parseForwardedElement(v)
		if !ok {
			t.Fatalf("Forwarded %q (host %q, proto %q) is not one well-formed element", v, host, proto)
		}
		want := 2
		if host != "" {
			want = 3
		}
		if len(pairs) != want {
			t.Fatalf("Forwarded %q has pairs %v", v, pairs)
		}
		keep := func(s string) string {
			return strings.Map(func(r rune) rune {
				if r < 0x20 && r != '\t' || r == 0x7f {
					return -1
				}
				return r
			}, s)
		}
		forWant := client.String()
		if v6 {
			forWant = "[" + forWant + "]"
		}
		if pairs["for"] != forWant || host != "" && pairs["host"] != string(dropBytes(host)) || pairs["proto"] != string(dropBytes(proto)) {
			t.Fatalf("Forwarded %q reads back as %v (host %q, proto %q)", v, pairs, keep(host), proto)
		}
	})
}

// dropBytes removes the bytes writeQuoted drops.
func dropBytes(s string) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\t' || c >= 0x20 && c != 0x7f {
			out = append(out, c)
		}
	}
	return out
}
