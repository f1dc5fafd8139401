package shield_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/shield"
)

// FuzzShield sends arbitrary error bodies through the shield: it must not
// panic, a replaced body never reaches the client, and a body that holds a
// Python traceback marker never passes.
func FuzzShield(f *testing.F) {
	f.Add(400, "text/plain", []byte(pyTrace))
	f.Add(404, "application/json", []byte(nodeStack))
	f.Add(500, "", []byte(goPanic))
	f.Add(422, "text/html", []byte(expressDev))
	f.Add(400, "application/json", []byte(`{"error":"bad"}`))
	s, err := shield.New(shield.Config{InspectBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 599 || strings.ContainsAny(ctype, "\r\n") {
			return
		}
		h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		got := rec.Body.String()
		if status >= 500 && len(body) > 0 && got == string(body) && !strings.Contains(got, `"incident"`) {
			t.Fatalf("5xx body passed: %q", got)
		}
		if status >= 400 && len(body) <= 4096 && strings.Contains(string(body), "Traceback (most recent call last)") &&
			strings.Contains(got, "Traceback (most recent call last)") && !strings.HasPrefix(ctype, "image/") {
			mt := strings.ToLower(strings.TrimSpace(strings.Split(ctype, ";")[0]))
			if mt == "" || strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") {
				t.Fatalf("traceback passed with %d %q", status, ctype)
			}
		}
	})
}

// FuzzRedactText checks that a secret placed in a password field never
// survives redaction, whatever surrounds it.
func FuzzRedactText(f *testing.F) {
	f.Add("prefix ", " suffix")
	f.Add(`{"a":1,`, `}`)
	f.Add("", "\n")
	f.Fuzz(func(t *testing.T, before, after string) {
		const secret = "Zq8xSecretValue77"
		in := before + `"password":"` + secret + `"` + after
		if strings.Contains(before+after, secret) || strings.ContainsAny(before, `"\`) {
			return
		}
		if out := shield.RedactText(in); strings.Contains(out, secret) {
			t.Fatalf("secret survived: %q -> %q", in, out)
		}
	})
}
