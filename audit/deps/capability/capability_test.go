package capability_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/deps/capability"
)

func TestAnalyze(t *testing.T) {
	t.Parallel()
	payload := strings.Repeat("aGVsbG8gd29ybGQgZnJvbSBhIGhpZGRlbiBwYXlsb2FkIQ", 6)
	tests := []struct {
		name string
		src  string
		want []string // "kind:line"
	}{
		{"clean", "module.exports = function add(a, b) { return a + b }\n", nil},
		{"require network", "const x = 1\nconst https = require('https')\nhttps.get('https://e.example/x')\n", []string{"network:2"}},
		{"node prefix", "import { exec } from 'node:child_process'\nexec('id')\n", []string{"child-process:1"}},
		{"fs promises", "\n\nimport fs from 'fs/promises'\n", []string{"filesystem:3"}},
		{"fetch", "async function f() {\n  // fetch is a word in a comment\n  await fetch(u)\n}\n", []string{"network:3"}},
		{"env", "const t = 1\nif (x) {\n  send(process.env.NPM_TOKEN)\n}\n", []string{"env-access:3"}},
		{"eval", "let a = 1\n\nlet b = 2\neval(a + b)\n", []string{"dynamic-code:4"}},
		{"indirect eval", "var x\n(0, eval)(x)\n", []string{"dynamic-code:2"}},
		{"global eval", "globalThis.eval(code)\n", []string{"dynamic-code:1"}},
		{"new Function", "const f = new Function('a', body)\n", []string{"dynamic-code:1"}},
		{"shadowed eval", "function eval2(){}\nconst eval = (x) => x\neval(1)\n", nil},
		{"base64 eval", "const p = 1\neval(Buffer.from('" + payload + "', 'base64').toString())\n", []string{"dynamic-code:2", "obfuscated:2"}},
		{"atob through var", "var s = atob(blob)\n\n\nFunction(s)()\n", []string{"dynamic-code:4", "obfuscated:4"}},
		{"entropy literal", "eval('" + payload + "')\n", []string{"dynamic-code:1", "obfuscated:1"}},
		{"dynamic require", "const m = require(name)\n", []string{"dynamic-code:1"}},
		{"native", "const b = require('./build/Release/addon.node')\n", []string{"native-code:1"}},
		{"dlopen", "\nprocess.dlopen(module, p)\n", []string{"native-code:2"}},
		{"vm", "const vm = require('vm')\nvm.runInNewContext(code)\n", []string{"dynamic-code:1", "dynamic-code:2"}},
		{"credential file", "const os = 1\nread(home + '/.npmrc')\n", []string{"filesystem:2"}},
		{"dynamic import", "export async function f() {\n  await import('http')\n}\n", []string{"network:2"}},
		{"re-export", "export * from 'child_process'\n", []string{"child-process:1"}},
		{"string timer", "setTimeout('alert(1)', 10)\n", []string{"dynamic-code:1"}},
		{"websocket", "\nnew WebSocket(u)\n", []string{"network:2"}},
		{"for order", "for (let i = 0; i < n; i++) {\n  x()\n}\nif (a) {\n  b()\n} else {\n  eval(c)\n}\n", []string{"dynamic-code:7"}},
		{"indexed global eval", "globalThis['eval'](code)\n", []string{"dynamic-code:1"}},
		{"mainModule require", "\nprocess.mainModule.require('child_process').exec(c)\n", []string{"child-process:2"}},
		{"computed require", "require('child' + '_process')\n", []string{"dynamic-code:1"}},
		{"fromCharCode eval", "eval(String.fromCharCode(114, 101, 113))\n", []string{"dynamic-code:1", "obfuscated:1"}},
		{"vm base64", "const vm = require('node:vm')\nvm.runInThisContext(Buffer.from(p, 'base64').toString('utf8'))\n", []string{"dynamic-code:1", "dynamic-code:2", "obfuscated:2"}},
		{"process env index", "const k = process['env']\n", []string{"env-access:1"}},
		{"eval in string is not eval", "const s = 'eval(x)'\n// eval(y)\n", nil},
		{"write home", "const fs = require('fs')\nfs.writeFileSync(require('path').join(require('os').homedir(), '.bashrc'), x)\n", []string{"filesystem:1", "filesystem:2", "env-access:2"}},
		{"write absolute", "fs.appendFileSync('/etc/profile', line)\n", []string{"filesystem:1"}},
		{"write relative", "fs.writeFileSync('./out.txt', data)\n", nil},
		{"top-level return", "#!/usr/bin/env node\nif (!x) {\n  return\n}\neval(y)\n", []string{"dynamic-code:5"}},
		{"not a secret", "if (process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {}\n", []string{"env-access:1"}},
		{"aws secret", "\nconst k = process.env.AWS_SECRET_ACCESS_KEY\n", []string{"env-access:2"}},
		{"module builtin", "const { createRequire } = require('module')\n", nil},
		{"module compile", "const M = require('module')\nconst m = new M()\nm._compile(src, 'x.js')\n", []string{"dynamic-code:3"}},
		{"call order", "a(b(), c())\nfoo(\n  1,\n  eval(x)\n)\n", []string{"dynamic-code:4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := capability.Analyze([]byte(tc.src), capability.Limits{})
			if r.ParseError != "" {
				t.Fatalf("parse error: %s", r.ParseError)
			}
			var got []string
			for _, f := range r.Findings {
				got = append(got, fmt.Sprintf("%s:%d", f.Kind, f.Line))
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, want %v (%+v)", got, tc.want, r.Findings)
			}
		})
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	t.Parallel()
	if r := capability.Analyze([]byte("function ("), capability.Limits{}); r.ParseError == "" {
		t.Fatal("got no parse error for broken code")
	}
	if r := capability.Analyze(make([]byte, 100), capability.Limits{MaxSize: 10}); r.ParseError == "" {
		t.Fatal("got no error over the size bound")
	}
	deep := strings.Repeat("(", 100000) + strings.Repeat(")", 100000)
	if r := capability.Analyze([]byte(deep), capability.Limits{}); r.ParseError == "" {
		t.Fatal("got no error for nesting past the parser's bound")
	}
}

func TestMinified(t *testing.T) {
	t.Parallel()
	src := strings.Repeat("var a=1;", 2000)
	if r := capability.Analyze([]byte(src), capability.Limits{}); !r.Minified {
		t.Fatal("got not minified, want minified")
	}
}

func TestObfuscatorNames(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 12 {
		fmt.Fprintf(&b, "_0x1a2b%d();\n", i)
	}
	r := capability.Analyze([]byte(b.String()), capability.Limits{})
	if !r.Has(capability.Obfuscated) {
		t.Fatalf("got %+v, want obfuscated", r.Findings)
	}
}

func TestWalkDeadline(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "f%d(a, b, c)\n", i)
	}
	b.WriteString("eval(x)\n")
	calls := 0
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { calls++; return t0.Add(time.Duration(calls) * time.Second) }
	r := capability.Analyze([]byte(b.String()), capability.Limits{MaxTime: 3 * time.Second, Now: clock})
	if !r.Truncated || r.Has(capability.DynamicCode) {
		t.Fatalf("got truncated=%v findings=%v, want the walk stopped before the end", r.Truncated, r.Findings)
	}
}
