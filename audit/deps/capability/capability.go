package capability

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/js"
)

// Kind names a capability. The names are the signal kinds audit reports
// use.
type Kind string

// The capabilities Analyze finds.
const (
	Network      Kind = "network"
	ChildProcess Kind = "child-process"
	Filesystem   Kind = "filesystem"
	EnvAccess    Kind = "env-access"
	NativeCode   Kind = "native-code"
	DynamicCode  Kind = "dynamic-code"
	Obfuscated   Kind = "obfuscated"
)

// Kinds lists every Kind in a fixed order.
var Kinds = []Kind{Network, ChildProcess, Filesystem, EnvAccess, NativeCode, DynamicCode, Obfuscated}

// Finding is one capability found at one line.
type Finding struct {
	Kind Kind
	// Line is the 1-based line in the source.
	Line int
	// Detail says what was found, e.g. "imports child_process".
	Detail string
	// Sensitive marks a finding that touches secrets: credential files
	// (~/.npmrc, ~/.ssh) or token variables of the environment.
	Sensitive bool
}

// Result is what Analyze found in one source file.
type Result struct {
	Findings []Finding
	// Modules lists the module specifiers the code loads with a literal
	// name (require, import, export … from), in source order.
	Modules []string
	// ParseError is set when the source is not valid JavaScript or is over
	// the size bound; Findings then holds only what a parse could not be
	// needed for (file-level checks).
	ParseError string
	// Minified reports code written as a few very long lines.
	Minified bool
	// Truncated reports that Limits.MaxTime stopped the walk: Findings
	// is then incomplete.
	Truncated bool
}

// Has reports whether the result holds a finding of kind k.
func (r *Result) Has(k Kind) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Kind == k })
}

// Limits bounds the work of Analyze. A zero field takes its default.
type Limits struct {
	// MaxSize is the largest source parsed, in bytes. Default 4 MiB:
	// larger files are reported with ParseError and not parsed. Parsing is
	// linear in the size, so this bounds the parse time.
	MaxSize int
	// MaxTime bounds the analysis of one file after parsing: a walk still
	// running then stops, and Result.Truncated is set. Default 2 seconds.
	MaxTime time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// ErrTooLarge is the ParseError cause for a source over Limits.MaxSize.
var ErrTooLarge = errors.New("source larger than the parse bound")

// Analyze parses src as JavaScript (a module, or a script when that
// fails) and returns the capabilities it finds.
func Analyze(src []byte, lim Limits) Result {
	if lim.MaxSize <= 0 {
		lim.MaxSize = 4 << 20
	}
	if lim.MaxTime <= 0 {
		lim.MaxTime = 2 * time.Second
	}
	if lim.Now == nil {
		lim.Now = time.Now
	}
	var r Result
	r.Minified = minified(src)
	if len(src) > lim.MaxSize {
		r.ParseError = fmt.Sprintf("%v (%d bytes, bound %d)", ErrTooLarge, len(src), lim.MaxSize)
		return r
	}
	// Copy with spare capacity so the parser's NUL terminator does not
	// reallocate: node byte slices then point into buf, which is how
	// findings get their line numbers.
	buf := make([]byte, len(src), len(src)+1)
	copy(buf, src)
	ast, err := parseJS(buf)
	if err != nil {
		// CommonJS runs a file inside a function, so a top-level return
		// is valid there: parse it the way Node does, wrapped. The
		// wrapper adds no line, so lines stay true.
		const head, tail = "(function(){", "\n})"
		wrapped := make([]byte, 0, len(head)+len(src)+len(tail)+1)
		wrapped = append(append(append(wrapped, head...), blankShebang(src)...), tail...)
		if ast2, err2 := parseJS(wrapped); err2 == nil {
			ast, err, buf = ast2, nil, wrapped
		}
	}
	if err != nil {
		r.ParseError = cleanParseError(err)
		return r
	}
	w := newWalker(buf)
	w.now, w.deadline = lim.Now, lim.Now().Add(lim.MaxTime)
	js.Walk(w, ast)
	r.Truncated = w.stopped
	w.obfuscatorNames()
	r.Findings = dropShadowed(w.findings)
	r.Modules = w.modules
	slices.SortStableFunc(r.Findings, func(a, b Finding) int { return a.Line - b.Line })
	return r
}

// dropShadowed removes a plain "reads process.env" where the same line
// reads a named secret from it: the named read says more.
func dropShadowed(fs []Finding) []Finding {
	secret := map[int]bool{}
	for _, f := range fs {
		if f.Kind == EnvAccess && f.Sensitive {
			secret[f.Line] = true
		}
	}
	return slices.DeleteFunc(fs, func(f Finding) bool { return f.Kind == EnvAccess && !f.Sensitive && secret[f.Line] })
}

// blankShebang returns src with a leading "#!" line replaced by spaces,
// keeping every offset and line.
func blankShebang(src []byte) []byte {
	if !bytes.HasPrefix(src, []byte("#!")) {
		return src
	}
	out := bytes.Clone(src)
	for i := 0; i < len(out) && out[i] != '\n'; i++ {
		out[i] = ' '
	}
	return out
}

// parseJS parses buf, recovering from a parser panic so hostile input can
// never crash the caller.
func parseJS(buf []byte) (ast *js.AST, err error) {
	defer func() {
		if p := recover(); p != nil {
			ast, err = nil, fmt.Errorf("parser failed: %v", p)
		}
	}()
	return js.Parse(parse.NewInputBytes(buf), js.Options{})
}

func cleanParseError(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// minified reports source written as a few very long lines, as
// minifiers and obfuscators produce.
func minified(src []byte) bool {
	if len(src) < 4096 {
		return false
	}
	lines := bytes.Count(src, []byte("\n")) + 1
	return len(src)/lines > 400
}

// Module classes.
var (
	networkModules = set("http", "https", "http2", "net", "tls", "dgram", "dns", "dns/promises",
		"axios", "node-fetch", "got", "request", "undici", "ws", "superagent", "needle", "cross-fetch",
		"isomorphic-fetch", "phin", "bent", "ky", "socket.io-client", "ftp", "ssh2")
	processModules = set("child_process", "execa", "cross-spawn", "shelljs", "cluster", "worker_threads")
	fsModules      = set("fs", "fs/promises", "graceful-fs", "fs-extra")
	nativeModules  = set("bindings", "node-gyp-build", "ffi-napi", "node-ffi", "prebuild-install", "node-pre-gyp", "@mapbox/node-pre-gyp")
	dynamicModules = set("vm")
	envModules     = set("os")
	// credentialHints are strings whose presence in code means it refers to
	// stored secrets.
	credentialHints = []string{".npmrc", ".yarnrc", ".ssh/", "id_rsa", "id_ed25519", ".aws/credentials", ".docker/config.json",
		".gitconfig", ".git-credentials", ".netrc", "/etc/passwd", "/etc/shadow", ".bash_history", ".kube/config", "Login Data", "wallet.dat"}
	secretEnvWords = set("TOKEN", "TOKENS", "SECRET", "SECRETS", "PASSWORD", "PASSWD", "PASS", "PWD", "KEY", "KEYS", "APIKEY", "AUTH",
		"CREDENTIAL", "CREDENTIALS", "SESSION", "COOKIE", "PRIVATE")
)

// secretName reports an environment variable whose name says it holds a
// secret: one of its _-separated words is TOKEN, SECRET, PASSWORD, KEY,
// AUTH, … (so NPM_TOKEN and AWS_SECRET_ACCESS_KEY, not
// NODE_TLS_REJECT_UNAUTHORIZED).
func secretName(name string) bool {
	if name == "PWD" {
		return false // the working directory
	}
	for w := range strings.SplitSeq(strings.ToUpper(name), "_") {
		if secretEnvWords[w] {
			return true
		}
	}
	return false
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// walker visits the tree in source order, tracking a cursor: the offset in
// the source of the last node it could place. Literal and name nodes point
// into the source buffer; identifiers are placed by finding their next
// occurrence after the cursor.
type walker struct {
	src      []byte
	base     uintptr
	cursor   int
	lines    []int // offsets of line starts
	findings []Finding
	modules  []string
	seen     map[string]bool
	tainted  map[*js.Var]string // variables holding decoded or encoded payloads
	obfNames int
	obfLine  int
	idents   map[string][]int
	pending  [][]byte // identifiers passed since the last anchor
	now      func() time.Time
	deadline time.Time
	visits   int
	stopped  bool
}

func newWalker(src []byte) *walker {
	w := &walker{src: src, seen: map[string]bool{}, tainted: map[*js.Var]string{}}
	if len(src) > 0 {
		w.base = uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	}
	w.lines = append(w.lines, 0)
	for i, c := range src {
		if c == '\n' {
			w.lines = append(w.lines, i+1)
		}
	}
	return w
}

// offset returns b's offset in the source, when b points into it.
func (w *walker) offset(b []byte) (int, bool) {
	if len(b) == 0 || w.base == 0 {
		return 0, false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < w.base || p >= w.base+uintptr(len(w.src)) {
		return 0, false
	}
	return int(p - w.base), true
}

func (w *walker) anchor(b []byte) {
	if off, ok := w.offset(b); ok {
		w.cursor = off
		w.pending = w.pending[:0]
	}
}

// passName notes an identifier the walk passed. Placing it is deferred
// until a line is needed, so files without findings are never lexed.
func (w *walker) passName(name []byte) {
	w.pending = append(w.pending, name)
	if len(w.pending) >= 4096 {
		w.settle()
	}
}

// settle places the identifiers passed since the last anchor, in order.
func (w *walker) settle() {
	for _, n := range w.pending {
		w.placeName(n)
	}
	w.pending = w.pending[:0]
}

// placeName moves the cursor to the next occurrence of the identifier
// name at or after it: from the lexer's identifier tokens, so names in
// comments and strings are skipped, or from a plain search when the lexer
// did not see the name.
func (w *walker) placeName(name []byte) {
	if len(name) == 0 {
		return
	}
	if w.idents == nil {
		w.idents = identOffsets(w.src)
	}
	if offs, ok := w.idents[string(name)]; ok {
		if i, _ := slices.BinarySearch(offs, w.cursor); i < len(offs) {
			w.cursor = offs[i]
		}
		return
	}
	from := w.cursor
	for from <= len(w.src) {
		i := bytes.Index(w.src[from:], name)
		if i < 0 {
			return
		}
		at := from + i
		end := at + len(name)
		if (at == 0 || !identByte(w.src[at-1])) && (end >= len(w.src) || !identByte(w.src[end])) {
			w.cursor = at
			return
		}
		from = at + 1
	}
}

// identOffsets lexes src and returns the offsets of each identifier, in
// order. A slash after a token that cannot end an expression starts a
// regular expression, as the grammar says.
func identOffsets(src []byte) map[string][]int {
	out := map[string][]int{}
	if len(src) == 0 {
		return out
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	in := parse.NewInputBytes(src)
	defer in.Restore()
	l := js.NewLexer(in)
	prev := js.ErrorToken
	for {
		tt, text := l.Next()
		switch {
		case tt == js.ErrorToken:
			return out
		case tt == js.WhitespaceToken || tt == js.LineTerminatorToken || tt == js.CommentToken || tt == js.CommentLineTerminatorToken:
			continue
		case (tt == js.DivToken || tt == js.DivEqToken) && !endsExpression(prev):
			tt, _ = l.RegExp()
		case js.IsIdentifierName(tt) && len(text) > 0:
			p := uintptr(unsafe.Pointer(unsafe.SliceData(text)))
			if p >= base && p < base+uintptr(len(src)) {
				out[string(text)] = append(out[string(text)], int(p-base))
			}
		}
		prev = tt
	}
}

func endsExpression(tt js.TokenType) bool {
	switch tt {
	case js.CloseParenToken, js.CloseBracketToken, js.CloseBraceToken, js.NumericToken, js.StringToken,
		js.TemplateToken, js.TemplateEndToken, js.RegExpToken, js.ThisToken, js.SuperToken, js.NullToken,
		js.TrueToken, js.FalseToken, js.IncrToken, js.DecrToken:
		return true
	}
	return js.IsIdentifier(tt)
}

func identByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func (w *walker) line() int {
	w.settle()
	i, found := slices.BinarySearch(w.lines, w.cursor)
	if found {
		return i + 1
	}
	return i
}

func (w *walker) add(k Kind, detail string, sensitive bool) {
	ln := w.line()
	key := fmt.Sprintf("%s\x00%d\x00%s", k, ln, detail)
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	w.findings = append(w.findings, Finding{Kind: k, Line: ln, Detail: detail, Sensitive: sensitive})
}

// Enter implements js.IVisitor. Nodes whose children the parser's Walk
// visits out of source order are walked here in source order.
func (w *walker) Enter(n js.INode) js.IVisitor {
	if w.stopped {
		return nil
	}
	if w.visits++; w.visits&1023 == 0 && w.now != nil && w.now().After(w.deadline) {
		w.stopped = true
		return nil
	}
	switch n := n.(type) {
	case *js.LiteralExpr:
		w.anchor(n.Data)
		w.literal(n)
	case js.LiteralExpr:
		w.anchor(n.Data)
		w.literal(&n)
	case *js.Var:
		if n == nil {
			return nil
		}
		w.passName(n.Data)
		if n.Decl == js.NoDecl && string(n.Data) != "" {
			w.globalRef(n)
		}
	case *js.TemplatePart:
		w.anchor(n.Value)
	case *js.ImportStmt:
		w.anchor(n.Module)
		w.module(strings.Trim(string(n.Module), "'\""), "imports")
	case *js.ExportStmt:
		if n.Module != nil {
			w.anchor(n.Module)
			w.module(strings.Trim(string(n.Module), "'\""), "re-exports")
		}
	case *js.CallExpr:
		walk(w, n.X)
		w.call(n.X, n.Args.List)
		walk(w, &n.Args)
		return nil
	case *js.NewExpr:
		walk(w, n.X)
		var args []js.Arg
		if n.Args != nil {
			args = n.Args.List
		}
		w.newExpr(n.X, args)
		if n.Args != nil {
			walk(w, n.Args)
		}
		return nil
	case *js.DotExpr:
		walk(w, n.X)
		walk(w, n.Y)
		w.member(n.X, propName(n.Y))
		return nil
	case *js.IndexExpr:
		walk(w, n.X)
		walk(w, n.Y)
		if lit, ok := n.Y.(*js.LiteralExpr); ok && lit.TokenType == js.StringToken {
			w.member(n.X, unquote(lit.Data))
		}
		return nil
	case *js.BindingElement:
		walk(w, n.Binding)
		walk(w, n.Default)
		if v, ok := n.Binding.(*js.Var); ok && n.Default != nil {
			if why := w.payload(n.Default); why != "" {
				w.tainted[v] = why
			}
		}
		return nil
	case *js.BinaryExpr:
		walk(w, n.X)
		walk(w, n.Y)
		if n.Op == js.EqToken {
			if v, ok := n.X.(*js.Var); ok {
				if why := w.payload(n.Y); why != "" {
					w.tainted[v] = why
				}
			}
		}
		return nil
	case *js.IfStmt:
		walk(w, n.Cond)
		walk(w, n.Body)
		walk(w, n.Else)
		return nil
	case *js.WhileStmt:
		walk(w, n.Cond)
		walk(w, n.Body)
		return nil
	case *js.WithStmt:
		walk(w, n.Cond)
		walk(w, n.Body)
		return nil
	case *js.ForStmt:
		walk(w, n.Init)
		walk(w, n.Cond)
		walk(w, n.Post)
		if n.Body != nil {
			walk(w, n.Body)
		}
		return nil
	case *js.ForInStmt:
		walk(w, n.Init)
		walk(w, n.Value)
		if n.Body != nil {
			walk(w, n.Body)
		}
		return nil
	case *js.ForOfStmt:
		walk(w, n.Init)
		walk(w, n.Value)
		if n.Body != nil {
			walk(w, n.Body)
		}
		return nil
	case *js.CaseClause:
		walk(w, n.Cond)
		for _, s := range n.List {
			walk(w, s)
		}
		return nil
	case *js.SwitchStmt:
		walk(w, n.Init)
		for i := range n.List {
			walk(w, &n.List[i])
		}
		return nil
	case *js.FuncDecl:
		if n.Name != nil {
			walk(w, n.Name)
		}
		walk(w, &n.Params)
		walk(w, &n.Body)
		return nil
	case *js.MethodDecl:
		walk(w, &n.Name)
		walk(w, &n.Params)
		walk(w, &n.Body)
		return nil
	case *js.ArrowFunc:
		walk(w, &n.Params)
		walk(w, &n.Body)
		return nil
	case *js.TemplateExpr:
		walk(w, n.Tag)
		for i := range n.List {
			walk(w, &n.List[i])
		}
		return nil
	}
	return w
}

// Exit implements js.IVisitor.
func (w *walker) Exit(js.INode) {}

// walk walks n unless it is a nil interface or a typed nil.
func walk(w *walker, n js.INode) {
	if n == nil {
		return
	}
	switch x := n.(type) {
	case *js.Var:
		if x == nil {
			return
		}
	case *js.BlockStmt:
		if x == nil {
			return
		}
	case *js.Args:
		if x == nil {
			return
		}
	}
	js.Walk(w, n)
}

func unquote(b []byte) string {
	s := string(b)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'' || s[0] == '`') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	return s
}

// propIs reports whether e names the property name, without allocating.
func propIs(e js.IExpr, name string) bool {
	switch y := e.(type) {
	case js.LiteralExpr:
		return string(y.Data) == name
	case *js.LiteralExpr:
		return string(y.Data) == name
	case *js.Var:
		return string(y.Data) == name
	}
	return false
}

func propName(e js.IExpr) string {
	switch y := e.(type) {
	case js.LiteralExpr:
		return string(y.Data)
	case *js.LiteralExpr:
		return string(y.Data)
	case *js.Var:
		return string(y.Data)
	}
	return ""
}

// globalName returns the name of e when it is a reference to an
// undeclared (global) variable, or a property of globalThis, global or
// window.
func globalName(e js.IExpr) string {
	switch x := e.(type) {
	case *js.Var:
		if x.Decl == js.NoDecl {
			return string(x.Name())
		}
	case *js.DotExpr:
		if g := globalName(x.X); g == "globalThis" || g == "global" || g == "window" || g == "self" {
			return propName(x.Y)
		}
	case *js.IndexExpr:
		if g := globalName(x.X); g == "globalThis" || g == "global" || g == "window" || g == "self" {
			if name, ok := stringValue(x.Y); ok {
				return name
			}
		}
	case *js.GroupExpr:
		return globalName(x.X)
	case *js.CommaExpr:
		// (0, eval)(x): an indirect call of the last element.
		if len(x.List) > 0 {
			return globalName(x.List[len(x.List)-1])
		}
	}
	return ""
}

// literal checks a literal for credential paths.
func (w *walker) literal(n *js.LiteralExpr) {
	if n.TokenType != js.StringToken || len(n.Data) > 4096 {
		return
	}
	s := unquote(n.Data)
	for _, h := range credentialHints {
		if strings.Contains(s, h) {
			w.add(Filesystem, "refers to the credential file "+h, true)
			return
		}
	}
}

// globalRef looks at a reference to a global.
func (w *walker) globalRef(v *js.Var) {
	switch string(v.Data) {
	case "XMLHttpRequest", "WebSocket", "EventSource":
		w.add(Network, "uses "+string(v.Data), false)
	}
	if strings.HasPrefix(string(v.Data), "_0x") && len(v.Data) >= 6 {
		w.noteObfuscatorName()
	}
}

func (w *walker) noteObfuscatorName() {
	if w.obfNames == 0 {
		w.obfLine = w.line()
	}
	w.obfNames++
}

// obfuscatorNames reports the _0x… identifiers that javascript-obfuscator
// and its kin emit.
func (w *walker) obfuscatorNames() {
	if w.obfNames >= 10 {
		w.findings = append(w.findings, Finding{Kind: Obfuscated, Line: w.obfLine,
			Detail: fmt.Sprintf("%d references to _0x… identifiers, the mark of a JavaScript obfuscator", w.obfNames)})
	}
}

// module classifies a loaded module.
func (w *walker) module(spec, verb string) {
	if spec == "" {
		return
	}
	w.modules = append(w.modules, spec)
	name := strings.TrimPrefix(spec, "node:")
	base := name
	if !strings.HasPrefix(base, "@") {
		base, _, _ = strings.Cut(base, "/")
		if name == "fs/promises" || name == "dns/promises" {
			base = name
		}
	}
	switch {
	case networkModules[name] || networkModules[base]:
		w.add(Network, verb+" "+name, false)
	case processModules[name] || processModules[base]:
		w.add(ChildProcess, verb+" "+name, false)
	case fsModules[name] || fsModules[base]:
		w.add(Filesystem, verb+" "+name, false)
	case nativeModules[name] || nativeModules[base] || strings.HasSuffix(name, ".node"):
		w.add(NativeCode, verb+" "+name, false)
	case dynamicModules[name]:
		w.add(DynamicCode, verb+" "+name+" (runs code built at run time)", false)
	case envModules[name]:
		w.add(EnvAccess, verb+" "+name+" (host and user details)", false)
	}
}

// call looks at a call of callee with args.
func (w *walker) call(callee js.IExpr, args []js.Arg) {
	if lit, ok := callee.(*js.LiteralExpr); ok && lit.TokenType == js.ImportToken {
		// Dynamic import(): the parser gives it as a call of "import".
		if len(args) > 0 {
			if spec, ok := stringValue(args[0].Value); ok {
				w.module(spec, "imports")
			} else {
				w.add(DynamicCode, "imports a module whose name is computed at run time", false)
			}
		}
		return
	}
	g := globalName(callee)
	if d, ok := callee.(*js.DotExpr); ok && propIs(d.Y, "require") {
		// module.require, process.mainModule.require: require by another
		// name, a way round tools that look for require( only.
		g = "require"
	}
	switch g {
	case "require":
		if len(args) == 0 {
			return
		}
		if spec, ok := stringValue(args[0].Value); ok {
			w.module(spec, "requires")
		} else {
			w.add(DynamicCode, "requires a module whose name is computed at run time", false)
		}
		return
	case "eval":
		w.add(DynamicCode, "calls eval", false)
		w.obfuscatedArgs("eval", args)
		return
	case "Function":
		w.add(DynamicCode, "calls Function to build code from a string", false)
		w.obfuscatedArgs("Function", args)
		return
	case "setTimeout", "setInterval", "setImmediate":
		if len(args) > 0 {
			if _, ok := stringValue(args[0].Value); ok {
				w.add(DynamicCode, "passes a string of code to "+g, false)
			}
		}
		return
	case "fetch":
		w.add(Network, "calls fetch", false)
		return
	}
	if d, ok := callee.(*js.DotExpr); ok {
		obj, prop := globalName(d.X), propName(d.Y)
		switch {
		case obj == "process" && (prop == "dlopen" || prop == "binding" || prop == "_linkedBinding"):
			w.add(NativeCode, "calls process."+prop, false)
		case obj == "WebAssembly" && (prop == "compile" || prop == "instantiate" || prop == "Module" || prop == "instantiateStreaming"):
			w.add(NativeCode, "compiles WebAssembly", false)
		case prop == "_compile":
			w.add(DynamicCode, "compiles a module from a string (Module._compile)", false)
		case obj == "navigator" && prop == "sendBeacon":
			w.add(Network, "calls navigator.sendBeacon", false)
		case writeCalls[prop] && len(args) > 0:
			if where := w.outsidePath(args[0].Value); where != "" {
				w.add(Filesystem, "writes outside the package: "+prop+"("+where+")", true)
			}
		case strings.HasPrefix(prop, "runIn") || prop == "compileFunction":
			if w.modulesSeen("vm") {
				w.add(DynamicCode, "calls vm."+prop, false)
				w.obfuscatedArgs("vm."+prop, args)
			}
		}
	}
}

// writeCalls are the fs functions that write, move or delete what their
// first argument names.
var writeCalls = set("writeFile", "writeFileSync", "appendFile", "appendFileSync", "createWriteStream", "copyFile", "copyFileSync",
	"cp", "cpSync", "rename", "renameSync", "symlink", "symlinkSync", "chmod", "chmodSync", "rm", "rmSync", "unlink", "unlinkSync",
	"mkdir", "mkdirSync", "outputFile", "outputFileSync", "copy", "copySync", "move", "moveSync")

// outsidePath reports where a path expression points outside the package:
// an absolute or home-relative literal, "../", the home or temporary
// directory, or a home variable of the environment. It returns "".
func (w *walker) outsidePath(e js.IExpr) string {
	where := ""
	depth := 0
	var visit func(e js.IExpr)
	visit = func(e js.IExpr) {
		if e == nil || where != "" || depth > 32 {
			return
		}
		depth++
		defer func() { depth-- }()
		switch x := e.(type) {
		case *js.LiteralExpr:
			if x.TokenType == js.StringToken {
				v := unquote(x.Data)
				if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "~") || strings.HasPrefix(v, "../") || strings.HasPrefix(v, "..\\") {
					where = fmt.Sprintf("%q", v)
				}
			}
		case *js.CallExpr:
			if d, ok := x.X.(*js.DotExpr); ok {
				switch propName(d.Y) {
				case "homedir", "tmpdir":
					where = propName(d.Y) + "()"
					return
				}
			}
			for _, a := range x.Args.List {
				visit(a.Value)
			}
		case *js.DotExpr:
			if inner, ok := x.X.(*js.DotExpr); ok && globalName(inner.X) == "process" && propName(inner.Y) == "env" {
				switch propName(x.Y) {
				case "HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "TMPDIR", "XDG_CONFIG_HOME":
					where = "process.env." + propName(x.Y)
				}
			}
		case *js.BinaryExpr:
			visit(x.X)
			visit(x.Y)
		case *js.GroupExpr:
			visit(x.X)
		case *js.TemplateExpr:
			for _, p := range x.List {
				visit(p.Expr)
			}
		}
	}
	visit(e)
	return where
}

func (w *walker) modulesSeen(name string) bool {
	return slices.Contains(w.modules, name) || slices.Contains(w.modules, "node:"+name)
}

// newExpr looks at new callee(args).
func (w *walker) newExpr(callee js.IExpr, args []js.Arg) {
	switch globalName(callee) {
	case "Function":
		w.add(DynamicCode, "calls new Function to build code from a string", false)
		w.obfuscatedArgs("new Function", args)
	}
	if d, ok := callee.(*js.DotExpr); ok && propName(d.Y) == "Script" && w.modulesSeen("vm") {
		w.add(DynamicCode, "compiles a vm.Script", false)
		w.obfuscatedArgs("vm.Script", args)
	}
}

// member looks at obj.prop.
func (w *walker) member(obj js.IExpr, prop string) {
	if globalName(obj) == "process" && prop == "env" {
		w.add(EnvAccess, "reads process.env", false)
		return
	}
	if d, ok := obj.(*js.DotExpr); ok && globalName(d.X) == "process" && propName(d.Y) == "env" {
		if secretName(prop) {
			w.add(EnvAccess, "reads the secret environment variable "+prop, true)
		}
	}
}

// obfuscatedArgs reports code built from a decoded or encoded payload.
func (w *walker) obfuscatedArgs(sink string, args []js.Arg) {
	for _, a := range args {
		if why := w.payload(a.Value); why != "" {
			w.add(Obfuscated, sink+" runs "+why, false)
			return
		}
	}
}

// payload reports why e is an encoded or decoded payload: a decoding call
// (atob, Buffer.from(…, "base64"), String.fromCharCode, unescape), a long
// high-entropy string, or a variable that holds one. It returns "" when e is
// none of these.
func (w *walker) payload(e js.IExpr) string {
	why := ""
	depth := 0
	var visit func(e js.IExpr)
	visit = func(e js.IExpr) {
		if e == nil || why != "" || depth > 64 {
			return
		}
		depth++
		defer func() { depth-- }()
		switch x := e.(type) {
		case *js.Var:
			if t, ok := w.tainted[x]; ok {
				why = t + " (through " + string(x.Name()) + ")"
			}
		case *js.LiteralExpr:
			if x.TokenType == js.StringToken && len(x.Data) >= 200 {
				s := unquote(x.Data)
				if h := entropy(s); h >= 4.0 || hexOrEscapes(s) {
					why = fmt.Sprintf("a %d-character encoded string (%.1f bits of entropy per character)", len(s), h)
				}
			}
		case *js.CallExpr:
			if g := globalName(x.X); g == "atob" || g == "unescape" || g == "decodeURIComponent" || g == "escape" {
				why = "a payload decoded with " + g
				return
			}
			if d, ok := x.X.(*js.DotExpr); ok {
				obj, prop := globalName(d.X), propName(d.Y)
				switch {
				case obj == "Buffer" && prop == "from" && len(x.Args.List) > 1:
					if enc, ok := stringValue(x.Args.List[1].Value); ok && (enc == "base64" || enc == "hex" || enc == "base64url") {
						why = "a payload decoded from " + enc
						return
					}
				case obj == "String" && prop == "fromCharCode":
					why = "a string built with String.fromCharCode"
					return
				}
				visit(d.X)
			}
			for _, a := range x.Args.List {
				visit(a.Value)
			}
		case *js.DotExpr:
			visit(x.X)
		case *js.BinaryExpr:
			visit(x.X)
			visit(x.Y)
		case *js.GroupExpr:
			visit(x.X)
		case *js.CommaExpr:
			for _, y := range x.List {
				visit(y)
			}
		case *js.TemplateExpr:
			for _, p := range x.List {
				visit(p.Expr)
			}
		}
	}
	visit(e)
	return why
}

// stringValue returns the value of a string literal or of a template
// without substitutions.
func stringValue(e js.IExpr) (string, bool) {
	switch x := e.(type) {
	case *js.LiteralExpr:
		if x.TokenType == js.StringToken {
			return unquote(x.Data), true
		}
	case *js.TemplateExpr:
		if x.Tag == nil && len(x.List) == 0 {
			return unquote(x.Tail), true
		}
	case *js.GroupExpr:
		return stringValue(x.X)
	}
	return "", false
}

// entropy returns the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h := 0.0
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// hexOrEscapes reports a string made mostly of hex digits or \x/\u
// escapes.
func hexOrEscapes(s string) bool {
	if strings.Count(s, `\x`)+strings.Count(s, `\u`) > len(s)/8 {
		return true
	}
	hex := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') {
			hex++
		}
	}
	return hex*10 >= len(s)*9
}
