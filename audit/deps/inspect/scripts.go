package inspect

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/audit/deps"
	"github.com/rampartsec/rampart/audit/deps/capability"
	"github.com/rampartsec/rampart/audit/deps/osv"
	"github.com/rampartsec/rampart/audit/deps/tarball"
)

// maxInstallFiles bounds the files followed from install scripts.
const maxInstallFiles = 64

// shellRule is one behaviour recognised in a shell command. Install
// scripts are shell command lines, not JavaScript: they are matched as
// shell words here, and the JavaScript they run is parsed.
type shellRule struct {
	re       *regexp.Regexp
	what     string
	severity osv.Severity
}

var shellRules = []shellRule{
	{regexp.MustCompile(`(?i)\b(curl|wget|iwr|invoke-webrequest)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da)?sh\b|\b(curl|wget)\b[^|;&]*\|\s*(node|python3?|perl)\b|(\$\(|` + "`" + `)\s*(curl|wget)\b|\b(iex|invoke-expression)\b.*\b(iwr|invoke-webrequest|downloadstring)\b`), "pipes a download into an interpreter (curl … | sh)", osv.SeverityCritical},
	{regexp.MustCompile(`(?i)\b(curl|wget)\b[^|]*(&&|;|\|\|)\s*(sudo\s+)?((ba|z|da)?sh|node|python3?|perl|chmod\s+\+?[0-7x]+|\.\/|/tmp/)`), "downloads a file and runs it", osv.SeverityCritical},
	{regexp.MustCompile(`(?i)\b(curl|wget|iwr|invoke-webrequest|certutil\s+-urlcache|bitsadmin)\b`), "downloads from the network", osv.SeverityHigh},
	{regexp.MustCompile(`(?i)\b(nc|ncat|netcat|telnet|ssh|scp)\s`), "opens a network connection", osv.SeverityHigh},
	{regexp.MustCompile(`(?i)\bnode\s+(-e|--eval|-p|--print)\b`), "runs inline JavaScript (node -e)", osv.SeverityHigh},
	{regexp.MustCompile(`(?i)\b(ba|z|da)?sh\s+-c\b|\bpowershell\b|\bpwsh\b|\bcmd(\.exe)?\s+/c\b|\beval\s`), "spawns a shell to run a command string", osv.SeverityHigh},
	{regexp.MustCompile(`(?i)\.npmrc|\.yarnrc|npm_token|node_auth_token|\.ssh/|id_rsa|\.aws/credentials|\.git-credentials|\.netrc|\bprintenv\b|\benv\s*\|`), "reads credentials or the environment", osv.SeverityCritical},
	{regexp.MustCompile(`(?i)(>>?|\btee\b|\bcp\b|\bmv\b|\bln\b|\brm\s+-[a-z]*r[a-z]*f?)\s*(~|\$home|\$\{home\}|/etc/|/usr/|/root|/tmp/|\.\./\.\./)|\bchmod\s+[0-7]*\s*(~|/)|\bcrontab\b|\bsudo\b`), "writes outside the package", osv.SeverityHigh},
	{regexp.MustCompile(`(?i)\bbase64\s+(-d|--decode)\b|\bxxd\s+-r\b`), "decodes an encoded payload", osv.SeverityHigh},
	{regexp.MustCompile(`(?i)\bprebuild-install\b|\bnode-pre-gyp\b.*\binstall\b`), "downloads a prebuilt native binary", osv.SeverityModerate},
	{regexp.MustCompile(`(?i)\bnode-gyp(-build)?\b`), "builds a native addon", osv.SeverityLow},
}

// inlineNodeRE finds JavaScript given on a node command line.
var inlineNodeRE = regexp.MustCompile(`\bnode(?:js)?\s+(?:-{1,2}[\w-]+\s+)*(?:-e|--eval|-p|--print)\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)')`)

// runScriptRE finds the package scripts a command runs: npm run X, yarn X,
// pnpm run X.
var runScriptRE = regexp.MustCompile(`\b(?:npm|pnpm)\s+(?:run(?:-script)?\s+)([\w:.-]+)|\byarn\s+(?:run\s+)?([\w:.-]+)`)

// scriptRunRE finds the files a command line runs: node FILE, sh FILE,
// bash FILE, ./FILE.
var scriptRunRE = regexp.MustCompile(`(?:^|[\s;&|(])(?:(node|nodejs|sh|bash)\s+((?:-{1,2}[\w-]+(?:=\S+)?\s+)*)([^\s;&|<>()'"]+)|(\./[^\s;&|<>()'"]+))`)

// installScripts analyses the install-time scripts of pj and the files
// they run. It returns the set of install-time JavaScript files.
func (r *run) installScripts(pr *pkgRun, pj packageJSON, byPath map[string]*tarball.File, results map[string]capability.Result) map[string]bool {
	installFiles := map[string]bool{}
	for _, phase := range installPhases {
		cmd, ok := pj.Scripts[phase]
		if !ok || strings.TrimSpace(cmd) == "" {
			continue
		}
		if pr.profile.Scripts == nil {
			pr.profile.Scripts = map[string]string{}
		}
		pr.profile.Scripts[phase] = safeText(cmd)
		// Follow "npm run other" into the scripts it names, a few levels.
		cmds := []string{cmd}
		seenScripts := map[string]bool{phase: true}
		for i := 0; i < len(cmds) && i < 8; i++ {
			for _, m := range runScriptRE.FindAllStringSubmatch(cmds[i], -1) {
				name := m[1] + m[2]
				if next, ok := pj.Scripts[name]; ok && !seenScripts[name] {
					seenScripts[name] = true
					cmds = append(cmds, next)
				}
			}
		}
		for _, c := range cmds {
			r.commandBehaviour(pr, phase, c, byPath, results, installFiles)
		}
	}
	if len(installFiles) == 0 {
		return installFiles
	}
	return r.dropper(pr, installFiles)
}

// commandBehaviour analyses one command line run at install time.
func (r *run) commandBehaviour(pr *pkgRun, phase, cmd string, byPath map[string]*tarball.File, results map[string]capability.Result, installFiles map[string]bool) {
	r.shellBehaviour(pr, phase, "package.json", cmd)
	for _, m := range inlineNodeRE.FindAllStringSubmatch(cmd, -1) {
		// Inside double quotes the shell removes the backslash before ", \, $ and `.
		code := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(m[1]) + m[2]
		res := capability.Analyze([]byte(code), r.cfg.Parse)
		installFiles["package.json"] = true
		for _, f := range res.Findings {
			sev, verb := installSeverity(f)
			pr.addCap(Capability{Kind: deps.SignalInstallBehaviour, InstallTime: true, Severity: sev, File: "package.json",
				What: phase + ": " + verb + " (" + f.Detail + ", in node -e)"})
		}
	}
	for _, m := range scriptRunRE.FindAllStringSubmatch(cmd, -1) {
		runner, file := m[1], m[3]
		if m[4] != "" {
			runner, file = "", m[4]
		}
		if strings.HasPrefix(m[2], "-e") || strings.HasPrefix(m[2], "--eval") {
			continue
		}
		target := resolve(byPath, path.Clean(strings.TrimPrefix(file, "./")), runner != "sh" && runner != "bash")
		if target == "" {
			continue
		}
		if jsFile(target) || runner == "node" || runner == "nodejs" {
			r.followJS(pr, phase, target, byPath, results, installFiles)
		} else if f := byPath[target]; f != nil {
			r.shellBehaviour(pr, phase, target, string(f.Data))
		}
	}
}

// dropper adds the download-and-run signal when install-time code both
// reaches the network and runs processes or built code.
func (r *run) dropper(pr *pkgRun, installFiles map[string]bool) map[string]bool {
	// Download-and-run: network and process or dynamic code, all at
	// install time, is the shape of a dropper.
	var net, exec *Capability
	for i := range pr.profile.Capabilities {
		c := &pr.profile.Capabilities[i]
		if !c.InstallTime {
			continue
		}
		switch {
		case strings.Contains(c.What, "network") && net == nil:
			net = c
		case (strings.Contains(c.What, "processes") || strings.Contains(c.What, "runs code built")) && exec == nil:
			exec = c
		}
	}
	if net != nil && exec != nil {
		phase, _, _ := strings.Cut(net.What, ":")
		pr.addCap(Capability{Kind: deps.SignalInstallBehaviour, InstallTime: true, Severity: osv.SeverityCritical,
			What: phase + ": downloads and runs code at install time (network at " + loc(net.File, net.Line) + ", execution at " + loc(exec.File, exec.Line) + ")",
			File: net.File, Line: net.Line})
	}
	return installFiles
}

// resolve finds a script target in the package, trying Node's extensions
// for JavaScript.
func resolve(byPath map[string]*tarball.File, p string, js bool) string {
	if strings.HasPrefix(p, "../") || p == ".." || strings.HasPrefix(p, "/") {
		return ""
	}
	cands := []string{p}
	if js {
		cands = append(cands, p+".js", p+".cjs", p+".mjs", p+"/index.js")
	}
	for _, c := range cands {
		if byPath[c] != nil {
			return c
		}
	}
	return ""
}

// followJS records the capabilities of an install-time file and of the
// package files it loads, transitively.
func (r *run) followJS(pr *pkgRun, phase, start string, byPath map[string]*tarball.File, results map[string]capability.Result, seen map[string]bool) {
	queue := []string{start}
	for len(queue) > 0 && len(seen) < maxInstallFiles {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		res, ok := results[p]
		if !ok {
			f := byPath[p]
			if f == nil {
				continue
			}
			res = capability.Analyze(f.Data, r.cfg.Parse)
			results[p] = res
		}
		if res.ParseError != "" {
			pr.addCap(Capability{Kind: deps.SignalInstallBehaviour, InstallTime: true, Severity: osv.SeverityHigh, File: p,
				What: phase + ": runs " + p + ", which does not parse (" + res.ParseError + ")"})
		}
		if res.Minified {
			pr.addCap(Capability{Kind: deps.SignalObfuscated, InstallTime: true, Severity: osv.SeverityHigh, File: p, Line: 1,
				What: phase + ": runs minified code in " + p})
		}
		for _, f := range res.Findings {
			sev, verb := installSeverity(f)
			pr.addCap(Capability{Kind: deps.SignalInstallBehaviour, InstallTime: true, Severity: sev, File: p, Line: f.Line,
				What: phase + ": " + verb + " (" + f.Detail + ")"})
		}
		dir := path.Dir(p)
		for _, m := range res.Modules {
			if !strings.HasPrefix(m, "./") && !strings.HasPrefix(m, "../") {
				continue
			}
			if t := resolve(byPath, path.Join(dir, m), true); t != "" && !seen[t] {
				queue = append(queue, t)
			}
		}
	}
}

// installSeverity weighs a capability of install-time code and names it.
func installSeverity(f capability.Finding) (osv.Severity, string) {
	switch f.Kind {
	case capability.Network:
		return osv.SeverityHigh, "makes network requests"
	case capability.ChildProcess:
		return osv.SeverityHigh, "spawns processes"
	case capability.DynamicCode:
		return osv.SeverityHigh, "runs code built at run time"
	case capability.Obfuscated:
		return osv.SeverityCritical, "runs an obfuscated payload"
	case capability.EnvAccess:
		if f.Sensitive {
			return osv.SeverityCritical, "reads secrets from the environment"
		}
		return osv.SeverityModerate, "reads the environment"
	case capability.Filesystem:
		if strings.HasPrefix(f.Detail, "writes outside") {
			return osv.SeverityHigh, "writes outside the package"
		}
		if f.Sensitive {
			return osv.SeverityCritical, "reads credential files"
		}
		return osv.SeverityLow, "uses the file system"
	case capability.NativeCode:
		return osv.SeverityModerate, "loads native code"
	}
	return osv.SeverityModerate, string(f.Kind)
}

// shellBehaviour matches the shell rules against a command line or a
// shell script.
func (r *run) shellBehaviour(pr *pkgRun, phase, file, text string) {
	lines := strings.Split(text, "\n")
	var found []string
	for i, line := range lines {
		for _, rule := range shellRules {
			if slices.Contains(found, rule.what) || !rule.re.MatchString(line) {
				continue
			}
			found = append(found, rule.what)
			ln := 0
			if file != "package.json" {
				ln = i + 1
			}
			pr.addCap(Capability{Kind: deps.SignalInstallBehaviour, InstallTime: true, Severity: rule.severity, File: file, Line: ln,
				What: phase + ": " + rule.what + " (" + clipCmd(line) + ")"})
			if rule.severity == osv.SeverityCritical && (strings.HasPrefix(rule.what, "pipes") || strings.HasPrefix(rule.what, "downloads a file")) {
				// The pipe implies the download; do not report it twice.
				found = append(found, "downloads from the network")
			}
		}
	}
}

func clipCmd(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}
