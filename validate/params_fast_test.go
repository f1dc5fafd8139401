package validate

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
)

// TestParamFastPath: a parameter value the fast path accepts is one the
// library accepts, and every value the library refuses still reaches it
// (the attack: an out-of-range or malformed id slipping past the check).
func TestParamFastPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schemas := []map[string]any{
		{"type": "integer", "format": "int64", "minimum": json.Number("0")},
		{"type": "integer", "format": "int32"},
		{"type": "integer", "minimum": json.Number("1"), "maximum": json.Number("100")},
		{"type": "integer", "exclusiveMinimum": json.Number("0"), "multipleOf": json.Number("5")},
		{"type": "integer", "enum": []any{json.Number("1"), json.Number("2"), json.Number("3")}},
		{"type": "number", "maximum": json.Number("1.5")},
		{"type": "boolean"},
		{"type": []any{"integer", "null"}},
	}
	values := []string{"0", "1", "-1", "2", "3", "4", "5", "10", "42", "100", "101", "1.5", "1.25", "2.5",
		"2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
		"true", "false", "01", "1e3", "abc", ""}
	tested, fast := 0, 0
	for i, schema := range schemas {
		comps := compilerPair{lax: newCompiler(schemaOptions{root: dir})}
		u := fileURL(filepath.Join(dir, "p"+strconv.Itoa(i)+".json"))
		if err := comps.add(u, schema); err != nil {
			t.Fatalf("schema %v: %v", schema, err)
		}
		ch, err := comps.compile(u)
		if err != nil {
			t.Fatalf("schema %v: %v", schema, err)
		}
		p := &param{schema: ch}
		ts := tInteger | tNumber | tBoolean
		for _, s := range values {
			val := coerce(s, ts)
			libErr := ch.Validate(val)
			ok := p.schema.fast != nil && p.schema.fast.valueValid(val)
			tested++
			if ok {
				fast++
				if libErr != nil {
					t.Errorf("schema %v, value %q: fast path valid, library %v", schema, s, libErr)
				}
			}
		}
	}
	// The fast path must answer for the common cases, or it gains nothing.
	if fast < tested/5 {
		t.Errorf("the fast path answered %d of %d", fast, tested)
	}
}
