package selftest

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rampartsec/rampart/audit/checklist"
	"github.com/rampartsec/rampart/audit/severity"
)

//go:embed corpus/*.yaml
var builtin embed.FS

// Corpus is a set of attack classes, each with its cases. It is data: the
// built-in corpus is embedded from selftest/corpus/*.yaml, and more files
// in the same format can be added with LoadFS.
type Corpus struct {
	Classes []*Class
}

// Class is one kind of attack, e.g. path confusion. Its cases share a
// target kind, a judge and a fix unless a case says otherwise.
type Class struct {
	// Name is the class's id, as --only selects it.
	Name string `yaml:"class"`
	// Title is the one-line description of what the attack achieves when
	// it works.
	Title string `yaml:"title"`
	// Summary explains the class for the report and the docs.
	Summary string `yaml:"summary"`
	// Severity of a failure, unless a case says otherwise.
	Severity severity.Level `yaml:"-"`
	// Fix names the settings that stop the attack.
	Fix Fix `yaml:"fix"`
	// On is the kind of target cases are instantiated against (see Kinds).
	On string `yaml:"on"`
	// Expect is the judge that decides whether a case held (see Judges).
	Expect string `yaml:"expect"`
	// Cases are the attacks.
	Cases []*Case `yaml:"cases"`

	RawSeverity string `yaml:"severity"`
	file        string
}

// Fix says what would stop an attack: the checklist rules of `rampart
// audit config` that concern it, and the setting in words.
type Fix struct {
	Rules   []string `yaml:"rules" json:"rules"`
	Setting string   `yaml:"setting" json:"setting"`
	// Key, when set, is the configuration key the fix is about; a
	// failure is then located there instead of at the attacked target.
	Key string `yaml:"key" json:"key,omitempty"`
}

// Case is one attack: a request template, instantiated for every target of
// its kind, and the source that documents it.
type Case struct {
	// ID is unique within its class.
	ID string `yaml:"id"`
	// Source is the advisory or report the attack comes from: a CVE or
	// GHSA id, or a project's issue or report.
	Source string `yaml:"source"`
	// Note says what the case tries, in a sentence.
	Note string `yaml:"note"`
	// Control marks a legitimate request that must get through: it proves
	// that the other cases on the same target were judged on a working
	// path, and is reported apart from attacks.
	Control bool `yaml:"control"`

	// The request. Raw, when set, is the whole request, sent byte for
	// byte after expansion (lines end in CRLF; a final empty line is
	// added when there is no body). Otherwise it is built from Method,
	// Target, Proto, Host, Headers and Body.
	Raw     string   `yaml:"raw"`
	Method  string   `yaml:"method"`
	Target  string   `yaml:"target"`
	Proto   string   `yaml:"proto"`
	Host    *string  `yaml:"host"`
	Headers []string `yaml:"headers"`
	Body    string   `yaml:"body"`

	// Origin is the origin an origin case sends, as a template over the
	// allowed origin (${o_scheme}, ${o_host}, ${o_port}).
	Origin string `yaml:"origin"`
	// Next is the redirect target a login case asks for.
	Next string `yaml:"next"`
	// Token is the JWT a token case sends as ${token}.
	Token *TokenSpec `yaml:"token"`
	// Client is where the request comes from: "attacker" (default, an
	// address the configuration does not trust), or for rate-limit cases
	// "same-64" (each request from another address in one IPv6 /64).
	Client string `yaml:"client"`
	// Session sends the request with a logged-in user's session cookie
	// (and CSRF token header when the mode needs one).
	Session bool `yaml:"session"`

	// On, Expect, Fix and Severity override the class's.
	On          string `yaml:"on"`
	Expect      string `yaml:"expect"`
	Fix         *Fix   `yaml:"fix"`
	RawSeverity string `yaml:"severity"`

	class    *Class
	severity severity.Level
	file     string
	line     int
}

// TokenSpec describes a JWT to forge.
type TokenSpec struct {
	// Alg is the header's alg. Default: the issuer's first algorithm.
	Alg string `yaml:"alg"`
	// Sign is how the token is signed: issuer (the key the issuer
	// publishes, standing in for the real provider's), attacker (a key
	// the issuer does not know), hmac-public-key (HMAC with the issuer's
	// public key as the secret), none (empty signature), zero (a
	// signature of zero bytes), or corrupt (the issuer's signature with
	// one byte changed).
	Sign string `yaml:"sign"`
	// Header adds to or replaces header parameters; the value "attacker-jwk"
	// embeds the attacker's public key, "attacker-jwks-url" a JWKS URL
	// serving it.
	Header map[string]string `yaml:"header"`
	// Claims add to or replace claims. A value "now+1h" or "now-2h" is a
	// time relative to now; "omit" removes the claim; "${issuer}" and
	// "${audience}" are the configured ones.
	Claims map[string]string `yaml:"claims"`
}

// Kinds of targets a case is instantiated against.
var Kinds = []string{
	"protected-path",  // each route with auth, roles or allow_ips (and each stricter neighbour)
	"ip-route",        // each route with allow_ips
	"any-route",       // one reachable path of each route
	"host",            // each host of allow.hosts
	"cors-origin",     // each allowed CORS origin (global and per route)
	"csrf-route",      // each route taking unsafe methods with CSRF on
	"issuer",          // each auth.issuers entry, on a route that requires authentication
	"login",           // the login endpoint, when sessions are on
	"rate-rule",       // each rate-limit rule keyed by ip
	"validated-route", // each route with a JSON body schema
}

// Judges decide whether a case held.
var Judges = []string{
	"not-reached",        // nothing reached the app
	"no-protected-reach", // nothing reached the app on a path a lenient app maps to the protected route
	"no-marker",          // the case's marker reached the app in no header
	"host-kept",          // nothing reached the app with a Host outside allow.hosts
	"no-acao",            // the response does not grant the origin CORS access
	"same-site-redirect", // the login's redirect stays on the site
	"limited",            // no more requests got through than one client gets
	"refused",            // the client got a refusal (4xx) and nothing reached the app
	"reached",            // a control: the request reached the app
}

// Source ids must look like an advisory or a project reference.
var sourceRe = regexp.MustCompile(`^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#\d+|RFC ?\d+|[A-Za-z][A-Za-z0-9 _.-]+ (advisory|issue|report|bug) [A-Za-z0-9_.:/#-]+)`)

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Builtin returns the corpus shipped with Rampart.
func Builtin() (*Corpus, error) {
	sub, err := fs.Sub(builtin, "corpus")
	if err != nil {
		return nil, err
	}
	return LoadFS(sub)
}

// LoadFS reads every *.yaml file at the top of fsys as corpus files. A file
// may add cases to a class another file defines. Errors name the file, the
// line and the field.
func LoadFS(fsys fs.FS) (*Corpus, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	c := &Corpus{}
	byName := map[string]*Class{}
	var errs []error
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cl, err := parseClass(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, ok := byName[cl.Name]; ok {
			for _, cs := range cl.Cases {
				cs.class = prev
			}
			prev.Cases = append(prev.Cases, cl.Cases...)
			continue
		}
		byName[cl.Name] = cl
		c.Classes = append(c.Classes, cl)
	}
	for _, cl := range c.Classes {
		seen := map[string]string{}
		for _, cs := range cl.Cases {
			errs = append(errs, checkMerged(cs)...)
			where := fmt.Sprintf("%s:%d", cs.file, cs.line)
			if prev, ok := seen[cs.ID]; ok {
				errs = append(errs, fmt.Errorf("%s: id: %q is already used in class %s at %s", where, cs.ID, cl.Name, prev))
			}
			seen[cs.ID] = where
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// parseClass decodes one corpus file strictly and checks every case.
func parseClass(name string, data []byte) (*Class, error) {
	cl := &Class{file: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cl); err != nil {
		return nil, yamlError(name, err)
	}
	// The same document as nodes, for the lines of the cases.
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	// Lines of the cases, for errors.
	var caseLines []int
	if len(root.Content) == 1 {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "cases" {
				for _, n := range m.Content[i+1].Content {
					caseLines = append(caseLines, n.Line)
				}
			}
		}
	}
	var errs []error
	fail := func(line int, field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", name, line, field, fmt.Sprintf(format, args...)))
	}
	if !idRe.MatchString(cl.Name) {
		fail(1, "class", "must be lower-case letters, digits and '-', got %q", cl.Name)
	}
	var err error
	if cl.Severity, err = parseSeverity(cl.RawSeverity); err != nil {
		fail(1, "severity", "%v", err)
	}
	for i, cs := range cl.Cases {
		cs.class, cs.file = cl, name
		if i < len(caseLines) {
			cs.line = caseLines[i]
		}
		l := cs.line
		if !idRe.MatchString(cs.ID) {
			fail(l, "id", "must be lower-case letters, digits and '-', got %q", cs.ID)
		}
		if !sourceRe.MatchString(cs.Source) {
			fail(l, "source", "must name a CVE or GHSA id, an RFC, or a project's issue or report (owner/repo#123, \"<project> advisory <id>\"), got %q", cs.Source)
		}
		if cs.Raw == "" && cs.Target == "" {
			fail(l, "target", "a case needs raw or target")
		}
		if cs.Raw != "" && (cs.Method != "" || cs.Target != "" || len(cs.Headers) > 0 || cs.Body != "") {
			fail(l, "raw", "raw replaces method, target, headers and body; give one or the other")
		}
		for _, h := range cs.Headers {
			if n, _, ok := strings.Cut(h, ":"); !ok || n == "" {
				fail(l, "headers", "%q is not \"Name: value\"", h)
			}
		}
		if cs.Token != nil {
			if !slices.Contains([]string{"", "issuer", "attacker", "hmac-public-key", "none", "zero", "corrupt"}, cs.Token.Sign) {
				fail(l, "token.sign", "unknown signing %q (issuer, attacker, hmac-public-key, none, zero or corrupt)", cs.Token.Sign)
			}
		}
		switch cs.Client {
		case "", "attacker", "same-64":
		default:
			fail(l, "client", "unknown client %q (attacker or same-64)", cs.Client)
		}
		if cs.severity, err = parseSeverity(cs.RawSeverity); err != nil {
			fail(l, "severity", "%v", err)
		}
		if err := checkTemplates(cs); err != nil {
			fail(l, "template", "%v", err)
		}
	}
	if len(cl.Cases) == 0 {
		fail(1, "cases", "a class needs at least one case")
	}
	for _, r := range cl.Fix.Rules {
		if !knownRule(r) {
			fail(1, "fix.rules", "%q is not a rule of rampart audit config", r)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cl, nil
}

var yamlLineRe = regexp.MustCompile(`^\s*(?:yaml: )?line (\d+): (.*?)(?: in type [\w.*\[\]]+)?$`)

// yamlError restates a YAML error as "file:line: message", without the
// Go type names the decoder mentions.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	var lines []string
	if errors.As(err, &te) {
		lines = te.Errors
	} else {
		lines = []string{err.Error()}
	}
	var errs []error
	for _, l := range lines {
		if m := yamlLineRe.FindStringSubmatch(l); m != nil {
			errs = append(errs, fmt.Errorf("%s:%s: %s", name, m[1], m[2]))
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %s", name, strings.TrimPrefix(l, "yaml: ")))
	}
	return errors.Join(errs...)
}

// checkMerged checks what a case takes from its class, once every file
// is read.
func checkMerged(cs *Case) []error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", cs.file, cs.line, field, fmt.Sprintf(format, args...)))
	}
	if on := cs.kind(); !slices.Contains(Kinds, on) {
		fail("on", "unknown target kind %q (one of %s)", on, strings.Join(Kinds, ", "))
	}
	if ex := cs.judge(); !slices.Contains(Judges, ex) {
		fail("expect", "unknown judge %q (one of %s)", ex, strings.Join(Judges, ", "))
	}
	if cs.Control != (cs.judge() == "reached") {
		fail("control", "control cases, and only they, expect reached")
	}
	if cs.Fix != nil {
		for _, r := range cs.Fix.Rules {
			if !knownRule(r) {
				fail("fix.rules", "%q is not a rule of rampart audit config", r)
			}
		}
	}
	if cs.fix().Setting == "" {
		fail("fix.setting", "a case needs a fix, its own or its class's")
	}
	if cs.severity == severity.Unknown {
		cs.severity = cs.class.Severity
	}
	if cs.severity == severity.Unknown {
		fail("severity", "a case needs a severity, its own or its class's")
	}
	return errs
}

func parseSeverity(s string) (severity.Level, error) {
	if s == "" {
		return severity.Unknown, nil
	}
	l, err := severity.Parse(s)
	if err == nil && l == severity.Unknown {
		err = fmt.Errorf("severity must be low, moderate, high or critical")
	}
	return l, err
}

func knownRule(id string) bool {
	for _, r := range checklist.Rules() {
		if r.ID == id {
			return true
		}
	}
	return false
}

// kind, judge and fix are the case's own or its class's.
func (cs *Case) kind() string {
	if cs.On != "" {
		return cs.On
	}
	return cs.class.On
}

func (cs *Case) judge() string {
	if cs.Expect != "" {
		return cs.Expect
	}
	return cs.class.Expect
}

func (cs *Case) fix() Fix {
	if cs.Fix != nil {
		return *cs.Fix
	}
	return cs.class.Fix
}

// Class returns the name of the case's class.
func (cs *Case) Class() string { return cs.class.Name }

// Count returns the number of classes and cases.
func (c *Corpus) Count() (classes, cases int) {
	for _, cl := range c.Classes {
		cases += len(cl.Cases)
	}
	return len(c.Classes), cases
}

// Select keeps the named classes. Unknown names are an error.
func (c *Corpus) Select(names []string) (*Corpus, error) {
	if len(names) == 0 {
		return c, nil
	}
	out := &Corpus{}
	for _, n := range names {
		i := slices.IndexFunc(c.Classes, func(cl *Class) bool { return cl.Name == n })
		if i < 0 {
			var all []string
			for _, cl := range c.Classes {
				all = append(all, cl.Name)
			}
			return nil, fmt.Errorf("unknown class %q (classes: %s)", n, strings.Join(all, ", "))
		}
		if !slices.Contains(out.Classes, c.Classes[i]) {
			out.Classes = append(out.Classes, c.Classes[i])
		}
	}
	return out, nil
}
