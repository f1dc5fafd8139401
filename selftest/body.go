package selftest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// sampleBody builds a JSON body the schema accepts, for the commonest
// schema shapes; ok is false when it cannot. The control case of the
// validation class proves the result against the gateway itself.
func sampleBody(schema, root map[string]any) (string, bool) {
	v, ok := sample(schema, root, 0)
	if !ok {
		return "", false
	}
	if _, isObj := v.(map[string]any); !isObj {
		return "", false
	}
	b, err := json.Marshal(v)
	return string(b), err == nil
}

func sample(s any, root map[string]any, depth int) (any, bool) {
	if depth > 12 {
		return nil, false
	}
	m, ok := resolve(root, s).(map[string]any)
	if !ok {
		return nil, s == true
	}
	if v, ok := m["const"]; ok {
		return v, true
	}
	if e, ok := m["enum"].([]any); ok && len(e) > 0 {
		return e[0], true
	}
	if ex, ok := m["example"]; ok {
		return ex, true
	}
	if exs, ok := m["examples"].([]any); ok && len(exs) > 0 {
		return exs[0], true
	}
	if all, ok := m["allOf"].([]any); ok {
		merged := map[string]any{}
		for _, sub := range all {
			v, ok := sample(sub, root, depth+1)
			obj, isObj := v.(map[string]any)
			if !ok || !isObj {
				return nil, false
			}
			for k, x := range obj {
				merged[k] = x
			}
		}
		base := map[string]any{}
		for k, x := range m {
			if k != "allOf" {
				base[k] = x
			}
		}
		if v, ok := sample(base, root, depth+1); ok {
			if obj, isObj := v.(map[string]any); isObj {
				for k, x := range obj {
					merged[k] = x
				}
			}
		}
		return merged, true
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := m[k].([]any); ok && len(alts) > 0 {
			return sample(alts[0], root, depth+1)
		}
	}
	typ := m["type"]
	if ts, ok := typ.([]any); ok {
		typ = nil
		for _, t := range ts {
			if t != "null" {
				typ = t
				break
			}
		}
	}
	if typ == nil {
		if _, ok := m["properties"]; ok {
			typ = "object"
		}
	}
	switch typ {
	case "object":
		obj := map[string]any{}
		props, _ := m["properties"].(map[string]any)
		req, _ := m["required"].([]any)
		for _, r := range req {
			name, _ := r.(string)
			ps, ok := props[name]
			if !ok {
				ps = map[string]any{"type": "string"}
			}
			if pm, ok := resolve(root, ps).(map[string]any); ok && pm["readOnly"] == true {
				continue
			}
			v, ok := sample(ps, root, depth+1)
			if !ok {
				return nil, false
			}
			obj[name] = v
		}
		return obj, true
	case "string":
		return sampleString(m), true
	case "integer", "number":
		n := 1.0
		if v, ok := number(m["minimum"]); ok {
			n = v
		}
		if v, ok := number(m["exclusiveMinimum"]); ok {
			n = v + 1
		}
		if v, ok := number(m["maximum"]); ok && n > v {
			n = v
		}
		return json.Number(fmt.Sprint(int64(n))), true
	case "boolean":
		return true, true
	case "array":
		n := 0
		if v, ok := number(m["minItems"]); ok {
			n = int(v)
		}
		out := []any{}
		for i := range n {
			v, ok := sample(m["items"], root, depth+1)
			if !ok {
				return nil, false
			}
			if s, isStr := v.(string); isStr && m["uniqueItems"] == true {
				v = fmt.Sprint(s, i)
			}
			out = append(out, v)
		}
		return out, true
	case "null":
		return nil, true
	}
	return nil, false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

func sampleString(m map[string]any) string {
	switch m["format"] {
	case "email":
		return "selftest@example.com"
	case "uuid":
		return "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	case "date":
		return "2024-01-02"
	case "date-time":
		return "2024-01-02T03:04:05Z"
	case "uri", "url":
		return "https://example.com/"
	case "ipv4":
		return "192.0.2.1"
	case "ipv6":
		return "2001:db8::1"
	case "hostname":
		return "example.com"
	case "byte":
		return "c2VsZnRlc3Q="
	}
	n := 8
	if v, ok := number(m["minLength"]); ok && int(v) > n {
		n = int(v)
	}
	if v, ok := number(m["maxLength"]); ok && int(v) < n {
		n = max(int(v), 1)
	}
	return strings.Repeat("a", n)
}

// bodyVariants derives the attack bodies from a valid object body: each
// adds one property or one flaw to it, so that the flaw alone decides.
func bodyVariants(valid string, maxBody int64, maxDepth int) map[string]string {
	if maxDepth <= 0 {
		maxDepth = 32
	}
	open := strings.TrimSuffix(valid, "}")
	sep := ","
	if open == "{" {
		sep = ""
	}
	add := func(prop string) string { return open + sep + prop + "}" }
	first := ""
	var keys map[string]json.RawMessage
	if json.Unmarshal([]byte(valid), &keys) == nil {
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		slices.Sort(names)
		if len(names) > 0 {
			first = names[0]
		}
	}
	deep := strings.Repeat("[", maxDepth+8) + strings.Repeat("]", maxDepth+8)
	v := map[string]string{
		"valid_body":        valid,
		"deep_body":         add(`"selftest":` + deep),
		"bignum_body":       add(`"selftest":1e999999`),
		"badutf8_body":      add("\"selftest\":\"\xff\xfe\""),
		"surrogate_body":    add(`"selftest":"\ud800"`),
		"nan_body":          add(`"selftest":NaN`),
		"comment_body":      "/*selftest*/" + valid,
		"trailing_body":     valid + `{"selftest":1}`,
		"bom_body":          "\xEF\xBB\xBF" + valid,
		"single_quote_body": strings.ReplaceAll(valid, `"`, `'`),
	}
	if first != "" {
		v["dup_body"] = add(fmt.Sprintf(`%q:{"$ne":null}`, first))
		v["dupesc_body"] = add(fmt.Sprintf(`"\u%04x%s":{"$ne":null}`, first[0], first[1:]))
	}
	if maxBody > 0 && maxBody <= 16<<20 {
		pad := int(maxBody) + 1 - len(valid)
		if pad < 16 {
			pad = 16
		}
		v["huge_body"] = add(`"selftest":"` + strings.Repeat("a", pad) + `"`)
	}
	return v
}
