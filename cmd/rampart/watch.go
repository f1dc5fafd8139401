package main

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"time"

	"github.com/rampartsec/rampart/config"
)

// watcher polls the configuration file and the files it names, and calls
// reload when one of them changes. Polling (by size, modification time and
// content hash) needs no platform-specific notification API, follows
// symbolic links swapped by Kubernetes ConfigMap and Secret updates, and at
// one stat per file per second costs nothing.
type watcher struct {
	file     string
	interval time.Duration
}

// fileState identifies a file's content.
type fileState struct {
	exists  bool
	size    int64
	modTime time.Time
	sum     [sha256.Size]byte
}

// maxHashBytes bounds how much of a file is hashed; larger files are
// compared by size and modification time alone.
const maxHashBytes = 8 << 20

func stateOf(path string, prev fileState) fileState {
	fi, err := os.Stat(path)
	if err != nil {
		return fileState{}
	}
	st := fileState{exists: true, size: fi.Size(), modTime: fi.ModTime()}
	if prev.exists && prev.size == st.size && prev.modTime.Equal(st.modTime) {
		st.sum = prev.sum
		return st
	}
	if fi.Size() <= maxHashBytes {
		if f, err := os.Open(path); err == nil {
			h := sha256.New()
			_, _ = io.Copy(h, io.LimitReader(f, maxHashBytes))
			f.Close()
			copy(st.sum[:], h.Sum(nil))
		}
	}
	return st
}

// run watches until ctx is done. reload returns the files of the new
// configuration after a successful reload, or nil to keep watching the
// current ones.
func (w *watcher) run(ctx context.Context, cfg *config.Config, reload func() []string) {
	files := append([]string{w.file}, cfg.Files()...)
	states := map[string]fileState{}
	snapshot := func() {
		next := map[string]fileState{}
		for _, f := range files {
			next[f] = stateOf(f, states[f])
		}
		states = next
	}
	snapshot()
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed := false
		for _, f := range files {
			st := stateOf(f, states[f])
			if st.exists != states[f].exists || st.sum != states[f].sum || (st.sum == [sha256.Size]byte{} && (st.size != states[f].size || !st.modTime.Equal(states[f].modTime))) {
				changed = true
			}
		}
		if !changed {
			continue
		}
		// Let a writer finish (editors write, rename, then chmod) before
		// reading: wait for one quiet interval.
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.interval / 4):
		}
		if next := reload(); next != nil {
			files = append([]string{w.file}, next...)
		}
		snapshot()
	}
}
