package canonical

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestLookalikeIsEveryNFKCForm checks the generated table against the
// normalisation data over all of Unicode: a rune is refused exactly when
// its NFKC form contains a character that shapes a path, or when it is one
// of the best-fit mappings.
func TestLookalikeIsEveryNFKCForm(t *testing.T) {
	t.Parallel()
	bestFit := []rune{0x00A5, 0x20A9, 0x2044, 0x2215, 0x2216, 0x29F5, 0x29F8, 0x29F9, 0x3002, 0xFF61}
	if !slices.IsSorted(lookalikes[:]) {
		t.Fatal("lookalikes is not sorted: run go generate ./access/canonical")
	}
	checked := 0
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		checked++
		want := strings.ContainsAny(norm.NFKC.String(string(r)), `./\?#;%`) || slices.Contains(bestFit, r)
		if got := lookalike(r); got != want {
			t.Errorf("lookalike(%U) = %v, want %v (NFKC %q): run go generate ./access/canonical", r, got, want, norm.NFKC.String(string(r)))
		}
	}
	for r := rune(0); r < 0x80; r++ {
		if lookalike(r) {
			t.Errorf("lookalike(%q): ASCII is judged by the path rules, not the table", r)
		}
	}
	if checked < 1_000_000 {
		t.Fatalf("checked only %d runes", checked)
	}
}

// TestLookalikeRefusedInPaths checks every table entry end to end: raw
// and percent-encoded, in the middle of a segment.
func TestLookalikeRefusedInPaths(t *testing.T) {
	t.Parallel()
	for _, r := range lookalikes {
		raw := "/public/a" + string(r) + "b"
		if _, err := Path(raw); err != ErrLookalike {
			t.Errorf("Path(%q) = %v, want ErrLookalike", raw, err)
		}
		var enc strings.Builder
		enc.WriteString("/public/a")
		for _, c := range []byte(string(r)) {
			enc.WriteString("%")
			enc.WriteString(strings.ToUpper(string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])))
		}
		if _, err := Path(enc.String()); err != ErrLookalike {
			t.Errorf("Path(%q) = %v, want ErrLookalike", enc.String(), err)
		}
	}
}
