package validate

import (
	"encoding/json"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

const msgNotAllowed = "is not allowed"

// leaf is one failed assertion: where in the instance, and what is wrong in
// words fit for the client.
type leaf struct {
	pointer string
	detail  string
}

// collect flattens a validation error tree into its failed assertions,
// written by this package: the library's own messages quote the input and
// the schema's location, which the client must not see.
func collect(e *jsonschema.ValidationError, doc any, out []leaf) []leaf {
	ptr := safePointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference:
		if len(e.Causes) == 0 {
			return append(out, leaf{ptr, "is invalid"})
		}
		for _, c := range e.Causes {
			out = collect(c, doc, out)
		}
		return out
	case *kind.Required:
		for _, m := range k.Missing {
			out = append(out, leaf{ptr + "/" + safeToken(m), "is required"})
		}
		return out
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			out = append(out, leaf{ptr + "/" + safeToken(p), msgNotAllowed})
		}
		return out
	}
	if k, ok := e.ErrorKind.(*kind.Type); ok {
		return append(out, leaf{ptr, typeMessage(k, instanceAt(doc, e.InstanceLocation))})
	}
	return append(out, leaf{ptr, message(e.ErrorKind)})
}

// typeMessage names the wanted types and, when harmless, the value given:
// "must be an integer, got 2.5".
func typeMessage(k *kind.Type, got any) string {
	want := make([]string, len(k.Want))
	for i, w := range k.Want {
		want[i] = article(w)
	}
	return "must be " + strings.Join(want, " or ") + ", got " + describe(got)
}

// instanceAt returns the value at the location in doc.
func instanceAt(doc any, loc []string) any {
	cur := doc
	for _, tok := range loc {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// message describes one failed keyword without internals. Only bounded,
// harmless parts of the input are quoted (see describe).
func message(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return typeMessage(k, nil)
	case *kind.Enum:
		if !echoable(k.Want) {
			return "must be one of the allowed values"
		}
		return "must be one of: " + listValues(k.Want)
	case *kind.Const:
		if !echoable([]any{k.Want}) {
			return "must be the allowed value"
		}
		return "must be " + display(k.Want)
	case *kind.Format:
		return formatMessage(k)
	case *kind.MinLength:
		return "must be at least " + plural(k.Want, "character") + " long, got " + strconv.Itoa(k.Got)
	case *kind.MaxLength:
		return "must be at most " + plural(k.Want, "character") + " long, got " + strconv.Itoa(k.Got)
	case *kind.Pattern:
		return "must match the pattern " + capText(k.Want, 100)
	case *kind.Minimum:
		return "must be at least " + ratString(k.Want) + ", got " + ratString(k.Got)
	case *kind.Maximum:
		return "must be at most " + ratString(k.Want) + ", got " + ratString(k.Got)
	case *kind.ExclusiveMinimum:
		return "must be greater than " + ratString(k.Want) + ", got " + ratString(k.Got)
	case *kind.ExclusiveMaximum:
		return "must be less than " + ratString(k.Want) + ", got " + ratString(k.Got)
	case *kind.MultipleOf:
		return "must be a multiple of " + ratString(k.Want) + ", got " + ratString(k.Got)
	case *kind.MinItems:
		return "must have at least " + plural(k.Want, "item") + ", got " + strconv.Itoa(k.Got)
	case *kind.MaxItems:
		return "must have at most " + plural(k.Want, "item") + ", got " + strconv.Itoa(k.Got)
	case *kind.MinProperties:
		return "must have at least " + plural(k.Want, "property") + ", got " + strconv.Itoa(k.Got)
	case *kind.MaxProperties:
		return "must have at most " + plural(k.Want, "property") + ", got " + strconv.Itoa(k.Got)
	case *kind.UniqueItems:
		return "must not contain duplicate items (" + strconv.Itoa(k.Duplicates[0]) + " and " + strconv.Itoa(k.Duplicates[1]) + " are equal)"
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			return "must match exactly one of the allowed schemas, matched none"
		}
		return "must match exactly one of the allowed schemas, matched several"
	case *kind.AnyOf:
		return "must match at least one of the allowed schemas"
	case *kind.Not:
		return "must not match the disallowed schema"
	case *kind.FalseSchema:
		// Also what unevaluatedProperties: false reports, at the property.
		return msgNotAllowed
	case *kind.PropertyNames:
		return "has a property whose name is not allowed"
	case *kind.DependentRequired:
		return "needs " + listStrings(k.Missing) + " when " + capText(k.Prop, 40) + " is present"
	case *kind.Dependency:
		return "needs " + listStrings(k.Missing) + " when " + capText(k.Prop, 40) + " is present"
	case *kind.Contains, *kind.MinContains, *kind.MaxContains:
		return "does not contain the required items"
	case *kind.AdditionalItems:
		return "has more items than allowed"
	}
	return "is invalid"
}

var formatNames = map[string]string{
	"email":     "an email address",
	"uuid":      "a UUID",
	"date":      "a date (YYYY-MM-DD)",
	"date-time": "a date-time (RFC 3339, e.g. 2024-05-01T12:00:00Z)",
	"time":      "a time (RFC 3339, e.g. 12:00:00Z)",
	"uri":       "an absolute URI",
	"ipv4":      "an IPv4 address",
	"ipv6":      "an IPv6 address",
	"hostname":  "a hostname",
	"byte":      "base64 data",
	"duration":  "an ISO 8601 duration",
}

func formatMessage(k *kind.Format) string {
	switch k.Want {
	case "int32":
		return "must be an integer between -2147483648 and 2147483647, got " + describe(k.Got)
	case "int64":
		return "must be an integer between -9223372036854775808 and 9223372036854775807, got " + describe(k.Got)
	case "float":
		return "must be a number in the range of a 32-bit float, got " + describe(k.Got)
	case "double":
		return "must be a number in the range of a 64-bit float, got " + describe(k.Got)
	}
	if name, ok := formatNames[k.Want]; ok {
		return "must be " + name
	}
	return "must be a valid " + capText(k.Want, 40)
}

func article(t string) string {
	switch t {
	case "integer", "object", "array":
		return "an " + t
	case "null":
		return "null"
	}
	return "a " + t
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return strconv.Itoa(n) + " " + strings.TrimSuffix(word, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// ratString renders a number compared by the schema library. The got side
// comes from the client but is bounded by the decoder's number limits, and
// is capped again here.
func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return capText(r.Num().String(), 24)
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// describe renders a client value for a message: numbers, booleans and null
// as themselves (capped); short strings of harmless characters quoted;
// anything else only by its type. Nothing long, binary or markup-like is
// ever reflected.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return capText(string(t), 24)
	case string:
		if len(t) <= 32 && safeText(t) {
			return "string " + strconv.Quote(t)
		}
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a value"
}

// display renders a value taken from the schema (operator-written).
func display(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(capText(t, 40))
	case nil, bool, json.Number:
		return describe(t)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "the allowed value"
	}
	return capText(string(b), 60)
}

// maxEchoedValue bounds the enum and const values a 400 may quote: a
// document's values are configuration, and a long one (a token, an
// internal URL) is not for clients to read.
const maxEchoedValue = 32

// echoable reports whether every value in vs is short and plain enough to
// be quoted back to the client.
func echoable(vs []any) bool {
	for _, v := range vs {
		switch t := v.(type) {
		case string:
			if len(t) > maxEchoedValue || !safeText(t) {
				return false
			}
		case nil, bool, json.Number:
		default:
			return false
		}
	}
	return true
}

func listValues(vs []any) string {
	var parts []string
	for i, v := range vs {
		if i == 10 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, display(v))
	}
	return strings.Join(parts, ", ")
}

func listStrings(ss []string) string {
	vs := make([]any, len(ss))
	for i, s := range ss {
		vs[i] = s
	}
	return listValues(vs)
}

// safeText reports whether s holds only characters that are harmless in any
// output: letters, digits and a little punctuation.
func safeText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(" .,:;_+-@/#()[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// capText cuts s to at most n bytes, on a rune boundary, marking the cut.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func escapeToken(s string) string {
	if strings.ContainsAny(s, "~/") {
		return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
	}
	return s
}

// safePointer renders an instance location for the client: each token (a
// property name chosen by the client) capped and stripped of characters
// that mean something in markup, so that a hostile key is not reflected.
func safePointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if b.Len() > 200 {
			b.WriteString("/…")
			break
		}
		b.WriteByte('/')
		b.WriteString(safeToken(t))
	}
	return b.String()
}

// safeToken is one pointer token, escaped (RFC 6901), sanitised and capped.
func safeToken(t string) string {
	return escapeToken(capText(sanitize(t), 40))
}

// dedupe removes repeated messages (allOf branches often say the same).
// The result is sorted by pointer, for stable responses.
func dedupe(ls []leaf) []leaf {
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].pointer < ls[j].pointer })
	out := ls[:0]
	seen := make(map[leaf]bool, len(ls))
	for i, l := range ls {
		if seen[l] {
			continue
		}
		// A declared property whose value is invalid is also reported by
		// strict mode's unevaluatedProperties (a failed schema evaluates
		// nothing): the specific error is enough.
		if l.detail == msgNotAllowed && hasErrorWithin(ls, i, l.pointer) {
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	return out
}

// hasErrorWithin reports whether a leaf other than ls[skip] is at ptr or
// below it.
func hasErrorWithin(ls []leaf, skip int, ptr string) bool {
	for j, o := range ls {
		if j != skip && o.detail != msgNotAllowed && (o.pointer == ptr || strings.HasPrefix(o.pointer, ptr+"/")) {
			return true
		}
	}
	return false
}
