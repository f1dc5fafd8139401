package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/deps/osvdb"
	"github.com/rampartsec/rampart/internal/logging"
)

// progressPrinter shows downloads: on a terminal a bar redrawn in place
// (bytes, rate, time left), at most ten times a second; elsewhere (CI
// logs) a plain line every interval and one at the end of each archive.
type progressPrinter struct {
	w        io.Writer
	terminal bool
	interval time.Duration
	now      func() time.Time
	last     time.Time
	drawn    bool // a bar is on the current terminal line
}

// newProgressPrinter returns a printer writing to w; w is a terminal when
// it is an *os.File that is one.
func newProgressPrinter(w io.Writer) *progressPrinter {
	p := &progressPrinter{w: w, interval: 5 * time.Second, now: time.Now}
	if f, ok := w.(*os.File); ok && logging.IsTerminal(f) {
		p.terminal, p.interval = true, 100*time.Millisecond
	}
	return p
}

// update is an osvdb.Updater's Progress function.
func (p *progressPrinter) update(pr osvdb.Progress) {
	now := p.now()
	if !pr.Complete && now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Done) / s
	}
	retry := ""
	if pr.Retry > 0 {
		retry = fmt.Sprintf(", retry %d", pr.Retry)
	}
	if !p.terminal {
		if pr.Total > 0 {
			fmt.Fprintf(p.w, "%s: %s of %s (%d%%), %s/s%s\n", pr.Ecosystem, size(pr.Done), size(pr.Total), pr.Done*100/pr.Total, size(int64(rate)), retry)
		} else {
			fmt.Fprintf(p.w, "%s: %s, %s/s%s\n", pr.Ecosystem, size(pr.Done), size(int64(rate)), retry)
		}
		return
	}
	const width = 24
	bar, eta := strings.Repeat("?", width), "--"
	if pr.Total > 0 {
		filled := int(pr.Done * width / pr.Total)
		bar = strings.Repeat("#", filled) + strings.Repeat(".", width-filled)
		if rate > 0 {
			eta = time.Duration(float64(pr.Total-pr.Done) / rate * float64(time.Second)).Round(time.Second).String()
		}
	}
	total := "?"
	if pr.Total > 0 {
		total = size(pr.Total)
	}
	fmt.Fprintf(p.w, "\r\x1b[K%-4s [%s] %s / %s  %s/s  ETA %s%s", pr.Ecosystem, bar, size(pr.Done), total, size(int64(rate)), eta, retry)
	p.drawn = true
	if pr.Complete {
		fmt.Fprint(p.w, "\n")
		p.drawn = false
	}
}

// finish ends a bar left on the line by a failed download.
func (p *progressPrinter) finish() {
	if p.drawn {
		fmt.Fprint(p.w, "\n")
		p.drawn = false
	}
}

// size formats bytes for people: 512 B, 3.2 KiB, 40.1 MiB.
func size(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
}
