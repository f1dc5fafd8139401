package names

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed top-npm-packages.txt
var topNPM string

// Kind says how a name imitates a popular one.
type Kind string

// The kinds of imitation Check reports.
const (
	Typosquat  Kind = "typosquat"
	Confusable Kind = "confusable-name"
)

// Match is a popular name that a checked name imitates.
type Match struct {
	Kind Kind
	// Popular is the imitated name; Rank is its 1-based place in the list.
	Popular string
	Rank    int
	Detail  string
}

// Checker compares names with a list of popular names.
type Checker struct {
	popular []string
	rank    map[string]int
	folded  map[string]int // confusable skeleton → index of the first popular name
	byLen   map[int][]int
	date    string
}

// New returns a Checker for the popular names given, most popular first.
func New(popular []string, date string) *Checker {
	c := &Checker{rank: map[string]int{}, folded: map[string]int{}, byLen: map[int][]int{}, date: date}
	for _, p := range popular {
		p = strings.TrimSpace(p)
		if p == "" || c.rank[p] != 0 {
			continue
		}
		c.popular = append(c.popular, p)
		i := len(c.popular) - 1
		c.rank[p] = i + 1
		if _, ok := c.folded[skeleton(p)]; !ok {
			c.folded[skeleton(p)] = i
		}
		n := utf8.RuneCountInString(p)
		c.byLen[n] = append(c.byLen[n], i)
	}
	return c
}

var npmChecker = sync.OnceValue(func() *Checker {
	var list []string
	date := ""
	for line := range strings.SplitSeq(topNPM, "\n") {
		if d, ok := strings.CutPrefix(line, "# list-date: "); ok {
			date = strings.TrimSpace(d)
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		list = append(list, line)
	}
	return New(list, date)
})

// NPM returns the Checker for the npm list shipped with rampart.
func NPM() *Checker { return npmChecker() }

// ListDate returns the date of the popular-names list (YYYY-MM-DD), or "".
func (c *Checker) ListDate() string { return c.date }

// Len returns the number of popular names.
func (c *Checker) Len() int { return len(c.popular) }

// Popular reports whether name is in the list.
func (c *Checker) Popular(name string) bool { return c.rank[name] != 0 }

// Check returns the popular names that name imitates; nil when none, or
// when name is itself popular.
func (c *Checker) Check(name string) []Match {
	if name == "" || c.rank[name] != 0 {
		return nil
	}
	var out []Match
	if i, ok := c.folded[skeleton(name)]; ok {
		p := c.popular[i]
		out = append(out, Match{Kind: Confusable, Popular: p, Rank: i + 1,
			Detail: fmt.Sprintf("reads as the popular package %q (#%d by downloads) once %s", p, i+1, howFolded(name, p))})
		return out
	}
	n := utf8.RuneCountInString(name)
	if n < 5 {
		return nil
	}
	for _, l := range []int{n - 1, n, n + 1} {
		for _, i := range c.byLen[l] {
			p := c.popular[i]
			if utf8.RuneCountInString(p) < 5 {
				continue
			}
			if sameScopeShape(name, p) && editDistanceAtMost1(name, p) {
				out = append(out, Match{Kind: Typosquat, Popular: p, Rank: i + 1,
					Detail: fmt.Sprintf("one edit from the popular package %q (#%d by downloads)", p, i+1)})
			}
		}
	}
	return out
}

// sameScopeShape reports whether a may imitate b: both scoped or both
// unscoped, and not in the same scope, since only a scope's owner
// publishes under it.
func sameScopeShape(a, b string) bool {
	if strings.HasPrefix(a, "@") != strings.HasPrefix(b, "@") {
		return false
	}
	if strings.HasPrefix(a, "@") {
		sa, _, _ := strings.Cut(a, "/")
		sb, _, _ := strings.Cut(b, "/")
		return sa != sb
	}
	return true
}

// howFolded says what makes a and b differ.
func howFolded(a, b string) string {
	switch {
	case !isASCII(a):
		return "look-alike Unicode letters are read as Latin"
	case strings.ToLower(a) == strings.ToLower(b):
		return "case is ignored"
	case stripSeparators(strings.ToLower(a)) == stripSeparators(strings.ToLower(b)):
		return "separators (-, _, .) are ignored"
	default:
		return "look-alike characters (1/l, 0/o, rn/m, vv/w) are read alike"
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, s)
}

// confusables maps look-alike letters to the Latin letter they imitate.
var confusables = map[rune]rune{
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's',
	'ԁ': 'd', 'һ': 'h', 'ӏ': 'l', 'ԛ': 'q', 'ԝ': 'w', 'ɡ': 'g', 'ν': 'v', 'ο': 'o', 'α': 'a', 'ι': 'i',
	'κ': 'k', 'τ': 't', 'ρ': 'p', 'υ': 'u', 'ω': 'w', 'ı': 'i', 'ł': 'l', 'ſ': 's',
	'А': 'a', 'В': 'b', 'Е': 'e', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o', 'Р': 'p', 'С': 'c', 'Т': 't', 'Х': 'x',
	'１': '1', '０': '0', 'ｌ': 'l', 'ｏ': 'o',
}

// skeleton folds a name so that names a person reads alike fold alike:
// case, separators, look-alike letters and digits.
func skeleton(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if m, ok := confusables[r]; ok {
			r = m
		}
		switch r {
		case '-', '_', '.':
			continue
		case '1', 'i', '|':
			r = 'l'
		case '0':
			r = 'o'
		}
		b.WriteRune(r)
	}
	out := strings.ReplaceAll(b.String(), "rn", "m")
	return strings.ReplaceAll(out, "vv", "w")
}

// editDistanceAtMost1 reports whether a and b differ by at most one
// insertion, deletion, substitution or transposition of adjacent letters.
func editDistanceAtMost1(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	switch len(ra) - len(rb) {
	case 0:
		diff := -1
		for i := range ra {
			if ra[i] != rb[i] {
				if diff >= 0 {
					// a transposition of i-1 and i
					return diff == i-1 && ra[diff] == rb[i] && ra[i] == rb[diff] && string(ra[i+1:]) == string(rb[i+1:])
				}
				diff = i
			}
		}
		return true
	case 1:
		i := 0
		for i < len(rb) && ra[i] == rb[i] {
			i++
		}
		return string(ra[i+1:]) == string(rb[i:])
	}
	return false
}
