package validate_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/validate"
)

// TestParameterStyles reads each family of style from testdata/styles.yaml.
func TestParameterStyles(t *testing.T) {
	t.Parallel()
	spec, err := validate.Load("testdata/styles.yaml", validate.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tests := []struct {
		name, target, header, cookie string
		want                         int
	}{
		{"label exploded array", "/label/.1.2.3", "", "", 200},
		{"label array element not an integer", "/label/.1.x", "", "", 400},
		{"label without its dot", "/label/1.2", "", "", 400},
		{"matrix exploded object", "/matrix/;R=1;G=2;B=3", "", "", 200},
		{"matrix unknown property", "/matrix/;R=1;X=2", "", "", 400},
		{"matrix pair without =", "/matrix/;R", "", "", 400},
		{"simple exploded object", "/simple/R=1,G=2", "", "", 200},
		{"';' in a simple parameter", "/simple/R=1;G=2", "", "", 400},
		{"';' in a label parameter", "/label/.1;2", "", "", 400},
		{"simple property repeated", "/simple/R=1,R=2", "", "", 400},
		{"header array over two lines", "/simple/R=1", "1, 2.5", "", 200},
		{"header array element", "/simple/R=1", "1,x", "", 400},
		{"cookie object", "/simple/R=1", "", "pref=R,1,G,2", 200},
		{"cookie object odd", "/simple/R=1", "", "pref=R,1,G", 400},
		{"deepObject nested and repeated array", "/query?filter[status]=open&filter[meta][team]=core&filter[ids]=1&filter[ids]=2", "", "", 200},
		{"deepObject scalar repeated", "/query?filter[status]=open&filter[status]=closed", "", "", 400},
		{"deepObject index is a name", "/query?filter[meta][999999999]=x", "", "", 200},
		{"deepObject too deep", "/query?filter[meta][a][b][c][d][e][f][g][h]=x", "", "", 400},
		{"deepObject unknown in strict mode", "/query?filter[status]=open&other=1", "", "", 400},
		{"form exploded object", "/query?R=1&G=2&B=3", "", "", 200},
		{"form exploded object, grammar", "/query?R=0x10", "", "", 400},
		{"pipeDelimited booleans", "/query?p=true|false", "", "", 200},
		{"pipeDelimited not a boolean", "/query?p=true|1", "", "", 400},
		{"spaceDelimited object", "/query?s=R%201%20G%202", "", "", 200},
		{"spaceDelimited object over its maximum", "/query?s=R%20256", "", "", 400},
		{"text content", "/query?t=hello", "", "", 200},
		{"text content too long", "/query?t=hello-world", "", "", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			if tc.header != "" {
				r.Header.Set("X-List", tc.header)
			}
			if tc.cookie != "" {
				r.Header.Set("Cookie", tc.cookie)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("got %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
}

// TestMatrixSegments: a route knows which of its segments hold a
// matrix-style parameter, so a gateway can serve ';' there and nowhere else.
func TestMatrixSegments(t *testing.T) {
	t.Parallel()
	spec, err := validate.Load("testdata/styles.yaml", validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, r := range spec.Routes() {
		switch r.Pattern {
		case "/matrix/{c}":
			found++
			if len(r.MatrixSegments) != 1 || r.MatrixSegments[0] != 1 {
				t.Errorf("%s: MatrixSegments %v, want [1]", r.Match(), r.MatrixSegments)
			}
		default:
			if len(r.MatrixSegments) != 0 {
				t.Errorf("%s: MatrixSegments %v, want none", r.Match(), r.MatrixSegments)
			}
		}
	}
	if found == 0 {
		t.Fatal("no matrix route in testdata/styles.yaml")
	}
	if _, err := validate.Load("testdata/styles.yaml", validate.Options{NoPathParameters: true}); err == nil {
		t.Error("NoPathParameters: a matrix parameter loaded")
	}
}
