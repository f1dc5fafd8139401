package npmsemver

// Bound is one end of an interval of versions.
type Bound struct {
	// Version is the bound's version; it is meaningless when Unbounded.
	Version Version
	// Inclusive reports whether Version itself is inside the interval.
	Inclusive bool
	// Unbounded reports that the interval is open on this side.
	Unbounded bool
}

// Interval is the set of versions one comparator set of a range accepts,
// under IncludePrerelease semantics (plain semver precedence).
type Interval struct {
	Lower, Upper Bound
}

// Intervals returns the range as a union of intervals, one per comparator
// set, leaving out sets that accept nothing. The answer describes the
// range's meaning with IncludePrerelease set, which is how npm audit and
// OSV compare versions; with it unset, Contains also excludes prereleases
// that the intervals include.
func (r *Range) Intervals() []Interval {
	var out []Interval
	for _, set := range r.sets {
		iv := Interval{Lower: Bound{Unbounded: true}, Upper: Bound{Unbounded: true}}
		for _, c := range set {
			if c.any {
				continue
			}
			if c.op == "" || c.op == ">" || c.op == ">=" {
				iv.Lower = tighterLower(iv.Lower, Bound{Version: c.v, Inclusive: c.op != ">"})
			}
			if c.op == "" || c.op == "<" || c.op == "<=" {
				iv.Upper = tighterUpper(iv.Upper, Bound{Version: c.v, Inclusive: c.op != "<"})
			}
		}
		if iv.empty() {
			continue
		}
		out = append(out, iv)
	}
	return out
}

func tighterLower(a, b Bound) Bound {
	if a.Unbounded {
		return b
	}
	switch c := a.Version.Compare(b.Version); {
	case c < 0:
		return b
	case c > 0:
		return a
	}
	if !b.Inclusive {
		return b
	}
	return a
}

func tighterUpper(a, b Bound) Bound {
	if a.Unbounded {
		return b
	}
	switch c := a.Version.Compare(b.Version); {
	case c > 0:
		return b
	case c < 0:
		return a
	}
	if !b.Inclusive {
		return b
	}
	return a
}

func (iv Interval) empty() bool {
	if iv.Lower.Unbounded || iv.Upper.Unbounded {
		return false
	}
	c := iv.Lower.Version.Compare(iv.Upper.Version)
	return c > 0 || c == 0 && !(iv.Lower.Inclusive && iv.Upper.Inclusive)
}

// Successor returns the least version greater than v in semver precedence:
// v with ".0" appended to its prerelease, or the next patch's "-0"
// prerelease for a release.
func (v Version) Successor() Version {
	s := Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch}
	if len(v.Prerelease) > 0 {
		s.Prerelease = append(append([]string(nil), v.Prerelease...), "0")
		return s
	}
	s.Patch++
	s.Prerelease = []string{"0"}
	return s
}
