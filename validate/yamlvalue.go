package validate

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDocumentNodes bounds the values a schema or OpenAPI document may
// expand to, aliases included, so that a "billion laughs" document fails to
// load instead of exhausting memory.
const maxDocumentNodes = 1 << 20

// loadDocument reads a YAML or JSON file (JSON is YAML) into plain JSON
// values. Errors name the file and line.
func loadDocument(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return parseDocument(path, data)
}

// parseDocument parses YAML or JSON text into plain JSON values: objects
// with string keys, arrays, strings, booleans, null and json.Number.
func parseDocument(name string, data []byte) (any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("validate: %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if root.Kind == 0 {
		return nil, fmt.Errorf("validate: %s: document is empty", name)
	}
	c := nodeConverter{name: name}
	return c.convert(&root)
}

// decodeNode converts one YAML node (part of a configuration file) into
// plain JSON values.
func decodeNode(n *yaml.Node) (any, error) {
	c := nodeConverter{}
	return c.convert(n)
}

type nodeConverter struct {
	name  string
	count int
	depth int
}

func (c *nodeConverter) errorf(n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if c.name == "" {
		return fmt.Errorf("validate: line %d: %s", n.Line, msg)
	}
	return fmt.Errorf("validate: %s:%d: %s", c.name, n.Line, msg)
}

func (c *nodeConverter) convert(n *yaml.Node) (any, error) {
	c.count++
	if c.count > maxDocumentNodes {
		return nil, c.errorf(n, "document has more than %d values", maxDocumentNodes)
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 512 {
		return nil, c.errorf(n, "document is nested too deeply")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.convert(n.Content[0])
	case yaml.AliasNode:
		return c.convert(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				return nil, c.errorf(k, "merge keys (<<) are not supported")
			}
			if k.Kind != yaml.ScalarNode {
				return nil, c.errorf(k, "object keys must be strings")
			}
			if _, dup := m[k.Value]; dup {
				return nil, c.errorf(k, "key %q is defined twice", k.Value)
			}
			val, err := c.convert(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		a := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			val, err := c.convert(e)
			if err != nil {
				return nil, err
			}
			a = append(a, val)
		}
		return a, nil
	case yaml.ScalarNode:
		return c.scalar(n)
	}
	return nil, c.errorf(n, "unsupported YAML node")
}

func (c *nodeConverter) scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, c.errorf(n, "invalid boolean %q", n.Value)
		}
		return b, nil
	case "!!int":
		// Keep the literal's digits (no float64 rounding of large bounds);
		// YAML-only spellings (0x1F, 0o17, 1_000) are normalised.
		if isJSONNumber(n.Value) {
			return json.Number(n.Value), nil
		}
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, c.errorf(n, "invalid integer %q", n.Value)
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case "!!float":
		if isJSONNumber(n.Value) {
			return json.Number(n.Value), nil
		}
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, c.errorf(n, "invalid number %q: JSON has no infinities or NaN", n.Value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case "!!str", "!!binary", "!!timestamp":
		// Timestamps stay text: JSON Schema has no date type.
		return n.Value, nil
	}
	return n.Value, nil
}

// isJSONNumber reports whether s is a number literal in JSON's grammar.
func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	return json.Valid([]byte(s)) && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}
