package validate

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of the strict JSON decoder that hold whatever the configuration:
// they keep number handling in the schema library cheap (it compares
// numbers as exact rationals, whose cost grows with the exponent).
const (
	maxNumberLen      = 100 // bytes in one number literal
	maxNumberExponent = 400 // |exponent| of a number literal
)

// syntaxError is a problem in a JSON document, located by a JSON pointer to
// the value being read when it was found.
type syntaxError struct {
	pointer string
	msg     string
}

func (e *syntaxError) Error() string { return "validate: " + e.pointer + ": " + e.msg }

var errInvalidUTF8 = errors.New("validate: body is not valid UTF-8")

// decodeJSON parses a whole JSON document strictly into the values the
// schema library understands: map[string]any, []any, string, bool, nil and
// json.Number (so no integer loses precision through float64). Compared
// with encoding/json it also rejects, instead of silently accepting,
// duplicate object keys (which parsers disagree on: a validator that reads
// the last one and an application that reads the first one can be made to
// see different documents), invalid UTF-8 (which encoding/json replaces
// with U+FFFD), nesting deeper than maxDepth, and numbers too long or too
// large for any numeric type.
func decodeJSON(data []byte, maxDepth int) (any, error) {
	// encoding/json's validator is the authority on JSON syntax; the
	// builder below then only needs to handle well-formed input.
	if !json.Valid(data) {
		return nil, &syntaxError{pointer: "", msg: syntaxMessage(data)}
	}
	if !utf8.Valid(data) {
		return nil, errInvalidUTF8
	}
	d := decoder{data: data, maxDepth: maxDepth}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// syntaxMessage describes why data is not JSON without quoting it.
func syntaxMessage(data []byte) string {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "malformed JSON at byte offset " + strconv.FormatInt(se.Offset, 10)
	}
	return "malformed JSON"
}

type decoder struct {
	data     []byte
	pos      int
	maxDepth int
	path     []string // keys and indexes from the root to the current value
}

func (d *decoder) pointer() string {
	return safePointer(d.path)
}

func (d *decoder) fail(msg string) error {
	return &syntaxError{pointer: d.pointer(), msg: msg}
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	d.skipSpace()
	switch c := d.data[d.pos]; {
	case c == '{':
		if depth >= d.maxDepth {
			return nil, d.fail("nesting deeper than " + strconv.Itoa(d.maxDepth) + " levels")
		}
		return d.object(depth + 1)
	case c == '[':
		if depth >= d.maxDepth {
			return nil, d.fail("nesting deeper than " + strconv.Itoa(d.maxDepth) + " levels")
		}
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == 't':
		d.pos += 4
		return true, nil
	case c == 'f':
		d.pos += 5
		return false, nil
	case c == 'n':
		d.pos += 4
		return nil, nil
	default:
		return d.number()
	}
}

func (d *decoder) object(depth int) (any, error) {
	d.pos++ // {
	m := make(map[string]any)
	d.skipSpace()
	if d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		d.skipSpace()
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		d.pos++ // :
		d.path = append(d.path, k)
		if _, dup := m[k]; dup {
			return nil, d.fail("duplicate property")
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		m[k] = v
		d.skipSpace()
		if d.data[d.pos] == '}' {
			d.pos++
			return m, nil
		}
		d.pos++ // ,
	}
}

func (d *decoder) array(depth int) (any, error) {
	d.pos++ // [
	a := make([]any, 0, 4)
	d.skipSpace()
	if d.data[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for i := 0; ; i++ {
		d.path = append(d.path, strconv.Itoa(i))
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		a = append(a, v)
		d.skipSpace()
		if d.data[d.pos] == ']' {
			d.pos++
			return a, nil
		}
		d.pos++ // ,
	}
}

// str reads a string token. Strings without escapes (almost all of them)
// are sliced directly; the rest go through encoding/json, which knows every
// escape JSON has, surrogate pairs included.
func (d *decoder) str() (string, error) {
	start := d.pos
	d.pos++ // opening quote
	escaped := false
	for {
		c := d.data[d.pos]
		if c == '\\' {
			escaped = true
			d.pos += 2
			continue
		}
		d.pos++
		if c == '"' {
			break
		}
	}
	raw := d.data[start:d.pos]
	if !escaped {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", d.fail("malformed string")
	}
	// An escaped lone surrogate (\ud800) decodes to U+FFFD: the client sent
	// something that is not text, so it is refused like invalid UTF-8. Every
	// U+FFFD in the result must come from the raw text or a \ufffd escape.
	if n := strings.Count(s, "\uFFFD"); n > 0 {
		lower := strings.ToLower(string(raw))
		if n > strings.Count(lower, "\uFFFD")+strings.Count(lower, `\ufffd`) {
			return "", d.fail("string holds an unpaired surrogate escape")
		}
	}
	return s, nil
}

func (d *decoder) number() (any, error) {
	start := d.pos
	expAt := -1
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == 'e' || c == 'E' {
			expAt = d.pos
		} else if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' {
			break
		}
		d.pos++
	}
	lit := d.data[start:d.pos]
	if len(lit) > maxNumberLen {
		return nil, d.fail("number has more than " + strconv.Itoa(maxNumberLen) + " characters")
	}
	if expAt >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(string(d.data[expAt+1:d.pos]), "+"))
		if err != nil || exp > maxNumberExponent || exp < -maxNumberExponent {
			return nil, d.fail("number is out of range")
		}
	}
	// A literal beyond float64's range fits no numeric type an application
	// could decode it into.
	if _, err := strconv.ParseFloat(string(lit), 64); err != nil {
		return nil, d.fail("number is out of range")
	}
	return json.Number(lit), nil
}
