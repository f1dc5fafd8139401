// Command bench measures Rampart's whole-system throughput against a bare Go
// reverse proxy in the same run.
//
//	go run ./bench [-scenario zero-config] [-duration 10s] [-rounds 3]
//
// It builds rampart, starts a trivial Go upstream, a bare
// net/http/httputil.ReverseProxy (same transport tuning as rampart's) and
// rampart with the scenario's configuration, each in its own process on
// loopback. It then drives bare proxy and rampart alternately (A/B/A/B…) with
// the same load generator — wrk when it is installed, otherwise a small Go
// generator — and prints requests per second, p50 and p99 latency for each
// round, the medians, and the ratio rampart / bare proxy. Machines are
// shared and noisy: quote the medians, never a single round.
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
	flag.Parse()

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
		if err := runScenario(sc, bin, dir, gen, *duration, *warmup, *rounds); err != nil {
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
}

func runScenario(sc scenario, bin, dir string, gen generator, duration, warmup time.Duration, rounds int) error {
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
	start := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		logf, err := os.CreateTemp(dir, filepath.Base(name)+"-"+args[0]+"-*.log")
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return err
		}
		procs = append(procs, cmd)
		return nil
	}
	if err := start(self, "upstream", upAddr); err != nil {
		return err
	}
	if err := start(self, "bareproxy", bareAddr, "http://"+upAddr); err != nil {
		return err
	}
	var vars map[string]string
	if sc.prepare != nil {
		v, cleanup, err := sc.prepare(bin, dir)
		if err != nil {
			return err
		}
		defer cleanup()
		vars = v
	}
	args, err := sc.args(sc.config, "a", dir, "http://"+upAddr, rampAddr, vars)
	if err != nil {
		return err
	}
	if sc.after != nil {
		if err := sc.after(bin, args[len(args)-1]); err != nil {
			return err
		}
	}
	if err := start(bin, args...); err != nil {
		return err
	}
	addrs := []string{upAddr, bareAddr, rampAddr}
	targets := []struct{ name, addr string }{{"bare proxy", bareAddr}, {"rampart", rampAddr}}
	if sc.alt != "" {
		altArgs, err := sc.args(sc.alt, "b", dir, "http://"+upAddr, altAddr, vars)
		if err != nil {
			return err
		}
		if err := start(bin, altArgs...); err != nil {
			return err
		}
		addrs = append(addrs, altAddr)
		targets = append(targets, struct{ name, addr string }{sc.altName, altAddr})
	}
	for _, a := range addrs {
		if err := waitListening(a, 10*time.Second); err != nil {
			return err
		}
	}
	if sc.login != nil {
		hdrs, err := sc.login("http://" + rampAddr)
		if err != nil {
			return fmt.Errorf("login: %w", err)
		}
		if sc.request.headers == nil {
			sc.request.headers = map[string]string{}
		}
		for k, v := range hdrs {
			sc.request.headers[k] = v
		}
	}
	for _, tg := range targets {
		if err := sc.check("http://" + tg.addr); err != nil {
			return fmt.Errorf("%s: %w", tg.name, err)
		}
		if _, err := gen.run("http://"+tg.addr, sc.request, warmup); err != nil {
			return err
		}
	}
	fmt.Printf("## %s\n\n%s\n\n", sc.name, sc.description)
	fmt.Println("| round | target | req/s | p50 | p99 | errors |")
	fmt.Println("|---|---|---|---|---|---|")
	results := map[string][]measurement{}
	for round := 1; round <= rounds; round++ {
		for _, tg := range targets {
			m, err := gen.run("http://"+tg.addr, sc.request, duration)
			if err != nil {
				return fmt.Errorf("%s: %w", tg.name, err)
			}
			results[tg.name] = append(results[tg.name], m)
			fmt.Printf("| %d | %s | %.0f | %s | %s | %d |\n", round, tg.name, m.rps, m.p50, m.p99, m.errors)
		}
	}
	bare, ramp := median(results["bare proxy"]), median(results["rampart"])
	var ratios []float64
	for i := range results["rampart"] {
		ratios = append(ratios, results["rampart"][i].rps/results["bare proxy"][i].rps)
	}
	slices.Sort(ratios)
	fmt.Printf("\n| target | median req/s | median p50 | median p99 |\n|---|---|---|---|\n")
	fmt.Printf("| bare proxy | %.0f | %s | %s |\n", bare.rps, bare.p50, bare.p99)
	fmt.Printf("| rampart | %.0f | %s | %s |\n", ramp.rps, ramp.p50, ramp.p99)
	errs := bare.errors + ramp.errors
	var alt measurement
	if sc.alt != "" {
		alt = median(results[sc.altName])
		fmt.Printf("| %s | %.0f | %s | %s |\n", sc.altName, alt.rps, alt.p50, alt.p99)
		errs += alt.errors
	}
	fmt.Printf("\n**ratio rampart / bare proxy (median req/s): %.3f** (per-round ratios, sorted: %s; their median %.3f)\n\n",
		ramp.rps/bare.rps, fmtFloats(ratios), ratios[len(ratios)/2])
	if sc.alt != "" {
		var altRatios []float64
		for i := range results["rampart"] {
			altRatios = append(altRatios, results["rampart"][i].rps/results[sc.altName][i].rps)
		}
		slices.Sort(altRatios)
		fmt.Printf("**ratio rampart / %s (median req/s): %.3f** (per-round ratios, sorted: %s; their median %.3f)\n\n",
			sc.altName, ramp.rps/alt.rps, fmtFloats(altRatios), altRatios[len(altRatios)/2])
	}
	if errs > 0 {
		fmt.Printf("warning: %d failed or non-2xx responses; the numbers are not comparable\n\n", errs)
	}
	return nil
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
	return measurement{
		rps:    pick(func(m measurement) float64 { return m.rps }),
		p50:    time.Duration(pick(func(m measurement) float64 { return float64(m.p50) })),
		p99:    time.Duration(pick(func(m measurement) float64 { return float64(m.p99) })),
		errors: errs,
	}
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
