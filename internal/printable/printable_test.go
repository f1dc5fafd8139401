package printable_test

import (
	"fmt"
	"testing"

	"github.com/rampartsec/rampart/internal/printable"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"lodash", "lodash"},
		{"@scope/pkg", "@scope/pkg"},
		{"café", "café"},
		{`a\b`, `a\b`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"a\nb", `a\nb`},
		{"x\r::error::forged", `x\r::error::forged`},
		{"\x1b]8;;https://evil\x07link", `\x1b]8;;https://evil\x07link`},
		{"admin\u202egpj.exe", `admin\u202egpj.exe`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"back\\slash\x00", `back\\slash\x00`},
		{"\x7f", `\x7f`},
	} {
		if got := printable.Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q): got %q, want %q", tc.in, got, tc.want)
		}
		if got := printable.Safe(tc.in); got != (tc.in == tc.want) {
			t.Errorf("Safe(%q): got %v", tc.in, got)
		}
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"lodash", "\x1b[2J", "a\r\nb", "\u202e", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := printable.Escape(s)
		if !printable.Safe(out) {
			t.Fatalf("Escape(%q) = %q is not safe", s, out)
		}
		if printable.Safe(s) && out != s {
			t.Fatalf("Escape changed safe text %q to %q", s, out)
		}
	})
}

func ExampleEscape() {
	fmt.Println(printable.Escape("left-pad"))
	fmt.Println(printable.Escape("evil\x1b[2J\r\n::error::owned"))
	// Output:
	// left-pad
	// evil\x1b[2J\r\n::error::owned
}
