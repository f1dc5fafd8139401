package shield

import (
	"net/http"
	"regexp"
	"strings"
)

// Redacted replaces every secret-looking value in logged headers and
// excerpts.
const Redacted = "[redacted]"

// secretWord matches names of fields, parameters and headers that hold
// credentials.
const secretWord = `(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth(?:orization)?|session(?:id)?|sid|cookie|credential|signature|jwt|bearer|otp|pin|ssn|credit[_-]?card|card[_-]?number|cvv|iban)`

var redactions = []struct {
	re   *regexp.Regexp
	repl string
}{
	// JSON and JSON-in-text fields: "password": "…", "accessToken":"…".
	{regexp.MustCompile(`(?i)("[\w.-]*` + secretWord + `[\w.-]*\\?"\s*:\s*)(?:\\?"(?:[^"\\]|\\.)*\\?"|[^,}\]\s]+)`), `${1}"` + Redacted + `"`},
	// Quoted values after a secret name in code and SQL: password = 'x'.
	{regexp.MustCompile(`(?i)(\b[\w.-]*` + secretWord + `[\w.-]*\s*(?:=|:|\bLIKE\b)\s*)(?:'[^'\n]*'|\\?"[^"\n]*?\\?")`), `${1}'` + Redacted + `'`},
	// Query and form parameters: ?token=…&password=….
	{regexp.MustCompile(`(?i)((?:^|[?&;\s"'])[\w.-]*` + secretWord + `[\w.-]*=)[^&;\s"'<>#]*`), `${1}` + Redacted},
	// key: value and key = value lines (headers, config dumps, env files).
	{regexp.MustCompile(`(?im)^(\s*[\w.-]*` + secretWord + `[\w.-]*\s*[:=]\s*).+$`), `${1}` + Redacted},
	// Authorization schemes wherever they appear.
	{regexp.MustCompile(`(?i)\b(bearer|basic|digest)\s+[A-Za-z0-9._~+/=-]{8,}`), `${1} ` + Redacted},
	// JSON Web Tokens.
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`), Redacted},
	// Credentials in URLs and connection strings: scheme://user:pass@host.
	{regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/\s@"']+:)[^@\s/"']+@`), `${1}` + Redacted + `@`},
	// Private keys.
	{regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`), Redacted},
}

// RedactText replaces credentials in free text: secret-named JSON fields,
// query and form parameters and key/value lines, Authorization values, JWTs,
// passwords in URLs and private keys. It is applied to every excerpt and
// panic message before it is logged.
func RedactText(s string) string {
	for _, r := range redactions {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

// secretHeader matches header names whose values are always redacted.
var secretHeader = regexp.MustCompile(`(?i)^(?:set-cookie|cookie|authorization|proxy-authorization|www-authenticate|proxy-authenticate|x-csrf-token|x-xsrf-token)$|` + secretWord)

// RedactHeader returns a copy of h fit for a log: values of Set-Cookie,
// Authorization and every header whose name looks like it carries a secret
// are replaced, and the rest go through RedactText.
func RedactHeader(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if secretHeader.MatchString(k) {
			out[k] = Redacted
			continue
		}
		out[k] = RedactText(strings.Join(vs, ", "))
	}
	return out
}
