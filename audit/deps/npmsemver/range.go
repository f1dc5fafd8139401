package npmsemver

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	reSpaces      = regexp.MustCompile(`\s+`)
	reBuildAll    = regexp.MustCompile(build)
	reHyphen      = regexp.MustCompile(`^\s*(` + xPlain + `)\s+-\s+(` + xPlain + `)\s*$`)
	reHyphenLoose = regexp.MustCompile(`^\s*(` + xPlainLoose + `)\s+-\s+(` + xPlainLoose + `)\s*$`)
	reCompTrim    = regexp.MustCompile(`(\s*)` + gtlt + `\s*(` + loosePlain + `|` + xPlain + `)`)
	reTildeTrim   = regexp.MustCompile(`(\s*)(?:~>?)\s+`)
	reCaretTrim   = regexp.MustCompile(`(\s*)\^\s+`)
	reTilde       = regexp.MustCompile(`^(?:~>?)` + xPlain + `$`)
	reTildeLoose  = regexp.MustCompile(`^(?:~>?)` + xPlainLoose + `$`)
	reCaret       = regexp.MustCompile(`^\^` + xPlain + `$`)
	reCaretLoose  = regexp.MustCompile(`^\^` + xPlainLoose + `$`)
	reXRange      = regexp.MustCompile(`^` + gtlt + `\s*` + xPlain + `$`)
	reXRangeLoose = regexp.MustCompile(`^` + gtlt + `\s*` + xPlainLoose + `$`)
	reStar        = regexp.MustCompile(`(<|>)?=?\s*\*`)
	reGTE0        = regexp.MustCompile(`^\s*>=\s*0\.0\.0\s*$`)
	reGTE0Pre     = regexp.MustCompile(`^\s*>=\s*0\.0\.0-0\s*$`)
	reComp        = regexp.MustCompile(`^` + gtlt + `\s*(` + fullPlain + `)$|^$`)
	reCompLoose   = regexp.MustCompile(`^` + gtlt + `\s*(` + loosePlain + `)$|^$`)
)

// ErrInvalidRange is wrapped by the errors of ParseRange.
var ErrInvalidRange = errors.New("npmsemver: invalid range")

// comparator is one primitive test: an operator ("", "<", "<=", ">",
// ">=") and a version; any matches every version.
type comparator struct {
	op  string
	v   Version
	any bool
}

// Range is a parsed node-semver range: a union of comparator sets, each
// an intersection.
type Range struct {
	raw  string
	sets [][]comparator
	opts Options
}

// ParseRange parses a node-semver range with the given options, desugaring
// carets, tildes, X-ranges and hyphen ranges exactly as node-semver's Range
// class does. In loose mode, words that are no comparator are dropped, as
// node-semver drops them; a range left with no comparator set is an error.
func ParseRange(s string, o Options) (*Range, error) {
	raw := reSpaces.ReplaceAllString(strings.TrimSpace(s), " ")
	r := &Range{raw: raw, opts: o}
	for _, part := range strings.Split(raw, "||") {
		set, err := parseSet(strings.TrimSpace(part), o)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrInvalidRange, s, err)
		}
		if len(set) > 0 {
			r.sets = append(r.sets, set)
		}
	}
	if len(r.sets) == 0 {
		return nil, fmt.Errorf("%w %q", ErrInvalidRange, s)
	}
	return r, nil
}

// String returns the range as given, with whitespace collapsed.
func (r *Range) String() string { return r.raw }

func parseSet(s string, o Options) ([]comparator, error) {
	s = reBuildAll.ReplaceAllString(s, "")
	hr := reHyphen
	if o.Loose {
		hr = reHyphenLoose
	}
	if m := hr.FindStringSubmatch(s); m != nil {
		s = hyphenReplace(m, o.IncludePrerelease)
	}
	s = reCompTrim.ReplaceAllString(s, "${1}${2}${3}")
	s = reTildeTrim.ReplaceAllString(s, "${1}~")
	s = reCaretTrim.ReplaceAllString(s, "${1}^")
	words := strings.Split(s, " ")
	for i, w := range words {
		words[i] = desugar(w, o)
	}
	tokens := reSpaces.Split(strings.Join(words, " "), -1)
	compRe := reComp
	if o.Loose {
		compRe = reCompLoose
	}
	gte0 := reGTE0
	if o.IncludePrerelease {
		gte0 = reGTE0Pre
	}
	var set []comparator
	for _, tok := range tokens {
		tok = gte0.ReplaceAllString(strings.TrimSpace(tok), "")
		m := compRe.FindStringSubmatch(tok)
		if m == nil {
			if o.Loose {
				continue // node-semver drops what is no comparator in loose mode
			}
			return nil, fmt.Errorf("invalid comparator %q", tok)
		}
		c := comparator{op: m[1]}
		if c.op == "=" {
			c.op = ""
		}
		if m[2] == "" {
			c.any = true
		} else {
			v, err := ParseVersion(m[2], o)
			if err != nil {
				return nil, err
			}
			c.v = v
		}
		if c.op == "<" && !c.any && c.v.Major == 0 && c.v.Minor == 0 && c.v.Patch == 0 && len(c.v.Prerelease) == 1 && c.v.Prerelease[0] == "0" {
			return []comparator{c}, nil // the null set
		}
		set = append(set, c)
	}
	return set, nil
}

func isX(s string) bool { return s == "" || s == "x" || s == "X" || s == "*" }

func inc(s string) string {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return s // cannot happen: the grammar matched digits
	}
	return strconv.FormatUint(n+1, 10)
}

// hyphenReplace turns "a - b" into comparators. m holds the groups of the
// hyphen expression: from (1), its parts (2-6), to (7), its parts (8-12).
func hyphenReplace(m []string, incPr bool) string {
	from, fM, fm, fp, fpr := m[1], m[2], m[3], m[4], m[5]
	to, tM, tm, tp, tpr := m[7], m[8], m[9], m[10], m[11]
	z := ""
	if incPr {
		z = "-0"
	}
	switch {
	case isX(fM):
		from = ""
	case isX(fm):
		from = ">=" + fM + ".0.0" + z
	case isX(fp):
		from = ">=" + fM + "." + fm + ".0" + z
	case fpr != "":
		from = ">=" + from
	default:
		from = ">=" + from + z
	}
	switch {
	case isX(tM):
		to = ""
	case isX(tm):
		to = "<" + inc(tM) + ".0.0-0"
	case isX(tp):
		to = "<" + tM + "." + inc(tm) + ".0-0"
	case tpr != "":
		to = "<=" + tM + "." + tm + "." + tp + "-" + tpr
	case incPr:
		to = "<" + tM + "." + tm + "." + inc(tp) + "-0"
	default:
		to = "<=" + to
	}
	return strings.TrimSpace(from + " " + to)
}

// desugar rewrites one word of a range into primitive comparators.
func desugar(w string, o Options) string {
	if loc := reBuildAll.FindStringIndex(w); loc != nil {
		w = w[:loc[0]] + w[loc[1]:]
	}
	w = replaceCaret(w, o)
	w = replaceTilde(w, o)
	w = replaceXRange(w, o)
	return reStar.ReplaceAllString(strings.TrimSpace(w), "")
}

func replaceTilde(w string, o Options) string {
	re := reTilde
	if o.Loose {
		re = reTildeLoose
	}
	m := re.FindStringSubmatch(w)
	if m == nil {
		return w
	}
	z := ""
	if o.IncludePrerelease {
		z = "-0"
	}
	M, mi, p, pr := m[1], m[2], m[3], m[4]
	switch {
	case isX(M):
		return ""
	case isX(mi):
		return ">=" + M + ".0.0" + z + " <" + inc(M) + ".0.0-0"
	case isX(p):
		return ">=" + M + "." + mi + ".0" + z + " <" + M + "." + inc(mi) + ".0-0"
	case pr != "":
		return ">=" + M + "." + mi + "." + p + "-" + pr + " <" + M + "." + inc(mi) + ".0-0"
	}
	return ">=" + M + "." + mi + "." + p + " <" + M + "." + inc(mi) + ".0-0"
}

func replaceCaret(w string, o Options) string {
	re := reCaret
	if o.Loose {
		re = reCaretLoose
	}
	m := re.FindStringSubmatch(w)
	if m == nil {
		return w
	}
	z := ""
	if o.IncludePrerelease {
		z = "-0"
	}
	M, mi, p, pr := m[1], m[2], m[3], m[4]
	switch {
	case isX(M):
		return ""
	case isX(mi):
		return ">=" + M + ".0.0" + z + " <" + inc(M) + ".0.0-0"
	case isX(p):
		if M == "0" {
			return ">=" + M + "." + mi + ".0" + z + " <" + M + "." + inc(mi) + ".0-0"
		}
		return ">=" + M + "." + mi + ".0" + z + " <" + inc(M) + ".0.0-0"
	case pr != "":
		if M == "0" {
			if mi == "0" {
				return ">=" + M + "." + mi + "." + p + "-" + pr + " <" + M + "." + mi + "." + inc(p) + "-0"
			}
			return ">=" + M + "." + mi + "." + p + "-" + pr + " <" + M + "." + inc(mi) + ".0-0"
		}
		return ">=" + M + "." + mi + "." + p + "-" + pr + " <" + inc(M) + ".0.0-0"
	}
	if M == "0" {
		if mi == "0" {
			return ">=" + M + "." + mi + "." + p + " <" + M + "." + mi + "." + inc(p) + "-0"
		}
		return ">=" + M + "." + mi + "." + p + " <" + M + "." + inc(mi) + ".0-0"
	}
	return ">=" + M + "." + mi + "." + p + " <" + inc(M) + ".0.0-0"
}

func replaceXRange(w string, o Options) string {
	w = strings.TrimSpace(w)
	re := reXRange
	if o.Loose {
		re = reXRangeLoose
	}
	m := re.FindStringSubmatch(w)
	if m == nil {
		return w
	}
	op, M, mi, p := m[1], m[2], m[3], m[4]
	xM := isX(M)
	xm := xM || isX(mi)
	xp := xm || isX(p)
	if op == "=" && xp {
		op = ""
	}
	pr := ""
	if o.IncludePrerelease {
		pr = "-0"
	}
	switch {
	case xM:
		if op == ">" || op == "<" {
			return "<0.0.0-0" // nothing is allowed
		}
		return "*" // nothing is forbidden
	case op != "" && xp:
		if xm {
			mi = "0"
		}
		p = "0"
		switch op {
		case ">":
			op = ">="
			if xm {
				M, mi, p = inc(M), "0", "0"
			} else {
				mi, p = inc(mi), "0"
			}
		case "<=":
			op = "<"
			if xm {
				M = inc(M)
			} else {
				mi = inc(mi)
			}
		}
		if op == "<" {
			pr = "-0"
		}
		return op + M + "." + mi + "." + p + pr
	case xm:
		return ">=" + M + ".0.0" + pr + " <" + inc(M) + ".0.0-0"
	case xp:
		return ">=" + M + "." + mi + ".0" + pr + " <" + M + "." + inc(mi) + ".0-0"
	}
	return w
}

// Contains reports whether v satisfies the range under the options it was
// parsed with: some comparator set accepts v in all its comparators, and,
// unless IncludePrerelease is set, a prerelease v is accepted only by a set
// naming a prerelease of the same major.minor.patch.
func (r *Range) Contains(v Version) bool {
	for _, set := range r.sets {
		if testSet(set, v, r.opts) {
			return true
		}
	}
	return false
}

func testSet(set []comparator, v Version, o Options) bool {
	for _, c := range set {
		if !c.test(v) {
			return false
		}
	}
	if len(v.Prerelease) > 0 && !o.IncludePrerelease {
		for _, c := range set {
			if c.any {
				continue
			}
			if len(c.v.Prerelease) > 0 && c.v.samePatch(v) {
				return true
			}
		}
		return false
	}
	return true
}

func (c comparator) test(v Version) bool {
	if c.any {
		return true
	}
	d := v.Compare(c.v)
	switch c.op {
	case "<":
		return d < 0
	case "<=":
		return d <= 0
	case ">":
		return d > 0
	case ">=":
		return d >= 0
	}
	return d == 0
}

// Satisfies reports whether version satisfies rng under o. Unlike
// node-semver's satisfies, which answers false for input it cannot parse,
// it returns an error then.
func Satisfies(version, rng string, o Options) (bool, error) {
	r, err := ParseRange(rng, o)
	if err != nil {
		return false, err
	}
	v, err := ParseVersion(version, o)
	if err != nil {
		return false, err
	}
	return r.Contains(v), nil
}
