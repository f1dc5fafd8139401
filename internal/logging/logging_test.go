package logging_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/logging"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWriterFlushesOnIntervalAndClose(t *testing.T) {
	t.Parallel()
	var out syncBuf
	w := logging.NewWriter(&out, 1<<16, 20*time.Millisecond)
	_, _ = w.Write([]byte("one\n"))
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(out.String(), "one") {
		if time.Now().After(deadline) {
			t.Fatal("interval flush never happened")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, _ = w.Write([]byte("two\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "one\ntwo\n" {
		t.Errorf("got %q, want %q", got, "one\ntwo\n")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestWriterConcurrentLinesStayWhole(t *testing.T) {
	t.Parallel()
	var out syncBuf
	w := logging.NewWriter(&out, 64, time.Hour)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			line := strings.Repeat(string(rune('a'+i)), 40) + "\n"
			for range 200 {
				_, _ = w.Write([]byte(line))
			}
		}()
	}
	wg.Wait()
	_ = w.Close()
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if len(l) != 40 || strings.Count(l, l[:1]) != 40 {
			t.Fatalf("interleaved line %q", l)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	l, err := logging.New(&b, "", "warn", false)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown")
	if s := b.String(); strings.Contains(s, "hidden") || !strings.Contains(s, `"msg":"shown"`) {
		t.Errorf("got %q", s)
	}
	if _, err := logging.New(&b, "xml", "info", false); err == nil {
		t.Error("got nil error for unknown format")
	}
	if _, err := logging.New(&b, "json", "loud", false); err == nil {
		t.Error("got nil error for unknown level")
	}
}
