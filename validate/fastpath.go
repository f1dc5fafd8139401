package validate

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The compiled fast path. Most request bodies are objects of scalars with
// bounds, enums, patterns and formats, arrays of those, required
// properties and additionalProperties: false. For schemas made only of
// these keywords, a fastSchema is built from the library's own compiled
// schema (so both read the same keywords, with the same regular
// expressions and format functions) and checks the body while it is
// being scanned, without building a tree of values first.
//
// The fast path only ever answers "valid". Anything else — an invalid
// body, a syntax error, a keyword or a value it does not handle — sends
// the request down the full path (decodeJSON, then the library), which
// decides and writes the field errors. So the fast path cannot make a
// rejection more lenient; a differential fuzz test checks that its
// verdicts equal the library's wherever it gives one.

// fastSchema is one schema of the supported subset.
type fastSchema struct {
	types typeSet // 0: any type
	// enum: the allowed strings, and whether null is allowed. Enums of
	// other values are not in the subset.
	hasEnum  bool
	enum     []string
	enumNull bool
	format   func(any) error
	// fmtStr and fmtBytes check a string format without the library
	// (fastFormats); fmtInt is the range of an int32 or int64 format.
	fmtStr   func(string) bool
	fmtBytes func([]byte) bool
	fmtInt   *[2]int64
	// strings
	minLen, maxLen int // -1: none
	pattern        jsonschema.Regexp
	// numbers: bounds as exact rationals, and as int64 when they are
	// integers that fit, for the common case of an integer literal.
	min, max, exMin, exMax, multipleOf *big.Rat
	imin, imax, iexMin, iexMax         *int64
	// objects
	props        map[string]int
	propSchemas  []*fastSchema
	required     []int // indexes into propSchemas
	additional   *fastSchema
	noAdditional bool
	// never: a false schema, nothing is valid.
	never bool
	// arrays
	items              *fastSchema
	minItems, maxItems int // -1: none
}

// anySchema accepts every value (an absent or true schema).
var anySchema = &fastSchema{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}

// maxFastProperties bounds the declared properties of one object schema
// in the subset: they are tracked in a 64-bit set.
const maxFastProperties = 64

// compileFast builds the fast path of s, or returns nil when s uses a
// keyword outside the subset (or is recursive).
func compileFast(s *jsonschema.Schema) *fastSchema {
	fc := fastCompiler{done: map[*jsonschema.Schema]*fastSchema{}, busy: map[*jsonschema.Schema]bool{}}
	f, ok := fc.compile(s, 0)
	if !ok {
		return nil
	}
	return f
}

type fastCompiler struct {
	done map[*jsonschema.Schema]*fastSchema
	busy map[*jsonschema.Schema]bool
}

func (fc *fastCompiler) compile(s *jsonschema.Schema, depth int) (*fastSchema, bool) {
	if s == nil {
		return anySchema, true
	}
	if f, ok := fc.done[s]; ok {
		return f, true
	}
	if fc.busy[s] || depth > 64 {
		return nil, false // recursive schemas are left to the library
	}
	fc.busy[s] = true
	defer delete(fc.busy, s)
	if s.Bool != nil {
		if *s.Bool {
			return anySchema, true
		}
		return &fastSchema{never: true}, true
	}
	if !inSubset(s) {
		return nil, false
	}
	if s.Ref != nil {
		// Only a bare $ref (optionally with unevaluatedProperties: false,
		// which strict mode adds) is in the subset: siblings would have to
		// apply to the same value at once.
		if !onlyRef(s) {
			return nil, false
		}
		target, ok := fc.compile(s.Ref, depth+1)
		if !ok {
			return nil, false
		}
		if s.UnevaluatedProperties != nil {
			if !isFalse(s.UnevaluatedProperties) || !plainObject(s.Ref) {
				return nil, false
			}
			target = target.closed()
		}
		fc.done[s] = target
		return target, true
	}
	f := &fastSchema{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}
	if s.Types != nil {
		for _, t := range s.Types.ToStrings() {
			f.types |= typeNames[t]
		}
	}
	if s.Enum != nil {
		f.hasEnum = true
		for _, v := range s.Enum.Values {
			switch v := v.(type) {
			case string:
				f.enum = append(f.enum, v)
			case nil:
				f.enumNull = true
			default:
				return nil, false
			}
		}
	}
	if s.Format != nil {
		ff, fast := fastFormats[s.Format.Name]
		switch name := s.Format.Name; {
		case name == "regex":
			return nil, false
		case fast:
			// Like the library's, these formats only apply to strings.
			f.fmtStr, f.fmtBytes = ff.str, ff.bytes
		default:
			f.format = s.Format.Validate
			switch name {
			case "int32":
				f.fmtInt = &[2]int64{math.MinInt32, math.MaxInt32}
			case "int64":
				f.fmtInt = &[2]int64{math.MinInt64, math.MaxInt64}
			}
		}
	}
	if s.MinLength != nil {
		f.minLen = *s.MinLength
	}
	if s.MaxLength != nil {
		f.maxLen = *s.MaxLength
	}
	f.pattern = s.Pattern
	f.min, f.max, f.exMin, f.exMax, f.multipleOf = s.Minimum, s.Maximum, s.ExclusiveMinimum, s.ExclusiveMaximum, s.MultipleOf
	f.imin, f.imax, f.iexMin, f.iexMax = ratInt(f.min), ratInt(f.max), ratInt(f.exMin), ratInt(f.exMax)
	if len(s.Properties) > maxFastProperties {
		return nil, false
	}
	if len(s.Properties) > 0 {
		f.props = make(map[string]int, len(s.Properties))
		for name, ps := range s.Properties {
			sub, ok := fc.compile(ps, depth+1)
			if !ok {
				return nil, false
			}
			f.props[name] = len(f.propSchemas)
			f.propSchemas = append(f.propSchemas, sub)
		}
	}
	for _, name := range s.Required {
		i, ok := f.props[name]
		if !ok {
			return nil, false
		}
		f.required = append(f.required, i)
	}
	switch a := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		f.noAdditional = !a
	case *jsonschema.Schema:
		sub, ok := fc.compile(a, depth+1)
		if !ok {
			return nil, false
		}
		if sub.never {
			f.noAdditional = true
		} else {
			f.additional = sub
		}
	default:
		return nil, false
	}
	if s.UnevaluatedProperties != nil {
		// Without applicators or references, the properties nothing
		// evaluates are exactly the additional ones.
		if !isFalse(s.UnevaluatedProperties) {
			return nil, false
		}
		if s.AdditionalProperties == nil {
			f.noAdditional = true
		}
	}
	if s.MinItems != nil {
		f.minItems = *s.MinItems
	}
	if s.MaxItems != nil {
		f.maxItems = *s.MaxItems
	}
	items := s.Items2020
	if items == nil && s.Items != nil {
		one, ok := s.Items.(*jsonschema.Schema)
		if !ok {
			return nil, false
		}
		items = one
	}
	if items != nil {
		sub, ok := fc.compile(items, depth+1)
		if !ok {
			return nil, false
		}
		f.items = sub
	}
	fc.done[s] = f
	return f, true
}

// closed returns a copy of f that refuses undeclared properties, for
// unevaluatedProperties: false next to a $ref to f.
func (f *fastSchema) closed() *fastSchema {
	if f.additional != nil || f.noAdditional || f == anySchema {
		if f == anySchema {
			c := *anySchema
			c.noAdditional = true
			return &c
		}
		return f
	}
	c := *f
	c.noAdditional = true
	return &c
}

func isFalse(s *jsonschema.Schema) bool { return s != nil && s.Bool != nil && !*s.Bool }

// plainObject reports whether the properties s evaluates are only its own
// properties and additionalProperties (no applicators, no reference).
func plainObject(s *jsonschema.Schema) bool {
	for range 16 {
		switch {
		case s == nil:
			return false
		case s.Bool != nil:
			return true
		case !inSubset(s):
			return false
		case s.Ref == nil:
			return true
		case !onlyRef(s):
			return false
		}
		// A bare $ref evaluates what its target evaluates.
		s = s.Ref
	}
	return false
}

// inSubset reports whether s uses only keywords the fast path implements.
func inSubset(s *jsonschema.Schema) bool {
	switch {
	case s.RecursiveRef != nil, s.DynamicRef != nil, s.Const != nil, s.Not != nil,
		len(s.AllOf) > 0, len(s.AnyOf) > 0, len(s.OneOf) > 0, s.If != nil, s.Then != nil, s.Else != nil,
		s.MaxProperties != nil, s.MinProperties != nil, s.PropertyNames != nil, len(s.PatternProperties) > 0,
		len(s.Dependencies) > 0, len(s.DependentRequired) > 0, len(s.DependentSchemas) > 0,
		s.UniqueItems, s.Contains != nil, s.MinContains != nil, s.MaxContains != nil,
		s.AdditionalItems != nil, len(s.PrefixItems) > 0, s.UnevaluatedItems != nil,
		s.ContentEncoding != nil, s.ContentMediaType != nil, s.ContentSchema != nil,
		len(s.Extensions) > 0, s.RecursiveAnchor, s.DynamicAnchor != "":
		return false
	}
	return true
}

// onlyRef reports whether s has nothing but $ref (and
// unevaluatedProperties).
func onlyRef(s *jsonschema.Schema) bool {
	return s.Types == nil && s.Enum == nil && s.Format == nil && len(s.Required) == 0 && len(s.Properties) == 0 &&
		s.AdditionalProperties == nil && s.MinItems == nil && s.MaxItems == nil && s.Items == nil && s.Items2020 == nil &&
		s.MinLength == nil && s.MaxLength == nil && s.Pattern == nil && s.Minimum == nil && s.Maximum == nil &&
		s.ExclusiveMinimum == nil && s.ExclusiveMaximum == nil && s.MultipleOf == nil
}

// ratInt returns r as an int64 when it is an integer that fits.
func ratInt(r *big.Rat) *int64 {
	if r == nil || !r.IsInt() || !r.Num().IsInt64() {
		return nil
	}
	n := r.Num().Int64()
	return &n
}

// fastVerdict is the outcome of the fast path.
type fastVerdict uint8

const (
	fastValid   fastVerdict = iota
	fastInvalid             // the library would refuse the document
	fastUnknown             // outside the subset at run time: ask the library
	fastSyntax              // decodeJSON would refuse the document
)

// fastCheck scans a JSON body and validates it against f in one pass.
// The scanner checks JSON's syntax itself (RFC 8259, as encoding/json
// does) and every limit decodeJSON adds; a document it cannot answer for
// goes to decodeJSON.
func fastCheck(data []byte, f *fastSchema, maxDepth int) fastVerdict {
	if !utf8.Valid(data) {
		return fastSyntax
	}
	sc := fastScanner{d: decoder{data: data, maxDepth: maxDepth}}
	ok := sc.value(f, 0)
	switch {
	case sc.verdict != fastValid:
		return sc.verdict
	case !ok:
		return fastInvalid
	}
	sc.d.skipSpace()
	if sc.d.pos != len(data) {
		return fastSyntax
	}
	return fastValid
}

type fastScanner struct {
	d decoder
	// verdict records why scanning stopped early: fastSyntax or
	// fastUnknown; fastValid while it goes on.
	verdict fastVerdict
}

func (sc *fastScanner) stop(v fastVerdict) bool {
	sc.verdict = v
	return false
}

// literal moves past word, or reports that the input does not spell it.
func (sc *fastScanner) literal(word string) bool {
	d := &sc.d
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return false
	}
	d.pos += len(word)
	return true
}

// value checks the value at the scanner's position against f. It returns
// false when the value is invalid or scanning had to stop (verdict set).
func (sc *fastScanner) value(f *fastSchema, depth int) bool {
	d := &sc.d
	d.skipSpace()
	if d.pos >= len(d.data) {
		return sc.stop(fastSyntax)
	}
	if f.never {
		return false
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		if depth >= d.maxDepth {
			return sc.stop(fastSyntax)
		}
		return sc.object(f, depth+1)
	case c == '[':
		if depth >= d.maxDepth {
			return sc.stop(fastSyntax)
		}
		return sc.array(f, depth+1)
	case c == '"':
		raw, plain, ok := sc.rawString()
		if !ok {
			return sc.stop(fastSyntax)
		}
		if plain {
			// The text is the raw bytes: checked in place.
			if f.plainString() {
				return f.typeOK(tString)
			}
			return sc.verdictOf(checkString(f, raw, f.fmtBytes, matchBytes))
		}
		d.pos -= len(raw) + 2
		s, err := d.str()
		if err != nil {
			return sc.stop(fastSyntax)
		}
		return sc.verdictOf(checkString(f, s, f.fmtStr, matchString))
	case c == 't' || c == 'f':
		v := c == 't'
		if (v && !sc.literal("true")) || (!v && !sc.literal("false")) {
			return sc.stop(fastSyntax)
		}
		if !f.typeOK(tBoolean) || f.hasEnum {
			return false
		}
		return f.format == nil || f.format(v) == nil
	case c == 'n':
		if !sc.literal("null") {
			return sc.stop(fastSyntax)
		}
		if !f.typeOK(tNull) || (f.hasEnum && !f.enumNull) {
			return false
		}
		return f.format == nil || f.format(nil) == nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := d.pos
		if !sc.numberSyntax() {
			return sc.stop(fastSyntax)
		}
		end := d.pos
		lit := d.data[start:end]
		if len(lit) <= maxShortNumber && !hasExponent(lit) {
			// Within every limit of decodeJSON: no need to ask it.
			return shortNumber(f, lit)
		}
		d.pos = start
		v, err := d.number()
		if err != nil || d.pos != end {
			return sc.stop(fastSyntax)
		}
		return f.number(v.(json.Number))
	}
	return sc.stop(fastSyntax)
}

// numberSyntax moves past a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *fastScanner) numberSyntax() bool {
	d := &sc.d
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return false
	}
	if d.data[d.pos] == '0' {
		d.pos++
	} else if digits() == 0 {
		return false
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return false
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// rawString returns the bytes between the quotes of the string at the
// scanner's position and moves past it; plain is false when it holds an
// escape (which d.str decodes and checks); ok is false when the string is
// not valid JSON (a control character, an unknown escape, no end).
func (sc *fastScanner) rawString() (raw []byte, plain, ok bool) {
	d := &sc.d
	start := d.pos + 1
	plain = true
	for i := start; i < len(d.data); {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return d.data[start:i], plain, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			plain = false
			if i+1 >= len(d.data) {
				return nil, false, false
			}
			switch d.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(d.data) {
					return nil, false, false
				}
				for _, h := range d.data[i+2 : i+6] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				i += 6
			default:
				return nil, false, false
			}
			continue
		}
		i++
	}
	return nil, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// plainString reports whether a string value needs no check but its type.
func (f *fastSchema) plainString() bool {
	return !f.hasEnum && f.format == nil && f.fmtStr == nil && f.minLen < 0 && f.maxLen < 0 && f.pattern == nil
}

func (f *fastSchema) typeOK(t typeSet) bool {
	return f.types == 0 || f.types&t != 0
}

// byteMatcher is implemented by *regexp.Regexp, the library's default
// engine: it matches the bytes of the document without a copy.
type byteMatcher interface{ Match([]byte) bool }

func matchBytes(re jsonschema.Regexp, b []byte) bool {
	if m, ok := re.(byteMatcher); ok {
		return m.Match(b)
	}
	return re.MatchString(string(b))
}

func matchString(re jsonschema.Regexp, s string) bool { return re.MatchString(s) }

// verdictOf turns a verdict on one value into value's answer.
func (sc *fastScanner) verdictOf(v fastVerdict) bool {
	if v == fastUnknown {
		return sc.stop(fastUnknown)
	}
	return v == fastValid
}

// checkString checks a string value, as a string or as the bytes of the
// document, against f; fmtFast is f's format when the fast path checks it
// (a value it does not call valid is left to the library: fastUnknown),
// match applies f's pattern.
func checkString[T text](f *fastSchema, s T, fmtFast func(T) bool, match func(jsonschema.Regexp, T) bool) fastVerdict {
	if !f.typeOK(tString) {
		return fastInvalid
	}
	if f.hasEnum {
		found := false
		for _, e := range f.enum {
			if string(s) == e {
				found = true
				break
			}
		}
		if !found {
			return fastInvalid
		}
	}
	if f.minLen >= 0 || f.maxLen >= 0 {
		n := runeCount(s)
		if (f.minLen >= 0 && n < f.minLen) || (f.maxLen >= 0 && n > f.maxLen) {
			return fastInvalid
		}
	}
	if f.pattern != nil && !match(f.pattern, s) {
		return fastInvalid
	}
	if fmtFast != nil && !fmtFast(s) {
		return fastUnknown
	}
	if f.format != nil && f.format(string(s)) != nil {
		return fastInvalid
	}
	return fastValid
}

// runeCount counts the characters of s, which is valid UTF-8.
func runeCount[T text](s T) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i]&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

// maxShortNumber is the longest number literal shortNumber reads: 18
// digits fit an int64, and every such literal is within float64's range
// and decodeJSON's limits.
const maxShortNumber = 18

func hasExponent[T text](lit T) bool {
	for i := 0; i < len(lit); i++ {
		if lit[i] == 'e' || lit[i] == 'E' {
			return true
		}
	}
	return false
}

// shortNumber checks a number literal of JSON's grammar with no exponent
// and at most maxShortNumber bytes, without big numbers or allocations
// where the schema's bounds are integers. Whatever it cannot decide
// exactly that way goes to number.
func shortNumber[T text](f *fastSchema, lit T) bool {
	neg := lit[0] == '-'
	digits := lit
	if neg {
		digits = lit[1:]
	}
	// The integer part and whether a non-zero fraction follows it.
	var ip int64
	i := 0
	for ; i < len(digits) && digits[i] != '.'; i++ {
		ip = ip*10 + int64(digits[i]-'0')
	}
	frac := false
	for j := i + 1; j < len(digits); j++ {
		if digits[j] != '0' {
			frac = true
			break
		}
	}
	whole := i == len(digits) // written as an integer
	// floor is the largest integer not above the value.
	floor := ip
	if neg {
		floor = -ip
		if frac {
			floor--
		}
	}
	if f.types != 0 && f.types&tNumber == 0 && (f.types&tInteger == 0 || frac) {
		return false
	}
	if f.hasEnum {
		return false // enums of numbers are not in the subset
	}
	// cmp compares the value with the integer b.
	cmp := func(b int64) int {
		switch {
		case floor < b:
			return -1
		case floor > b:
			return 1
		case frac:
			return 1
		}
		return 0
	}
	exact := f.min == nil || f.imin != nil
	exact = exact && (f.max == nil || f.imax != nil) && (f.exMin == nil || f.iexMin != nil) && (f.exMax == nil || f.iexMax != nil)
	if !exact || f.multipleOf != nil || (f.format != nil && (f.fmtInt == nil || !whole)) {
		return f.number(json.Number(lit))
	}
	if (f.imin != nil && cmp(*f.imin) < 0) || (f.imax != nil && cmp(*f.imax) > 0) ||
		(f.iexMin != nil && cmp(*f.iexMin) <= 0) || (f.iexMax != nil && cmp(*f.iexMax) >= 0) {
		return false
	}
	if f.fmtInt != nil {
		return floor >= f.fmtInt[0] && floor <= f.fmtInt[1]
	}
	return true
}

// number checks a number literal: its type (an integer is a number whose
// value is whole, 1.0 and 1e2 included, as the library says), bounds and
// format.
func (f *fastSchema) number(n json.Number) bool {
	lit := string(n)
	plainInt := !strings.ContainsAny(lit, ".eE")
	var rat *big.Rat
	exact := func() *big.Rat {
		if rat == nil {
			rat, _ = new(big.Rat).SetString(lit)
		}
		return rat
	}
	if f.types != 0 && f.types&tNumber == 0 {
		if f.types&tInteger == 0 {
			return false
		}
		if !plainInt {
			if r := exact(); r == nil || !r.IsInt() {
				return false
			}
		}
	}
	if f.hasEnum {
		return false // enums of numbers are not in the subset
	}
	var i int64
	small := false
	if plainInt {
		if v, err := strconv.ParseInt(lit, 10, 64); err == nil {
			i, small = v, true
		}
	}
	bound := func(r *big.Rat, ir *int64, ok func(c int) bool) bool {
		if r == nil {
			return true
		}
		if small && ir != nil {
			c := 0
			switch {
			case i < *ir:
				c = -1
			case i > *ir:
				c = 1
			}
			return ok(c)
		}
		x := exact()
		if x == nil {
			return false
		}
		return ok(x.Cmp(r))
	}
	if !bound(f.min, f.imin, func(c int) bool { return c >= 0 }) ||
		!bound(f.max, f.imax, func(c int) bool { return c <= 0 }) ||
		!bound(f.exMin, f.iexMin, func(c int) bool { return c > 0 }) ||
		!bound(f.exMax, f.iexMax, func(c int) bool { return c < 0 }) {
		return false
	}
	if f.multipleOf != nil {
		x := exact()
		if x == nil || !new(big.Rat).Quo(x, f.multipleOf).IsInt() {
			return false
		}
	}
	return f.format == nil || f.format(n) == nil
}

// valueValid reports whether v, a parameter value as read and typed (a
// string, json.Number, bool, nil, or a list of those), is surely valid
// against f. false leaves the verdict, and its explanation, to the
// library; objects always go there.
func (f *fastSchema) valueValid(v any) bool {
	if f.never {
		return false
	}
	switch v := v.(type) {
	case string:
		return checkString(f, v, f.fmtStr, matchString) == fastValid
	case json.Number:
		if len(v) > maxShortNumber || hasExponent(v) {
			return f.number(v)
		}
		return shortNumber(f, v)
	case bool:
		return f.typeOK(tBoolean) && !f.hasEnum && (f.format == nil || f.format(v) == nil)
	case nil:
		return f.typeOK(tNull) && (!f.hasEnum || f.enumNull) && (f.format == nil || f.format(nil) == nil)
	case []any:
		if !f.typeOK(tArray) || f.hasEnum || f.format != nil ||
			(f.minItems >= 0 && len(v) < f.minItems) || (f.maxItems >= 0 && len(v) > f.maxItems) {
			return false
		}
		items := f.items
		if items == nil {
			items = anySchema
		}
		for _, e := range v {
			if !items.valueValid(e) {
				return false
			}
		}
		return true
	}
	return false
}

func (sc *fastScanner) object(f *fastSchema, depth int) bool {
	d := &sc.d
	if !f.typeOK(tObject) || f.hasEnum {
		return false
	}
	if f.format != nil {
		return sc.stop(fastUnknown)
	}
	d.pos++ // {
	var seen uint64
	var extra []string
	var extraSet map[string]bool
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return len(f.required) == 0
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return sc.stop(fastSyntax)
		}
		raw, plain, ok := sc.rawString()
		if !ok {
			return sc.stop(fastSyntax)
		}
		var k string
		i, declared := 0, false
		if plain {
			// A map index with string(raw) does not allocate.
			i, declared = f.props[string(raw)]
		} else {
			d.pos -= len(raw) + 2
			var err error
			if k, err = d.str(); err != nil {
				return sc.stop(fastSyntax)
			}
			i, declared = f.props[k]
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return sc.stop(fastSyntax)
		}
		d.pos++
		if declared {
			if seen&(1<<i) != 0 {
				return sc.stop(fastSyntax) // duplicate property
			}
			seen |= 1 << i
			if !sc.value(f.propSchemas[i], depth) {
				return false
			}
		} else {
			if f.noAdditional {
				return false
			}
			if plain {
				k = string(raw)
			}
			// Undeclared: still checked for duplicates, as decodeJSON does.
			if extraSet != nil {
				if extraSet[k] {
					return sc.stop(fastSyntax)
				}
				extraSet[k] = true
			} else {
				for _, e := range extra {
					if e == k {
						return sc.stop(fastSyntax)
					}
				}
				extra = append(extra, k)
				if len(extra) > 16 {
					extraSet = make(map[string]bool, 32)
					for _, e := range extra {
						extraSet[e] = true
					}
				}
			}
			sub := f.additional
			if sub == nil {
				sub = anySchema
			}
			if !sc.value(sub, depth) {
				return false
			}
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return sc.stop(fastSyntax)
		}
		if d.data[d.pos] == '}' {
			d.pos++
			break
		}
		if d.data[d.pos] != ',' {
			return sc.stop(fastSyntax)
		}
		d.pos++
	}
	for _, i := range f.required {
		if seen&(1<<i) == 0 {
			return false
		}
	}
	return true
}

func (sc *fastScanner) array(f *fastSchema, depth int) bool {
	d := &sc.d
	if !f.typeOK(tArray) || f.hasEnum {
		return false
	}
	if f.format != nil {
		return sc.stop(fastUnknown)
	}
	items := f.items
	if items == nil {
		items = anySchema
	}
	d.pos++ // [
	n := 0
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
	} else {
		for {
			if !sc.value(items, depth) {
				return false
			}
			n++
			d.skipSpace()
			if d.pos >= len(d.data) {
				return sc.stop(fastSyntax)
			}
			if d.data[d.pos] == ']' {
				d.pos++
				break
			}
			if d.data[d.pos] != ',' {
				return sc.stop(fastSyntax)
			}
			d.pos++
		}
	}
	return (f.minItems < 0 || n >= f.minItems) && (f.maxItems < 0 || n <= f.maxItems)
}
