package validate

import (
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// libraryFormats compiles {"format": name} for every fast format, asserted
// as the validator does, so each value can be checked by the library too.
func libraryFormats(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	out := map[string]*jsonschema.Schema{}
	for name := range fastFormats {
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		u := "mem:///" + name + ".json"
		if err := c.AddResource(u, map[string]any{"format": name}); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(u)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = s
	}
	return out
}

// formatSamples are values of every fast format, valid and not, with the
// spellings where a lax parser and a strict one part ways.
var formatSamples = []string{
	"", "a", "123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
	"123e4567-e89b-12d3-a456-42661417400", "123e4567e89b-12d3-a456-4266141740000", "123e4567-e89b-12d3-a456-42661417400g",
	"192.0.2.10", "0.0.0.0", "255.255.255.255", "256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "+1.2.3.4", "1..2.3",
	"1.2.3.4 ", "١.٢.٣.٤", "2001:db8::1", "::1", "::ffff:192.0.2.1", "fe80::1%eth0", "2001:db8:::1", "1.2.3.4:80",
	"example.com", "example.com.", "-example.com", "example-.com", "a..b", strings.Repeat("a", 63) + ".com",
	strings.Repeat("a", 64) + ".com", strings.Repeat("a.", 127) + "a", strings.Repeat("a.", 127) + "ab", "xn--bcher-kva.example",
	"exa_mple.com", "buyer@example.com", "a.b@example.com", ".a@example.com", "a.@example.com", "a..b@example.com",
	`"quoted"@example.com`, "a@[192.0.2.1]", "a@[IPv6:2001:db8::1]", "@example.com", "a@b@example.com", "a@", "a b@example.com",
	strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 65) + "@example.com", "é@example.com",
	"2024-05-01", "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "2024-13-01", "2024-00-10", "2024-04-31",
	"0000-01-01", "2024-5-01", "2024-05-1", "+024-05-01", "2024/05/01",
	"12:34:56Z", "12:34:56z", "23:59:60Z", "12:34:60Z", "24:00:00Z", "12:34:56.789Z", "12:34:56.Z", "12:34:56+01:00",
	"12:34:56-23:59", "12:34:56+24:00", "12:34:56+01:60", "12:34:56", "12:34:56+0100", "1:34:56Z", "+1:34:56Z",
	"2024-05-01T12:34:56Z", "2024-05-01t12:34:56z", "2024-05-01 12:34:56Z", "2024-05-01T12:34:56.5+05:30",
	"2024-02-30T12:34:56Z", "2024-05-01T25:34:56Z", "2024-05-01T23:59:60Z", "2024-05-01T12:34:56",
}

// checkFastFormat asserts that the fast format never calls valid what the
// library refuses, and that its string and byte forms agree.
func checkFastFormat(t *testing.T, lib map[string]*jsonschema.Schema, name, s string) (fast bool) {
	t.Helper()
	ff := fastFormats[name]
	fast = ff.str(s)
	if b := ff.bytes([]byte(s)); b != fast {
		t.Fatalf("%s %q: string form %v, byte form %v", name, s, fast, b)
	}
	if fast {
		if err := lib[name].Validate(s); err != nil {
			t.Fatalf("%s %q: the fast path calls it valid, the library refuses it: %v", name, s, err)
		}
	}
	return fast
}

// TestFastFormatsAgree: every fast format accepts only what the library
// accepts, and accepts the common valid spellings itself (else it would
// only slow them down).
func TestFastFormatsAgree(t *testing.T) {
	t.Parallel()
	lib := libraryFormats(t)
	for name, ff := range fastFormats {
		if ff.str == nil || ff.bytes == nil {
			t.Fatalf("%s: needs both a string and a byte form", name)
		}
		for _, s := range formatSamples {
			checkFastFormat(t, lib, name, s)
		}
	}
	common := map[string][]string{
		"uuid":      {"123e4567-e89b-12d3-a456-426614174000"},
		"ipv4":      {"192.0.2.10", "0.0.0.0", "255.255.255.255"},
		"ipv6":      {"2001:db8::1", "::1"},
		"hostname":  {"example.com", "xn--bcher-kva.example", "localhost"},
		"email":     {"buyer@example.com", "first.last+tag@mail.example.co.uk"},
		"date":      {"2024-05-01", "2024-02-29"},
		"time":      {"12:34:56Z", "12:34:56.789+05:30"},
		"date-time": {"2024-05-01T12:34:56Z", "2024-05-01T12:34:56.123-07:00"},
	}
	for name, vals := range common {
		for _, s := range vals {
			if !checkFastFormat(t, lib, name, s) {
				t.Errorf("%s %q: valid, but not for the fast path", name, s)
			}
		}
	}
}

// FuzzFastFormats: no string is valid to a fast format and invalid to the
// library.
func FuzzFastFormats(f *testing.F) {
	for _, s := range formatSamples {
		f.Add(s)
	}
	lib := libraryFormats(f)
	f.Fuzz(func(t *testing.T, s string) {
		for name := range fastFormats {
			checkFastFormat(t, lib, name, s)
		}
	})
}
