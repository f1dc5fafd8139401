package validate_test

import (
	"strings"
	"testing"

	"github.com/rampartsec/rampart/validate"
)

const securedDoc = `openapi: 3.1.0
info: {title: t, version: "1"}
security: [{bearer: []}]
paths:
  /open:
    get:
      security: []
      responses: {"200": {description: ok}}
  /default:
    get:
      responses: {"200": {description: ok}}
  /either:
    get:
      security: [{oauth: [a, b]}, {bearer: [], cookie: []}]
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    bearer: {type: http, scheme: Bearer}
    oauth: {type: oauth2, flows: {}}
    cookie: {type: apiKey, in: cookie, name: sid}
`

func TestSecurityRequirements(t *testing.T) {
	t.Parallel()
	s, err := validate.Parse("secured.yaml", []byte(securedDoc), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*validate.Security{}
	for _, rt := range s.Routes() {
		secs := s.Security(rt)
		if len(secs) != 1 {
			t.Fatalf("%s: got %d securities, want 1", rt.Match(), len(secs))
		}
		got[rt.Pattern] = secs[0]
	}
	if sec := got["/open"]; sec == nil || len(sec.Alternatives) != 0 || !sec.Public() || sec.Pointer != "/paths/~1open/get/security" {
		t.Errorf("/open: got %+v, want public from the operation", sec)
	}
	if sec := got["/default"]; sec == nil || sec.Public() || sec.Pointer != "/security" || len(sec.Alternatives) != 1 ||
		sec.Alternatives[0][0].Scheme.Scheme != "bearer" {
		t.Errorf("/default: got %+v, want the document's bearer", sec)
	}
	sec := got["/either"]
	if sec == nil || len(sec.Alternatives) != 2 {
		t.Fatalf("/either: got %+v", sec)
	}
	if a := sec.Alternatives[0]; len(a) != 1 || a[0].Scheme.Type != "oauth2" || strings.Join(a[0].Scopes, ",") != "a,b" {
		t.Errorf("first alternative: got %+v", a)
	}
	if a := sec.Alternatives[1]; len(a) != 2 || a[0].Scheme.Name != "bearer" || a[1].Scheme.In != "cookie" || a[1].Scheme.ParamName != "sid" {
		t.Errorf("second alternative: got %+v", a)
	}
}

func TestSecurityErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, security, schemes, want string }{
		{"undefined scheme", "[{nope: []}]", "{}", `security scheme "nope" is not defined`},
		{"not a list", "{bearer: []}", "{bearer: {type: http, scheme: bearer}}", "must be a list"},
		{"scopes not a list", "[{bearer: x}]", "{bearer: {type: http, scheme: bearer}}", "must be a list"},
		{"unknown type", "[{k: []}]", "{k: {type: magic}}", "type must be apiKey"},
		{"apiKey without a name", "[{k: []}]", "{k: {type: apiKey, in: header}}", "needs a name"},
		{"apiKey in body", "[{k: []}]", "{k: {type: apiKey, in: body, name: x}}", "in must be query, header or cookie"},
		{"http without a scheme", "[{k: []}]", "{k: {type: http}}", "needs a scheme"},
		{"misspelt field", "[{k: []}]", "{k: {type: http, schema: bearer}}", "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths:\n  /x:\n    get:\n      security: " + tc.security +
				"\n      responses: {\"200\": {description: ok}}\ncomponents:\n  securitySchemes: " + tc.schemes + "\n"
			_, err := validate.Parse("bad.yaml", []byte(doc), validate.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "bad.yaml#/") {
				t.Errorf("error does not locate the problem: %v", err)
			}
		})
	}
}
