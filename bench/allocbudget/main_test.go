package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkHelmet         	    2000	      1156 ns/op	       2 B/op	       0 allocs/op
BenchmarkInProcess/gateway-full-chain-2 	    2000	     41666 ns/op	    7636 B/op	      48 allocs/op
BenchmarkFastPath/default/compiled         	     100	      8860 ns/op	 113.77 MB/s	    1116 B/op	      44 allocs/op
PASS
`

func TestParseBenchOutput(t *testing.T) {
	got := parseBenchOutput(sample)
	want := map[string]int64{"BenchmarkHelmet": 0, "BenchmarkInProcess/gateway-full-chain": 48, "BenchmarkFastPath/default/compiled": 44}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %d, want %d", k, got[k], v)
		}
	}
}

func TestParseBudgets(t *testing.T) {
	b, err := parseBudgets("# comment\n./headers BenchmarkHelmet 0 # why\n\n./gateway BenchmarkInProcess/bare 11\n")
	if err != nil || len(b) != 2 || b[1].name != "BenchmarkInProcess/bare" || b[1].allocs != 11 || b[1].line != 4 {
		t.Fatalf("got %+v, %v", b, err)
	}
	for _, bad := range []string{
		"", "# only a comment\n", "./headers BenchmarkHelmet\n", "headers BenchmarkHelmet 0\n",
		"./headers Helmet 0\n", "./headers BenchmarkHelmet -1\n", "./headers BenchmarkHelmet x\n",
		"./headers BenchmarkHelmet 0\n./headers BenchmarkHelmet 1\n",
	} {
		if _, err := parseBudgets(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// A path that had no allocation gets one: the check fails, even when the
// second run agrees; a single noisy run over budget does not fail.
func TestMeasureAndCompare(t *testing.T) {
	budgets, _ := parseBudgets("./a BenchmarkX 0\n./a BenchmarkY 3\n./b BenchmarkZ 5\n")
	runs := map[string][]map[string]int64{
		"./a": {{"BenchmarkX": 1, "BenchmarkY": 3}, {"BenchmarkX": 1}},
		"./b": {{"BenchmarkZ": 7}, {"BenchmarkZ": 5}},
	}
	calls := map[string]int{}
	run := func(pkg string, names []string) (map[string]int64, error) {
		r := runs[pkg][calls[pkg]]
		calls[pkg]++
		return r, nil
	}
	measured, err := measure(budgets, run)
	if err != nil {
		t.Fatal(err)
	}
	if calls["./a"] != 2 || calls["./b"] != 2 {
		t.Errorf("runs: got %v, want a second run of each package over budget", calls)
	}
	report, over := compare(budgets, measured)
	if over != 1 || !strings.Contains(report, "BenchmarkX") || !strings.Contains(report, "OVER BUDGET") {
		t.Errorf("got %d over:\n%s", over, report)
	}
	// Under budget is reported, not failed.
	budgets2, _ := parseBudgets("./a BenchmarkY 4\n")
	report, over = compare(budgets2, map[string]int64{"./a BenchmarkY": 3})
	if over != 0 || !strings.Contains(report, "lower it") {
		t.Errorf("under budget: got %d over:\n%s", over, report)
	}
	// A benchmark that no longer runs is an error, not a pass.
	if _, err := measure(budgets2, func(string, []string) (map[string]int64, error) { return map[string]int64{}, nil }); err == nil {
		t.Error("a missing benchmark passed")
	}
}

func TestRewriteKeepsComments(t *testing.T) {
	in := "# head\n./a BenchmarkX 0  # why\n./a BenchmarkY 3\n"
	out := rewrite(in, map[string]int64{"./a BenchmarkX": 1, "./a BenchmarkY": 2})
	b, err := parseBudgets(out)
	if err != nil || b[0].allocs != 1 || b[1].allocs != 2 || !strings.Contains(out, "# why") || !strings.HasPrefix(out, "# head\n") {
		t.Fatalf("got %q, %v", out, err)
	}
}
