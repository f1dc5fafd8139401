package token_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/token"
)

// FuzzParseBearer checks the Authorization parser: no panic, and any token
// it returns is a well-formed, bounded b64token that parses back to itself.
func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer  x==", "Basic YTpi", "Bearer", "Bearer ", "BEARER a\tb", "Bearerx y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := token.ParseBearer(header)
		if err != nil {
			if tok != "" {
				t.Fatalf("got token %q with error %v", tok, err)
			}
			return
		}
		if tok == "" {
			return
		}
		if len(tok) > token.MaxTokenBytes {
			t.Fatalf("token of %d bytes accepted", len(tok))
		}
		if strings.ContainsAny(tok, " \t\r\n,;\"") {
			t.Fatalf("token %q has separator characters", tok)
		}
		again, err := token.ParseBearer("Bearer " + tok)
		if err != nil || again != tok {
			t.Fatalf("round trip of %q: got %q, %v", tok, again, err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", header)
		if fromReq, err := token.Bearer(r); fromReq != tok || err != nil {
			t.Fatalf("Bearer(r) = %q, %v; ParseBearer = %q", fromReq, err, tok)
		}
	})
}

// fuzzT0 is the instant the FuzzVerify corpus tokens were signed at.
var fuzzT0 = time.Unix(1893456000, 0) // 2030-01-01T00:00:00Z

// fuzzManager verifies tokens signed by testdata/fuzz-ed25519.pem at fuzzT0.
func fuzzManager(tb testing.TB) *token.Manager {
	tb.Helper()
	m, err := token.New(token.Config{AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour,
		SigningKey: "testdata/fuzz-ed25519.pem", Store: token.NewMemoryStore(),
		Now: func() time.Time { return fuzzT0.Add(time.Minute) }})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// FuzzVerify feeds arbitrary compact JWS to the verifier and to
// UnverifiedIssuer: no panic, and nothing but a genuine token verifies.
// The corpus holds a genuine token, which the fuzzer mutates.
func FuzzVerify(f *testing.F) {
	m := fuzzManager(f)
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		_, _ = token.UnverifiedIssuer(raw)
		id, err := m.Verify(context.Background(), raw)
		if err != nil {
			if id != nil {
				t.Fatalf("identity %+v returned with error %v", id, err)
			}
			return
		}
		// Only the corpus's genuine token, issued to "fuzz", can verify.
		if id.Subject != "fuzz" || id.Method != "token" {
			t.Fatalf("forged token verified: %+v", id)
		}
	})
}

// TestFuzzCorpusTokenVerifies keeps the FuzzVerify corpus honest: its
// genuine token must verify, or the fuzzer would only explore rejections.
func TestFuzzCorpusTokenVerifies(t *testing.T) {
	t.Parallel()
	m := fuzzManager(t)
	tok := readCorpusString(t, "testdata/fuzz/FuzzVerify/genuine")
	id, err := m.Verify(context.Background(), tok)
	if err != nil || id.Subject != "fuzz" {
		t.Fatalf("got %+v, %v, want the fuzz subject", id, err)
	}
}

// readCorpusString reads a one-string corpus file in Go's fuzz format.
func readCorpusString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "string(") {
		t.Fatalf("%s is not a one-string corpus file", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}
