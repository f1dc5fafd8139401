package selftest

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// latin folds the Cyrillic look-alikes the corpus uses back to Latin.
var latin = func() map[rune]rune {
	m := map[rune]rune{}
	for l, c := range cyrillic {
		m[c] = l
	}
	return m
}()

// foldPath is one lenient reading of an already decoded path.
func foldPath(p string) string {
	// Overlong two-byte forms of ASCII (C0 80 – C1 BF).
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if (p[i] == 0xC0 || p[i] == 0xC1) && i+1 < len(p) && p[i+1]&0xC0 == 0x80 {
			b.WriteByte((p[i]&0x1F)<<6 | p[i+1]&0x3F)
			i++
			continue
		}
		b.WriteByte(p[i])
	}
	p = strings.ReplaceAll(b.String(), `\`, "/")
	p = norm.NFKC.String(p)
	p = strings.Map(func(r rune) rune {
		if l, ok := latin[r]; ok {
			return l
		}
		return r
	}, p)
	p = strings.ToLower(strings.ToUpper(p))
	var segs []string
	for _, s := range strings.Split(p, "/") {
		s, _, _ = strings.Cut(s, ";")
		if s != "." && s != ".." {
			// Windows and some servers drop trailing dots and spaces.
			s = strings.TrimRight(s, ". \t\x00")
		}
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	return "/" + strings.Join(segs, "/")
}

// matchLenient reports whether the folded path p falls under the route
// pattern, as a prefix-matching application router would see it.
func matchLenient(pattern, p string) bool {
	ps := strings.Split(strings.Trim(strings.ToLower(pattern), "/"), "/")
	if strings.HasSuffix(pattern, "/") && pattern != "/" {
		ps = append(ps, "{rest...}")
	}
	ss := strings.Split(strings.Trim(p, "/"), "/")
	if len(ss) == 1 && ss[0] == "" {
		ss = nil
	}
	if len(ps) == 1 && ps[0] == "" {
		ps = nil
	}
	for i, seg := range ps {
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "...}"):
			return true
		case seg == "{$}":
			return i == len(ss)
		case i >= len(ss):
			// "/admin" under "/admin/{path...}": routers match it.
			return i == len(ps)-1 && strings.HasSuffix(seg, "...}")
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
		case seg != ss[i]:
			return false
		}
	}
	return len(ss) == len(ps)
}
