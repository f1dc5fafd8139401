// Command bench measures Rampart's whole-system throughput against a bare Go
// reverse proxy in the same run.
//
//	go run ./bench [-scenario zero-config] [-duration 10s] [-rounds 3]
//
//	go run ./bench -compare [-scenario full]
//
// It builds rampart, starts a trivial Go upstream, a bare
// net/http/httputil.ReverseProxy (same transport tuning as rampart's) and
// rampart with the scenario's configuration, each in its own process on
// loopback. It then drives bare proxy and rampart alternately (A/B/A/B…) with
// the same load generator — wrk when it is installed, otherwise a small Go
// generator — and prints requests per second, p50 and p99 latency for each
// round, the medians, and the ratio rampart / bare proxy, with the CPU time
// per request of each system's processes (from /proc) and their resident
// memory at rest and under load. With -compare, nginx and the Express stack
// of bench/node run in the same rounds. Machines are shared and noisy: quote
// the medians, never a single round.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "upstream":
			runUpstream(os.Args[2])
			return
		case "bareproxy":
			runBareProxy(os.Args[2], os.Args[3])
			return
		}
	}
	os.Exit(run())
}

func run() int {
	scenarioName := flag.String("scenario", "zero-config", "scenario to run: "+strings.Join(scenarioNames(), ", ")+", or all")
	duration := flag.Duration("duration", 10*time.Second, "length of each measurement")
	rounds := flag.Int("rounds", 3, "A/B rounds; the medians are reported")
	conns := flag.Int("conns", 32, "concurrent keep-alive connections")
	threads := flag.Int("threads", 1, "load generator threads (wrk -t)")
	tool := flag.String("tool", "auto", "load generator: auto (wrk if installed), wrk or go")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured warm-up per target")
	before := flag.String("before", "", "also run this rampart binary (another build, such as the parent commit's) with the scenario's configuration, in the same rounds")
	compare := flag.Bool("compare", false, "also measure nginx and the Express stack of bench/node in the same rounds (each skipped, with a note, when not installed); the scenario defaults to full")
	flag.Parse()
	if *compare {
		explicit := false
		flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "scenario" })
		if !explicit {
			*scenarioName = "full"
		}
	}

	names := []string{*scenarioName}
	if *scenarioName == "all" {
		names = scenarioNames()
	}
	gen, err := newGenerator(*tool, *threads, *conns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	dir, err := os.MkdirTemp("", "rampart-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "rampart")
	fmt.Fprintln(os.Stderr, "bench: building rampart")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rampart")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: build failed (run from the repository root):", err)
		return 1
	}
	fmt.Printf("load generator: %s, %d connections, %d rounds of %s, on %s\n\n", gen.name(), *conns, *rounds, *duration, hostInfo())
	failed := false
	for _, name := range names {
		sc, ok := allScenarios()[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: unknown scenario %q (have %s)\n", name, strings.Join(scenarioNames(), ", "))
			return 2
		}
		if sc.request.bodyFile != "" {
			body, err := os.ReadFile(sc.request.bodyFile)
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: %s: %v\n", name, err)
				return 1
			}
			sc.request.body = string(body)
		}
		if err := runScenario(sc, bin, dir, gen, *duration, *warmup, *rounds, compareOptions{nginx: *compare, express: *compare, before: *before}); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", name, err)
			failed = true
		}
	}
	if failed {
		return 1
	}
	return 0
}

type measurement struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
	requests int64 // answered during the run, for CPU per request
	// Filled in by runScenario from /proc: CPU time of each of the target's
	// processes during the run, and their largest resident size.
	cpu    []time.Duration
	rssMax int64
}

// target is one system measured in a scenario's rounds.
type target struct {
	name    string
	addr    string
	headers map[string]string // added to the scenario's request
	procs   []proc            // whose CPU time and memory are reported
	rssRest int64
}

// proc is a process (with its direct children) whose resources count
// for a target.
type proc struct {
	name string
	pid  int
}

func (t *target) pids(p proc) []int { return procTree(p.pid) }

// compareOptions says which other systems a run adds to the rounds.
type compareOptions struct {
	nginx, express bool
	before         string // another rampart binary to run beside this one
}

func runScenario(sc scenario, bin, dir string, gen generator, duration, warmup time.Duration, rounds int, cmp compareOptions) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	upAddr, bareAddr, rampAddr, altAddr := freeAddr(), freeAddr(), freeAddr(), freeAddr()
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_, _ = p.Process.Wait()
		}
	}()
	startCmd := func(cmd *exec.Cmd, tag string) (int, error) {
		logf, err := os.CreateTemp(dir, tag+"-*.log")
		if err != nil {
			return 0, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		procs = append(procs, cmd)
		return cmd.Process.Pid, nil
	}
	start := func(name string, args ...string) (int, error) {
		return startCmd(exec.Command(name, args...), filepath.Base(name)+"-"+args[0])
	}
	if _, err := start(self, "upstream", upAddr); err != nil {
		return err
	}
	barePid, err := start(self, "bareproxy", bareAddr, "http://"+upAddr)
	if err != nil {
		return err
	}
	var vars map[string]string
	var notes []string
	if sc.prepare != nil {
		v, cleanup, err := sc.prepare(bin, dir)
		switch {
		case err != nil && sc.altNeedsPrepare:
			// Only the variant that needs the service is skipped.
			notes = append(notes, sc.altName+" skipped: "+err.Error())
			sc.alt = ""
		case err != nil:
			return err
		default:
			defer cleanup()
			vars = v
		}
	}
	addrs := []string{upAddr}
	targets := []*target{{name: "bare proxy", addr: bareAddr, procs: []proc{{"bare proxy", barePid}}}}
	rampTargets := []*target{}
	configs := []struct{ cfg, tag, name, addr, bin string }{{sc.config, "a", "rampart", rampAddr, bin}, {sc.alt, "b", sc.altName, altAddr, bin}}
	if cmp.before != "" {
		// The same configuration served by another build, in the same
		// rounds: a change measured against its parent on one machine
		// state, which a loaded machine's run-to-run noise cannot give.
		configs = append(configs, struct{ cfg, tag, name, addr, bin string }{sc.config, "c", "rampart, before", freeAddr(), cmp.before})
	}
	for _, r := range configs {
		if r.tag == "b" && sc.alt == "" {
			continue
		}
		bin := r.bin
		args, err := sc.args(r.cfg, r.tag, dir, "http://"+upAddr, r.addr, vars)
		if err != nil {
			return err
		}
		if sc.after != nil {
			if err := sc.after(bin, args[len(args)-1]); err != nil {
				return err
			}
		}
		pid, err := start(bin, args...)
		if err != nil {
			return err
		}
		t := &target{name: r.name, addr: r.addr, procs: []proc{{"rampart", pid}}}
		if p, ok := vars["redis_pid"]; ok && strings.Contains(r.cfg, "{{redis}}") {
			if n, err := strconv.Atoi(p); err == nil {
				t.procs = append(t.procs, proc{"redis", n})
			}
		}
		targets = append(targets, t)
		rampTargets = append(rampTargets, t)
	}
	if cmp.nginx {
		nginxAddr := freeAddr()
		cmd, err := nginxCommand(dir, nginxAddr, upAddr)
		if err != nil {
			notes = append(notes, "nginx skipped: "+err.Error())
		} else if pid, err := startCmd(cmd, "nginx"); err != nil {
			notes = append(notes, "nginx skipped: "+err.Error())
		} else {
			targets = append(targets, &target{name: "nginx", addr: nginxAddr, procs: []proc{{"nginx", pid}}})
		}
	}
	var express *target
	if cmp.express {
		switch {
		case !sc.express:
			notes = append(notes, "Express stack skipped: it implements the full chain only (-scenario full)")
		default:
			expAddr := freeAddr()
			cmd, err := expressCommand(expAddr[strings.LastIndexByte(expAddr, ':')+1:], "http://"+upAddr)
			if err != nil {
				notes = append(notes, "Express stack skipped: "+err.Error())
			} else if pid, err := startCmd(cmd, "express"); err != nil {
				notes = append(notes, "Express stack skipped: "+err.Error())
			} else {
				express = &target{name: "Express stack", addr: expAddr, procs: []proc{{"node", pid}}}
				targets = append(targets, express)
			}
		}
	}
	for _, n := range notes {
		fmt.Fprintln(os.Stderr, "bench: "+n)
	}
	for _, t := range targets {
		addrs = append(addrs, t.addr)
	}
	for _, a := range addrs {
		if err := waitListening(a, 30*time.Second); err != nil {
			return err
		}
	}
	for _, t := range rampTargets {
		if sc.login != nil {
			hdrs, err := sc.login("http://" + t.addr)
			if err != nil {
				return fmt.Errorf("%s: login: %w", t.name, err)
			}
			t.headers = hdrs
		}
	}
	if express != nil {
		hdrs, err := expressLogin("http://" + express.addr)
		if err != nil {
			return fmt.Errorf("%s: login: %w", express.name, err)
		}
		express.headers = hdrs
	}
	for _, t := range targets {
		if t.headers == nil {
			t.headers = rampTargets[0].headers // the proxies pass it through
		}
		req := sc.request.with(t.headers)
		if err := req.check("http://" + t.addr); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		var total int64
		for _, p := range t.procs {
			if v, ok := rss(t.pids(p)); ok {
				total += v
			}
		}
		t.rssRest = total
		if _, err := gen.run("http://"+t.addr, req, warmup); err != nil {
			return err
		}
	}
	fmt.Printf("## %s\n\n%s\n\n", sc.name, sc.description)
	for _, n := range notes {
		fmt.Printf("%s.\n\n", n)
	}
	fmt.Println("| round | target | req/s | p50 | p99 | CPU µs/req | errors |")
	fmt.Println("|---|---|---|---|---|---|---|")
	results := map[string][]measurement{}
	for round := 1; round <= rounds; round++ {
		for _, t := range targets {
			var pids [][]int
			var before []time.Duration
			var all []int
			for _, p := range t.procs {
				ps := t.pids(p)
				pids = append(pids, ps)
				all = append(all, ps...)
				c, _ := cpuTime(ps)
				before = append(before, c)
			}
			sampler := sampleRSS(all)
			m, err := gen.run("http://"+t.addr, sc.request.with(t.headers), duration)
			m.rssMax = sampler.stop()
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			for i, ps := range pids {
				c, _ := cpuTime(ps)
				m.cpu = append(m.cpu, c-before[i])
			}
			results[t.name] = append(results[t.name], m)
			fmt.Printf("| %d | %s | %.0f | %s | %s | %s | %d |\n", round, t.name, m.rps, fmtLatency(m.p50), fmtLatency(m.p99), fmtCPU(t, m), m.errors)
		}
	}
	bare := median(results["bare proxy"])
	fmt.Printf("\n| target | median req/s | ÷ bare proxy | median p50 | median p99 | CPU µs/req | RSS at rest | RSS under load |\n|---|---|---|---|---|---|---|---|\n")
	var errs int64
	for _, t := range targets {
		m := median(results[t.name])
		errs += m.errors
		fmt.Printf("| %s | %.0f | %.3f | %s | %s | %s | %s | %s |\n", t.name, m.rps, m.rps/bare.rps, fmtLatency(m.p50), fmtLatency(m.p99), fmtCPU(t, m), fmtBytes(t.rssRest), fmtBytes(m.rssMax))
	}
	fmt.Println()
	ratio := func(a, b string) {
		ra, rb := results[a], results[b]
		var rs []float64
		for i := range ra {
			rs = append(rs, ra[i].rps/rb[i].rps)
		}
		slices.Sort(rs)
		fmt.Printf("**ratio %s / %s (median req/s): %.3f** (per-round ratios, sorted: %s; their median %.3f)\n\n",
			a, b, median(ra).rps/median(rb).rps, fmtFloats(rs), rs[len(rs)/2])
	}
	for _, t := range targets[1:] {
		ratio(t.name, "bare proxy")
	}
	if sc.alt != "" {
		ratio("rampart", sc.altName)
	}
	if cmp.before != "" {
		ratio("rampart", "rampart, before")
	}
	if express != nil {
		for _, t := range rampTargets {
			ratio(t.name, express.name)
		}
	}
	if errs > 0 {
		fmt.Printf("warning: %d failed or non-2xx responses; the numbers are not comparable\n\n", errs)
	}
	return nil
}

// fmtLatency rounds a latency read from wrk's decimal output (4.059999ms)
// to the microsecond.
func fmtLatency(d time.Duration) string { return d.Round(time.Microsecond).String() }

// fmtCPU formats the CPU time per request of t's processes in m: the total,
// then each process's share when there are several.
func fmtCPU(t *target, m measurement) string {
	if m.requests <= 0 || len(m.cpu) == 0 {
		return "—"
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(m.requests) }
	var total time.Duration
	for _, c := range m.cpu {
		total += c
	}
	s := fmt.Sprintf("%.1f", per(total))
	if len(m.cpu) > 1 {
		parts := make([]string, len(m.cpu))
		for i, c := range m.cpu {
			parts[i] = fmt.Sprintf("%s %.1f", t.procs[i].name, per(c))
		}
		s += " (" + strings.Join(parts, " + ") + ")"
	}
	return s
}

func median(ms []measurement) measurement {
	pick := func(f func(measurement) float64) float64 {
		vs := make([]float64, len(ms))
		for i, m := range ms {
			vs[i] = f(m)
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	var errs int64
	for _, m := range ms {
		errs += m.errors
	}
	out := measurement{
		rps:      pick(func(m measurement) float64 { return m.rps }),
		p50:      time.Duration(pick(func(m measurement) float64 { return float64(m.p50) })),
		p99:      time.Duration(pick(func(m measurement) float64 { return float64(m.p99) })),
		errors:   errs,
		rssMax:   int64(pick(func(m measurement) float64 { return float64(m.rssMax) })),
		requests: 1e6,
	}
	// CPU per request: the median of the rounds' per-request figures,
	// expressed per million requests so fmtCPU can share the formatting.
	for i := range ms[0].cpu {
		out.cpu = append(out.cpu, time.Duration(pick(func(m measurement) float64 {
			if m.requests <= 0 || i >= len(m.cpu) {
				return 0
			}
			return float64(m.cpu[i]) * 1e6 / float64(m.requests)
		})))
	}
	return out
}

func fmtFloats(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%.3f", f)
	}
	return strings.Join(parts, ", ")
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listening on %s after %s", addr, timeout)
}

func hostInfo() string {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return "unknown host"
	}
	return strings.TrimSpace(string(out)) + " cores"
}

// runUpstream serves a tiny fixed response, like a fast application.
func runUpstream(addr string) {
	body := []byte(`{"ok":true,"message":"hello from the upstream"}`)
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	fmt.Fprintln(os.Stderr, srv.ListenAndServe())
}

// runBareProxy is the baseline: httputil.ReverseProxy with the same
// transport tuning rampart uses, and nothing else.
func runBareProxy(addr, upstream string) {
	u, err := url.Parse(upstream)
	if err != nil {
		panic(err)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   true,
		},
	}
	srv := &http.Server{Addr: addr, Handler: rp, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintln(os.Stderr, srv.ListenAndServe())
}
