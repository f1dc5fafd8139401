package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// procTree returns pid and its direct children (nginx's workers), read
// from /proc. Without /proc it returns pid alone.
func procTree(pid int) []int {
	pids := []int{pid}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return pids
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		if ppid, ok := statField(child, 4); ok && ppid == int64(pid) {
			pids = append(pids, child)
		}
	}
	return pids
}

// statField returns field n (1-based, as in proc(5)) of /proc/PID/stat.
func statField(pid, n int) (int64, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields after its closing one.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(b[i+1:]))
	if n-3 < 0 || n-3 >= len(fields) {
		return 0, false
	}
	v, err := strconv.ParseInt(fields[n-3], 10, 64)
	return v, err == nil
}

// cpuTime returns the user plus system CPU time pids have used so far.
func cpuTime(pids []int) (time.Duration, bool) {
	var ticks int64
	for _, pid := range pids {
		u, ok1 := statField(pid, 14)
		s, ok2 := statField(pid, 15)
		if !ok1 || !ok2 {
			return 0, false
		}
		ticks += u + s
	}
	return time.Duration(ticks) * time.Second / clockTicks, true
}

// rss returns the resident memory of pids, in bytes (VmRSS).
func rss(pids []int) (int64, bool) {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			return 0, false
		}
		found := false
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				if err != nil {
					return 0, false
				}
				total += kb * 1024
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return total, true
}

// rssSampler records the largest RSS of pids seen every 100 ms until stop.
type rssSampler struct {
	pids []int
	done chan struct{}
	wg   sync.WaitGroup
	max  int64
}

func sampleRSS(pids []int) *rssSampler {
	s := &rssSampler{pids: pids, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if v, ok := rss(s.pids); ok && v > s.max {
				s.max = v
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the largest RSS seen.
func (s *rssSampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.max
}

func fmtBytes(n int64) string {
	if n <= 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}
