package shield

import (
	"bytes"
	"regexp"
)

// signature is one kind of leak. Anchors are literal strings of which at
// least one must occur before the (slower) regular expression runs; an empty
// pattern means an anchor alone is proof.
type signature struct {
	name    string
	anchors [][]byte
	re      *regexp.Regexp
}

func (s *signature) match(b []byte) bool {
	hit := len(s.anchors) == 0
	for _, a := range s.anchors {
		if bytes.Contains(b, a) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	return s.re == nil || s.re.Match(b)
}

func anchors(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// DefaultInspectBytes is how much of an error body is inspected by default.
const DefaultInspectBytes = 64 << 10

// sourceExt are file extensions of application source code.
const sourceExt = `(?:js|mjs|cjs|ts|tsx|jsx|py|rb|go|php|java|cs|kt|scala|ex|exs|rs|vb|aspx?|cshtml|erb|twig|jinja2?)`

// builtinSignatures recognise stack traces, debug pages, SQL errors and
// source paths of common stacks. They are deliberately specific: a plain
// "Error:" or a URL path is not a leak, a file path ending in a source
// extension under an application root is.
//
// Every expression is RE2 (linear time) and runs over at most the
// inspection window, so a hostile body cannot make matching slow.
var builtinSignatures = []signature{
	{
		// Node.js / V8 stack frame: "at fn (/app/x.js:10:5)", also inside
		// JSON ("\n    at …") and Express's HTML page ("&nbsp;at …").
		name:    "node-stack",
		anchors: anchors("at "),
		re:      regexp.MustCompile(`at [^\n"]{0,200}?\(?(?:node:|file://|/|[A-Za-z]:\\{1,2})[^\s()<>"]{1,300}:\d+:\d+`),
	},
	{
		name:    "go-panic",
		anchors: anchors("goroutine ", ".go:"),
		re:      regexp.MustCompile(`goroutine \d+ \[[a-z ]+\]:|\.go:\d+ \+0x[0-9a-f]+|panic: .{0,200}(?:\n|\\n)\s*goroutine`),
	},
	{
		name:    "python-traceback",
		anchors: anchors("Traceback (most recent call last)", ", line "),
		re:      regexp.MustCompile(`Traceback \(most recent call last\)|File \\?"[^"\n]{1,300}\\?", line \d+, in `),
	},
	{
		name:    "java-stack",
		anchors: anchors("at ", "Exception in thread", "Whitelabel Error Page"),
		re:      regexp.MustCompile(`at [\w$.<>]+\([\w$]+\.(?:java|kt|scala|groovy|clj):\d+\)|Exception in thread "|Whitelabel Error Page`),
	},
	{
		name:    "dotnet-stack",
		anchors: anchors(":line ", "Server Error in '", "--- End of "),
		re:      regexp.MustCompile(`at [^\n"]{1,300}? in [^\n"]{1,300}:line \d+|Server Error in '[^']*' Application|--- End of (?:inner exception )?stack trace ---`),
	},
	{
		name:    "php-error",
		anchors: anchors(" on line ", "Stack trace:", "Whoops, looks like something went wrong"),
		re:      regexp.MustCompile(`(?:Fatal error|Parse error|Warning|Notice|Deprecated)(?:</b>)?:.{1,500}? on line (?:<b>)?\d+|Stack trace:\s*(?:\\n|<br\s*/?>)?\s*#0 |Whoops, looks like something went wrong`),
	},
	{
		name:    "ruby-stack",
		anchors: anchors(".rb:"),
		re:      regexp.MustCompile(`\.rb:\d+:in `),
	},
	{
		name: "sql-error",
		anchors: anchors("SQL", "sql", "ORA-", "PG::", "syntax error", "SQLITE", "quotation mark", "ER_",
			"QueryFailedError", "SequelizeDatabaseError", "Prisma", "violates", "does not exist", "PSQLException"),
		re: regexp.MustCompile(`You have an error in your SQL syntax|SQLSTATE\[|ORA-\d{5}|PG::\w+|syntax error at or near|` +
			`unterminated quoted string at or near|SQLITE_(?:ERROR|CONSTRAINT)|sqlite3\.\w*Error|SQLiteException|` +
			`near \\?"[^"]{0,60}\\?": syntax error|Unclosed quotation mark after the character string|Incorrect syntax near|` +
			`Microsoft OLE DB Provider|ODBC SQL Server Driver|ER_(?:PARSE_ERROR|BAD_FIELD_ERROR|NO_SUCH_TABLE|DUP_ENTRY)|` +
			`SequelizeDatabaseError|QueryFailedError|PrismaClient\w*Error|psycopg2?\.(?:errors|\w*Error)|PSQLException|` +
			`duplicate key value violates unique constraint|relation \\?"[^"]{1,100}\\?" does not exist|column \\?"[^"]{1,100}\\?" does not exist|` +
			`(?:Sql|MySql|Npgsql|SQLite)Exception`),
	},
	{
		// Absolute paths of source files under the places applications
		// live, and dependency trees.
		name:    "source-path",
		anchors: anchors("/home/", "/Users/", "/usr/src/", "/app/", "/var/www/", "/srv/", "/opt/", "/workspace/", "/code/", "node_modules", "site-packages", ":\\"),
		re: regexp.MustCompile(`(?:/home/[^/\s"'<>]+|/Users/[^/\s"'<>]+|/usr/src|/var/www)/[^\s"'<>()]*\.[A-Za-z]{1,8}\b|` +
			`(?:/app|/srv|/opt|/workspace|/code)/[^\s"'<>()]*\.` + sourceExt + `\b|` +
			`/(?:node_modules|site-packages|dist-packages)/[^\s"'<>()]+|` +
			`[A-Za-z]:\\{1,2}(?:Users|inetpub|www|app|src|Projects|Program Files)[^\s"'<>]*\.` + sourceExt + `\b`),
	},
	{
		name: "debug-page",
		anchors: anchors("DEBUG = True", "Werkzeug", "debugger caught an exception", "Action Controller: Exception caught",
			"Symfony\\Component", "Illuminate\\", "django.", "Traceback"),
		re: regexp.MustCompile(`DEBUG = True|Werkzeug Debugger|The debugger caught an exception|Action Controller: Exception caught|` +
			`Symfony\\{1,2}Component\\{1,2}|Illuminate\\{1,2}\w+|django\.(?:core|db|http|template)\.`),
	},
}

// Leak reports whether body shows one of the built-in leak signatures —
// a stack trace, a debug page, an SQL error, a source path — and which. It
// is what the shield looks for in error responses, exported for tools that
// check a site from outside (rampart scan). Only the first 64 KiB are
// examined.
func Leak(body []byte) (signature string, found bool) {
	if len(body) > DefaultInspectBytes {
		body = body[:DefaultInspectBytes]
	}
	for i := range builtinSignatures {
		if builtinSignatures[i].match(body) {
			return builtinSignatures[i].name, true
		}
	}
	return "", false
}
