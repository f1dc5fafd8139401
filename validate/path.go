package validate

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// pathTemplate is an OpenAPI path template ("/files/{name}.json") compiled
// for matching request paths and for producing its ServeMux pattern.
type pathTemplate struct {
	raw      string
	segs     []tmplSeg
	names    []string // parameter names in order of appearance
	pattern  string   // the ServeMux path pattern
	key      string   // pattern with wildcard names erased, for grouping
	literals int      // literal bytes, for specificity
}

// tmplSeg is one segment: literal text, or alternating literals and
// parameters. parts[0], parts[2], … are literals (possibly empty);
// parts[1], parts[3], … are parameter indexes as strings.
type tmplSeg struct {
	literal string
	parts   []string
	params  []int
	isParam bool // the whole segment is one parameter
}

// parseTemplate compiles an OpenAPI path template.
//
// ServeMux wildcards must be whole segments, while OpenAPI allows a
// parameter inside a segment ("/files/{name}.json", "/r/{a}-{b}"). Such a
// segment becomes a whole-segment wildcard in the pattern, and match checks
// the literal parts precisely, so the gateway routes "/files/x.json" here
// and the validator answers 404 for "/files/x.xml".
func parseTemplate(raw string) (*pathTemplate, error) {
	if !strings.HasPrefix(raw, "/") {
		return nil, errors.New("path must start with /")
	}
	t := &pathTemplate{raw: raw}
	var pat, key strings.Builder
	for i, s := range strings.Split(raw[1:], "/") {
		pat.WriteByte('/')
		key.WriteByte('/')
		if !strings.ContainsAny(s, "{}") {
			if strings.ContainsAny(s, " \t") {
				return nil, errors.New("path segment " + strconv.Quote(s) + " contains white space")
			}
			t.segs = append(t.segs, tmplSeg{literal: s})
			t.literals += len(s)
			pat.WriteString(s)
			key.WriteString(s)
			continue
		}
		seg, err := t.parseSegment(s)
		if err != nil {
			return nil, err
		}
		t.segs = append(t.segs, seg)
		name := "p" + strconv.Itoa(i)
		if seg.isParam && isIdentifier(t.names[seg.params[0]]) {
			name = t.names[seg.params[0]]
		}
		pat.WriteString("{" + name + "}")
		key.WriteString("{}")
	}
	if strings.HasSuffix(raw, "/") {
		// A trailing slash in a ServeMux pattern matches every path under
		// it; {$} keeps it to exactly this path.
		pat.WriteString("{$}")
		key.WriteString("{$}")
	}
	t.pattern, t.key = pat.String(), key.String()
	return t, nil
}

func (t *pathTemplate) parseSegment(s string) (tmplSeg, error) {
	var seg tmplSeg
	rest := s
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return seg, errors.New("unbalanced } in path segment " + strconv.Quote(s))
			}
			seg.parts = append(seg.parts, rest)
			t.literals += len(rest)
			break
		}
		lit := rest[:open]
		if strings.IndexByte(lit, '}') >= 0 {
			return seg, errors.New("unbalanced } in path segment " + strconv.Quote(s))
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return seg, errors.New("unbalanced { in path segment " + strconv.Quote(s))
		}
		name := rest[open+1 : open+end]
		if name == "" || strings.ContainsAny(name, "{") {
			return seg, errors.New("invalid parameter in path segment " + strconv.Quote(s))
		}
		if len(seg.params) > 0 && lit == "" {
			return seg, errors.New("path segment " + strconv.Quote(s) + " has two parameters with nothing between them")
		}
		if t.index(name) >= 0 {
			return seg, errors.New("parameter " + strconv.Quote(name) + " appears twice in the path")
		}
		t.literals += len(lit)
		t.names = append(t.names, name)
		seg.parts = append(seg.parts, lit)
		seg.params = append(seg.params, len(t.names)-1)
		rest = rest[open+end+1:]
	}
	seg.isParam = len(seg.params) == 1 && seg.parts[0] == "" && seg.parts[1] == ""
	return seg, nil
}

// segmentOf returns the index in t.segs of the segment holding parameter i.
func (t *pathTemplate) segmentOf(i int) int {
	for j, seg := range t.segs {
		if slices.Contains(seg.params, i) {
			return j
		}
	}
	return -1
}

// index returns the position of the parameter name, or -1.
func (t *pathTemplate) index(name string) int {
	for i, n := range t.names {
		if n == name {
			return i
		}
	}
	return -1
}

// match reports whether the unescaped path segments match the template,
// and returns the parameter values in the order of t.names. A parameter
// never matches an empty string (OpenAPI path parameters are required).
func (t *pathTemplate) match(segs []string) ([]string, bool) {
	if len(segs) != len(t.segs) {
		return nil, false
	}
	var vals []string
	for i, ts := range t.segs {
		s := segs[i]
		if ts.parts == nil {
			if s != ts.literal {
				return nil, false
			}
			continue
		}
		if vals == nil {
			vals = make([]string, len(t.names))
		}
		if !matchSegment(ts, s, vals) {
			return nil, false
		}
	}
	return vals, true
}

// matchSegment matches literal-parameter-literal… against s. Each parameter
// takes the shortest text up to the next literal (the last one takes what
// is left before the final literal).
func matchSegment(ts tmplSeg, s string, vals []string) bool {
	n := len(ts.params)
	if !strings.HasPrefix(s, ts.parts[0]) {
		return false
	}
	s = s[len(ts.parts[0]):]
	last := ts.parts[n]
	if !strings.HasSuffix(s, last) {
		return false
	}
	s = s[:len(s)-len(last)]
	for k := 0; k < n; k++ {
		if k == n-1 {
			if s == "" {
				return false
			}
			vals[ts.params[k]] = s
			break
		}
		next := ts.parts[k+1]
		j := strings.Index(s, next)
		if j <= 0 {
			return false
		}
		vals[ts.params[k]] = s[:j]
		s = s[j+len(next):]
	}
	return true
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r)) {
			continue
		}
		return false
	}
	return true
}
