package capability_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/capability"
)

// syntheticJS returns about n bytes of ordinary CommonJS: functions,
// objects, strings, requires, closures, classes and templates.
func syntheticJS(n int) []byte {
	var b strings.Builder
	b.WriteString("'use strict'\nconst path = require('path')\nconst { EventEmitter } = require('events')\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `
/**
 * Handler number %[1]d: formats a record and emits it.
 */
class Handler%[1]d extends EventEmitter {
  constructor (opts = {}) {
    super()
    this.name = opts.name || 'handler-%[1]d'
    this.items = [1, 2, 3, %[1]d].map((x) => x * 2)
  }

  format (record) {
    const parts = Object.keys(record).filter((k) => record[k] != null)
    return `+"`${this.name}: ${parts.map((k) => k + '=' + JSON.stringify(record[k])).join(' ')}`"+`
  }

  async handle (record) {
    if (!record || typeof record !== 'object') {
      throw new TypeError('record must be an object, got ' + typeof record)
    }
    for (let i = 0; i < this.items.length; i++) {
      record['k' + i] = this.items[i] %% 7 === 0 ? null : path.join('a', String(i))
    }
    this.emit('record', this.format(record))
    return { ok: true, count: this.items.length, re: /^h[a-z]+\d*$/i.test(this.name) }
  }
}
module.exports.Handler%[1]d = Handler%[1]d
`, i)
	}
	return []byte(b.String())
}

func BenchmarkAnalyzeSynthetic(b *testing.B) {
	src := syntheticJS(1 << 20)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		r := capability.Analyze(src, capability.Limits{})
		if r.ParseError != "" {
			b.Fatal(r.ParseError)
		}
	}
}

// BenchmarkAnalyzeDir measures real code: set RAMPART_BENCH_JS_DIR to a
// directory of JavaScript (an installed node_modules, npm's own tree).
func BenchmarkAnalyzeDir(b *testing.B) {
	dir := os.Getenv("RAMPART_BENCH_JS_DIR")
	if dir == "" {
		b.Skip("set RAMPART_BENCH_JS_DIR to a directory of JavaScript")
	}
	var files [][]byte
	total := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".mjs") || strings.HasSuffix(p, ".cjs")) {
			if data, err := os.ReadFile(p); err == nil {
				files = append(files, data)
				total += len(data)
			}
		}
		return nil
	})
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			capability.Analyze(f, capability.Limits{})
		}
	}
}
