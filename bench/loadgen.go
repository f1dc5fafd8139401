package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type generator interface {
	name() string
	run(base string, req request, d time.Duration) (measurement, error)
}

func newGenerator(tool string, threads, conns int) (generator, error) {
	switch tool {
	case "auto":
		if _, err := exec.LookPath("wrk"); err == nil {
			return &wrk{threads: threads, conns: conns}, nil
		}
		return &goGen{conns: conns}, nil
	case "wrk":
		if _, err := exec.LookPath("wrk"); err != nil {
			return nil, fmt.Errorf("wrk is not installed (apt-get install wrk), or use -tool go")
		}
		return &wrk{threads: threads, conns: conns}, nil
	case "go":
		return &goGen{conns: conns}, nil
	}
	return nil, fmt.Errorf("unknown tool %q: want auto, wrk or go", tool)
}

type wrk struct{ threads, conns int }

func (w *wrk) name() string { return fmt.Sprintf("wrk (-t%d)", w.threads) }

func (w *wrk) run(base string, req request, d time.Duration) (measurement, error) {
	args := []string{"-t" + strconv.Itoa(w.threads), "-c" + strconv.Itoa(w.conns), "-d" + d.String(), "--latency"}
	if req.method != "GET" || req.body != "" || len(req.headers) > 0 {
		script, err := wrkScript(req)
		if err != nil {
			return measurement{}, err
		}
		defer os.Remove(script)
		args = append(args, "-s", script)
	}
	out, err := exec.Command("wrk", append(args, base+req.path)...).CombinedOutput()
	if err != nil {
		return measurement{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return parseWrk(string(out))
}

func wrkScript(req request) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", req.method)
	if req.body != "" {
		fmt.Fprintf(&b, "wrk.body = %q\n", req.body)
	}
	for k, v := range req.headers {
		fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", k, v)
	}
	f, err := os.CreateTemp("", "rampart-bench-*.lua")
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = f.WriteString(b.String())
	return filepath.Clean(f.Name()), err
}

var (
	wrkRPS      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkCount    = regexp.MustCompile(`(\d+) requests in`)
	wrkP50      = regexp.MustCompile(`\s50%\s+([\d.]+)(us|ms|s)`)
	wrkP99      = regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSockErrs = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func parseWrk(out string) (measurement, error) {
	var m measurement
	rps := wrkRPS.FindStringSubmatch(out)
	if rps == nil {
		return m, fmt.Errorf("cannot read wrk output:\n%s", out)
	}
	m.rps, _ = strconv.ParseFloat(rps[1], 64)
	if n := wrkCount.FindStringSubmatch(out); n != nil {
		m.requests, _ = strconv.ParseInt(n[1], 10, 64)
	}
	m.p50 = wrkDuration(wrkP50.FindStringSubmatch(out))
	m.p99 = wrkDuration(wrkP99.FindStringSubmatch(out))
	if n := wrkNon2xx.FindStringSubmatch(out); n != nil {
		v, _ := strconv.ParseInt(n[1], 10, 64)
		m.errors += v
	}
	if s := wrkSockErrs.FindStringSubmatch(out); s != nil {
		for _, x := range s[1:] {
			v, _ := strconv.ParseInt(x, 10, 64)
			m.errors += v
		}
	}
	return m, nil
}

func wrkDuration(match []string) time.Duration {
	if match == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(match[1], 64)
	switch match[2] {
	case "us":
		return time.Duration(v * float64(time.Microsecond))
	case "ms":
		return time.Duration(v * float64(time.Millisecond))
	}
	return time.Duration(v * float64(time.Second))
}

// goGen is the fallback load generator: conns goroutines, each with its own
// keep-alive connection, sending back to back.
type goGen struct{ conns int }

func (g *goGen) name() string { return "built-in Go generator" }

func (g *goGen) run(base string, req request, d time.Duration) (measurement, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: g.conns, MaxConnsPerHost: g.conns, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var count, errs atomic.Int64
	lat := make([][]time.Duration, g.conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range g.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(req.body)
			for ctx.Err() == nil {
				r, _ := http.NewRequestWithContext(ctx, req.method, base+req.path, bytes.NewReader(body))
				for k, v := range req.headers {
					r.Header.Set(k, v)
				}
				t0 := time.Now()
				resp, err := client.Do(r)
				if err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					errs.Add(1)
				}
				lat[i] = append(lat[i], time.Since(t0))
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return measurement{}, fmt.Errorf("no successful requests")
	}
	slices.Sort(all)
	return measurement{
		rps:      float64(count.Load()) / elapsed.Seconds(),
		p50:      all[len(all)/2],
		p99:      all[len(all)*99/100],
		errors:   errs.Load(),
		requests: count.Load(),
	}, nil
}
