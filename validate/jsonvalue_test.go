package validate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The strict decoder is the one hand-written parser here: it must agree
// with encoding/json on every document it accepts, and refuse exactly the
// documents it promises to.

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ok       bool
		pointer  string
	}{
		{"object", `{"a":[1,2.5,-3e2],"b":{"c":null,"d":true,"e":false},"f":"x\"y\u00e9"}`, true, ""},
		{"scalar", ` 42 `, true, ""},
		{"empty containers", `{"a":{},"b":[]}`, true, ""},
		{"malformed", `{"a":}`, false, ""},
		{"trailing data", `{} {}`, false, ""},
		{"duplicate key", `{"a":1,"a":2}`, false, "/a"},
		{"duplicate escaped key", `{"a":1,"\u0061":2}`, false, "/a"},
		{"duplicate in array item", `[{"b":1},{"c":1,"c":1}]`, false, "/1/c"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", false, ""},
		{"lone surrogate", `{"a":"\udc00"}`, false, "/a"},
		{"surrogate pair", `{"a":"\ud83d\ude00"}`, true, ""},
		{"literal replacement char", `{"a":"` + "\uFFFD" + `"}`, true, ""},
		{"too deep", strings.Repeat("[", 33) + strings.Repeat("]", 33), false, "/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0"},
		{"deep enough", strings.Repeat("[", 32) + strings.Repeat("]", 32), true, ""},
		{"long number", `1` + strings.Repeat("0", 100), false, ""},
		{"huge exponent", `1e401`, false, ""},
		{"tiny exponent", `1e-401`, false, ""},
		{"float64 overflow", `2e308`, false, ""},
		{"big integer kept", `123456789012345678901234567890`, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := decodeJSON([]byte(tt.in), 32)
			if (err == nil) != tt.ok {
				t.Fatalf("got %v, want ok=%v", err, tt.ok)
			}
			if se, ok := err.(*syntaxError); ok && tt.pointer != "" && se.pointer != tt.pointer {
				t.Errorf("pointer: got %q, want %q", se.pointer, tt.pointer)
			}
			if err == nil {
				assertSameAsStdlib(t, []byte(tt.in), v)
			}
		})
	}
}

func assertSameAsStdlib(t *testing.T, data []byte, got any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var want any
	if err := d.Decode(&want); err != nil {
		t.Fatalf("accepted a document encoding/json refuses: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":null}]}`, `"\ud800"`, `{"a":1,"a":1}`, `[1e400]`, "\"\xff\"", `{"\u0000":"\\"}`, `-0.0e+1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeJSON(data, 8)
		if err != nil {
			return
		}
		assertSameAsStdlib(t, data, v)
	})
}
