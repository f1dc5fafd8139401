// Command allocbudget checks the allocation counts of Rampart's hot-path
// benchmarks against committed budgets, so that a change that adds an
// allocation to a path that had none fails CI.
//
//	go run ./bench/allocbudget [-budgets bench/allocs.txt] [-update]
//
// Allocations per operation are exact and do not depend on the machine's
// load, unlike times, so the check holds on a shared, noisy CI machine: it
// never looks at ns/op. Each package's benchmarks run once with a fixed
// number of iterations on one CPU (-cpu 1: RunParallel benchmarks then
// run on one goroutine, so pools and caches behave the same every run). A
// benchmark over its budget is run again before it fails, so a rare
// garbage collection emptying a sync.Pool cannot fail the build alone.
//
// The budgets file has one benchmark per line — package, benchmark name
// (with sub-benchmark), allocations per operation — and # comments. With
// -update the measured counts are written back into it.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	path := flag.String("budgets", "bench/allocs.txt", "the budgets file")
	update := flag.Bool("update", false, "write the measured counts into the budgets file")
	iterations := flag.Int("iterations", 2000, "iterations per benchmark (-benchtime Nx)")
	flag.Parse()
	text, err := os.ReadFile(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "allocbudget:", err)
		os.Exit(2)
	}
	budgets, err := parseBudgets(string(text))
	if err != nil {
		fmt.Fprintf(os.Stderr, "allocbudget: %s:%v\n", *path, err)
		os.Exit(2)
	}
	run := func(pkg string, names []string) (map[string]int64, error) {
		return runBenchmarks(pkg, names, *iterations)
	}
	measured, err := measure(budgets, run)
	if err != nil {
		fmt.Fprintln(os.Stderr, "allocbudget:", err)
		os.Exit(1)
	}
	if *update {
		if err := os.WriteFile(*path, []byte(rewrite(string(text), measured)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "allocbudget:", err)
			os.Exit(1)
		}
		fmt.Printf("allocbudget: wrote %d budgets to %s\n", len(measured), *path)
		return
	}
	report, over := compare(budgets, measured)
	fmt.Print(report)
	if over > 0 {
		fmt.Fprintf(os.Stderr, "allocbudget: %d benchmark(s) over their allocation budget (%s): remove the allocation, or raise the budget in the same change and say why\n", over, *path)
		os.Exit(1)
	}
}

// budget is one line of the budgets file.
type budget struct {
	line   int
	pkg    string
	name   string // Benchmark…[/sub]
	allocs int64
}

func parseBudgets(text string) ([]budget, error) {
	var out []budget
	seen := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("%d: want \"package benchmark allocs\", got %q", i+1, strings.TrimSpace(line))
		}
		if !strings.HasPrefix(f[0], "./") {
			return nil, fmt.Errorf("%d: package %q: want a path relative to the module root, like ./headers", i+1, f[0])
		}
		if !strings.HasPrefix(f[1], "Benchmark") {
			return nil, fmt.Errorf("%d: %q is not a benchmark name", i+1, f[1])
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%d: allocations %q: want a number of 0 or more", i+1, f[2])
		}
		key := f[0] + " " + f[1]
		if seen[key] {
			return nil, fmt.Errorf("%d: %s is listed twice", i+1, key)
		}
		seen[key] = true
		out = append(out, budget{line: i + 1, pkg: f[0], name: f[1], allocs: n})
	}
	if len(out) == 0 {
		return nil, errors.New("1: no budgets")
	}
	return out, nil
}

// measure runs every package's benchmarks (run returns allocs/op by
// name), and again those over their budget, keeping the lower count.
func measure(budgets []budget, run func(pkg string, names []string) (map[string]int64, error)) (map[string]int64, error) {
	byPkg := map[string][]string{}
	var pkgs []string
	for _, b := range budgets {
		if byPkg[b.pkg] == nil {
			pkgs = append(pkgs, b.pkg)
		}
		byPkg[b.pkg] = append(byPkg[b.pkg], b.name)
	}
	measured := map[string]int64{}
	for _, pkg := range pkgs {
		got, err := run(pkg, byPkg[pkg])
		if err != nil {
			return nil, err
		}
		for _, name := range byPkg[pkg] {
			n, ok := got[name]
			if !ok {
				return nil, fmt.Errorf("%s: %s did not run (renamed, or skipped?)", pkg, name)
			}
			measured[pkg+" "+name] = n
		}
	}
	var again []budget
	for _, b := range budgets {
		if measured[b.pkg+" "+b.name] > b.allocs {
			again = append(again, b)
		}
	}
	for _, b := range again {
		got, err := run(b.pkg, []string{b.name})
		if err != nil {
			return nil, err
		}
		if n, ok := got[b.name]; ok && n < measured[b.pkg+" "+b.name] {
			measured[b.pkg+" "+b.name] = n
		}
	}
	return measured, nil
}

// compare reports every benchmark against its budget and counts those
// over it. A count under the budget is reported, not failed: lower the
// budget to keep the gain.
func compare(budgets []budget, measured map[string]int64) (string, int) {
	var b strings.Builder
	over := 0
	for _, bg := range budgets {
		n := measured[bg.pkg+" "+bg.name]
		status := "ok"
		switch {
		case n > bg.allocs:
			status = "OVER BUDGET"
			over++
		case n < bg.allocs:
			status = "under budget: lower it to keep the gain"
		}
		fmt.Fprintf(&b, "%-22s %-50s %4d allocs/op (budget %d) %s\n", bg.pkg, bg.name, n, bg.allocs, status)
	}
	return b.String(), over
}

// rewrite returns the budgets file with each count replaced by the
// measured one, comments and layout kept.
func rewrite(text string, measured map[string]int64) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		body, comment := line, ""
		if j := strings.IndexByte(line, '#'); j >= 0 {
			body, comment = line[:j], line[j:]
		}
		f := strings.Fields(body)
		if len(f) != 3 {
			continue
		}
		n, ok := measured[f[0]+" "+f[1]]
		if !ok {
			continue
		}
		out := fmt.Sprintf("%-22s %-50s %d", f[0], f[1], n)
		if comment != "" {
			out += "  " + comment
		}
		lines[i] = out
	}
	return strings.Join(lines, "\n")
}

// runBenchmarks runs names in pkg and returns allocs/op by name.
func runBenchmarks(pkg string, names []string, iterations int) (map[string]int64, error) {
	var tops []string
	for _, n := range names {
		top, _, _ := strings.Cut(n, "/")
		if !slices.Contains(tops, top) {
			tops = append(tops, regexp.QuoteMeta(top))
		}
	}
	args := []string{"test", "-run", "^$", "-bench", "^(" + strings.Join(tops, "|") + ")$",
		"-benchtime", strconv.Itoa(iterations) + "x", "-benchmem", "-cpu", "1", "-count", "1", pkg}
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return parseBenchOutput(string(out)), nil
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+.*?\s(\d+) allocs/op`)

// parseBenchOutput reads allocs/op by benchmark name from go test -bench
// output.
func parseBenchOutput(out string) map[string]int64 {
	got := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, err := strconv.ParseInt(m[2], 10, 64)
		if err == nil {
			got[m[1]] = n
		}
	}
	return got
}
