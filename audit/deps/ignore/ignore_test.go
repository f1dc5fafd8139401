package ignore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/deps/ignore"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestParseRefusesBadEntries(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{"no until", "ignore:\n  - id: GHSA-1\n    reason: x\n", "x.yaml:2: GHSA-1: until is required: an ignore must expire"},
		{"no reason", "ignore:\n  - id: GHSA-1\n    until: 2027-01-01\n", "x.yaml:2: GHSA-1: reason is required"},
		{"no id", "ignore:\n  - reason: x\n    until: 2027-01-01\n", "x.yaml:2: id is required"},
		{"too far", "ignore:\n  - id: GHSA-1\n    reason: x\n    until: 9999-12-31\n", "until 9999-12-31 is more than a year away"},
		{"bad date", "ignore:\n  - id: GHSA-1\n    reason: x\n    until: soon\n", `line 4: until: "soon" is not a date`},
		{"unknown key", "ignore:\n  - id: GHSA-1\n    reason: x\n    until: 2027-01-01\n    forever: true\n", "line 5: field forever not found"},
		{"unknown top key", "ignores: []\n", "field ignores not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ignore.Parse("x.yaml", []byte(tt.yaml), now)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMatchAndExpiry(t *testing.T) {
	t.Parallel()
	l, err := ignore.Parse("x.yaml", []byte(`ignore:
  - id: CVE-2020-8203
    package: lodash
    reason: build-time only
    until: 2026-12-31
  - id: GHSA-old
    reason: was fine then
    until: 2026-11-25
  - id: GHSA-today
    reason: last day
    until: 2026-11-26
`), now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pkg  string
		ids  []string
		want bool
	}{
		{"alias matches", "lodash", []string{"GHSA-p6mc-m468-83gw", "CVE-2020-8203"}, true},
		{"other package", "underscore", []string{"CVE-2020-8203"}, false},
		{"expired", "x", []string{"GHSA-old"}, false},
		{"last day still active", "x", []string{"GHSA-today"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := l.Match(tt.pkg, tt.ids, now) != nil; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	exp := l.Expired(now)
	if len(exp) != 1 || exp[0].ID != "GHSA-old" || exp[0].Line != 6 {
		t.Errorf("got %+v, want GHSA-old at line 6", exp)
	}
}

func TestSignalEntries(t *testing.T) {
	t.Parallel()
	l, err := ignore.Parse("x.yaml", []byte(`ignore:
  - signal: network
    package: axios
    reason: an HTTP client
    until: 2027-01-01
  - signal: env-access
    reason: config loaders everywhere
    until: 2026-01-01
`), now)
	if err != nil {
		t.Fatal(err)
	}
	if e := l.MatchSignal("axios", "network", now); e == nil || e.Line != 2 {
		t.Fatalf("got %+v, want the axios entry", e)
	}
	if e := l.MatchSignal("other", "network", now); e != nil {
		t.Fatalf("got %+v for another package, want nil", e)
	}
	if e := l.MatchSignal("x", "env-access", now); e != nil {
		t.Fatalf("got %+v from an expired entry, want nil", e)
	}
	if e := l.Match("axios", []string{"network"}, now); e != nil {
		t.Fatalf("got a signal entry matching an advisory id: %+v", e)
	}
	for _, bad := range []string{
		"ignore:\n  - id: GHSA-1\n    signal: network\n    reason: x\n    until: 2027-01-01\n",
		"ignore:\n  - signal: Network\n    reason: x\n    until: 2027-01-01\n",
		"ignore:\n  - signal: network\n    reason: x\n",
	} {
		if _, err := ignore.Parse("x.yaml", []byte(bad), now); err == nil {
			t.Errorf("got no error for %q", bad)
		}
	}
}
