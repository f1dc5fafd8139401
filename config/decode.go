package config

import (
	"encoding"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rampartsec/rampart/internal/suggest"
	"go.yaml.in/yaml/v3"
)

// NodeDecoder is implemented by configuration types that decode themselves
// from a YAML node, such as a value that may be a string or a list. Errors it
// returns are reported at the node's line under the field's key.
type NodeDecoder interface {
	DecodeYAMLNode(n *yaml.Node) error
}

// FieldError is one problem found in a configuration file: where it is and
// what is wrong.
type FieldError struct {
	File   string // file name as given to Parse
	Line   int    // 1-based line; 0 when the key is absent from the file
	Column int    // 1-based column; 0 when unknown
	Key    string // dotted key path, e.g. "limits.max_body_bytes" or "routes[2].match"
	Msg    string // what is wrong, lowercase, no final period
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(oneLine(e.Msg))
	return b.String()
}

// oneLine folds a multi-line message into one line, so that every line a
// user reads starts with a file and a line number.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var parts []string
	for l := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// Errors is every problem found in one configuration, in file order. It is
// returned whole so a user can fix all mistakes in one pass.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors, for errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// decoder walks a YAML node tree into a Go value by reflection, strictly:
// unknown keys, duplicate keys and wrong types are errors, and every error is
// kept, not just the first.
type decoder struct {
	file  string
	errs  Errors
	lines map[string]position
}

type position struct{ line, col int }

var (
	durationType    = reflect.TypeFor[time.Duration]()
	prefixType      = reflect.TypeFor[netip.Prefix]()
	addrType        = reflect.TypeFor[netip.Addr]()
	nodeDecoderType = reflect.TypeFor[NodeDecoder]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	e := &FieldError{File: d.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) mark(key string, n *yaml.Node) {
	if _, ok := d.lines[key]; !ok {
		d.lines[key] = position{n.Line, n.Column}
	}
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// kindName describes a node for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("string %q", truncate(n.Value, 40))
		case "!!int":
			return "integer " + truncate(n.Value, 40)
		case "!!float":
			return "number " + truncate(n.Value, 40)
		case "!!bool":
			return "boolean " + n.Value
		case "!!null":
			return "null"
		}
		return fmt.Sprintf("%q", truncate(n.Value, 40))
	}
	return "an unsupported YAML node"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// decode stores n into v (which must be settable), recording errors under key.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, key string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	d.mark(key, n)

	t := v.Type()
	if reflect.PointerTo(t).Implements(nodeDecoderType) {
		if err := v.Addr().Interface().(NodeDecoder).DecodeYAMLNode(n); err != nil {
			d.fail(n, key, "%v", err)
		}
		return
	}
	switch t {
	case durationType:
		d.decodeDuration(n, v, key)
		return
	case prefixType:
		d.decodePrefix(n, v, key)
		return
	case addrType:
		s, ok := d.scalarString(n, key, "an IP address")
		if !ok {
			return
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			d.fail(n, key, "invalid IP address %q", truncate(s, 60))
			return
		}
		v.Set(reflect.ValueOf(a.Unmap()))
		return
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Struct && reflect.PointerTo(t).Implements(textType) {
		s, ok := d.scalarString(n, key, "a string")
		if !ok {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.fail(n, key, "%v", err)
		}
		return
	}

	switch t.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, v.Elem(), key)
	case reflect.Struct:
		d.decodeStruct(n, v, key)
	case reflect.Map:
		d.decodeMap(n, v, key)
	case reflect.Slice:
		d.decodeSlice(n, v, key)
	case reflect.String:
		if isNull(n) {
			v.SetString("")
			return
		}
		if s, ok := d.scalarString(n, key, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.fail(n, key, "expected true or false, got %s", kindName(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.decodeInt(n, v, key)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		d.decodeUint(n, v, key)
	case reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") {
			d.fail(n, key, "expected a number, got %s", kindName(n))
			return
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, key, "invalid number %q", truncate(n.Value, 40))
			return
		}
		v.SetFloat(f)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.fail(n, key, "%v", err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.fail(n, key, "unsupported field type %s", t)
	}
}

// scalarString returns the text of a string scalar; anything else is an error
// that names what was expected.
func (d *decoder) scalarString(n *yaml.Node, key, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
			hint = " (quote it to make it a string)"
		}
		d.fail(n, key, "expected %s, got %s%s", want, kindName(n), hint)
		return "", false
	}
	return n.Value, true
}

type fieldInfo struct {
	index []int
	name  string
}

// structFields lists the YAML-visible fields of t, following inline embeds.
func structFields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for _, sub := range structFields(ft) {
				out = append(out, fieldInfo{index: append([]int{i}, sub.index...), name: sub.name})
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, fieldInfo{index: []int{i}, name: name})
	}
	return out
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, key string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "expected a mapping of keys, got %s", kindName(n))
		return
	}
	fields := structFields(v.Type())
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		name := kn.Value
		fkey := joinKey(key, name)
		if kn.Kind != yaml.ScalarNode {
			d.fail(kn, key, "keys must be plain strings")
			continue
		}
		if seen[name] {
			d.fail(kn, fkey, "duplicate key")
			continue
		}
		seen[name] = true
		var field *fieldInfo
		for j := range fields {
			if fields[j].name == name {
				field = &fields[j]
				break
			}
		}
		if field == nil {
			msg := "unknown key"
			if s := didYouMean(name, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.fail(kn, fkey, "%s", msg)
			continue
		}
		d.mark(fkey, kn)
		fv := v
		for _, idx := range field.index {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					fv.Set(reflect.New(fv.Type().Elem()))
				}
				fv = fv.Elem()
			}
			fv = fv.Field(idx)
		}
		if fv.Kind() == reflect.Int64 && fv.Type() != durationType && strings.HasSuffix(name, "_bytes") {
			d.decodeBytes(vn, fv, fkey)
			continue
		}
		d.decode(vn, fv, fkey)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, key string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "expected a mapping, got %s", kindName(n))
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.fail(n, key, "unsupported map key type %s", t.Key())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(n.Content)/2))
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		fkey := joinKey(key, kn.Value)
		if kn.Kind != yaml.ScalarNode {
			d.fail(kn, key, "keys must be plain strings")
			continue
		}
		if seen[kn.Value] {
			d.fail(kn, fkey, "duplicate key")
			continue
		}
		seen[kn.Value] = true
		d.mark(fkey, kn)
		ev := reflect.New(t.Elem()).Elem()
		d.decode(vn, ev, fkey)
		v.SetMapIndex(reflect.ValueOf(kn.Value).Convert(t.Key()), ev)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, key string) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, key, "expected a list, got %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, en := range n.Content {
		d.decode(en, out.Index(i), fmt.Sprintf("%s[%d]", key, i))
	}
	v.Set(out)
}

func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.fail(n, key, "expected an integer, got %s", kindName(n))
		return
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v.OverflowInt(i) {
		d.fail(n, key, "integer %s out of range", truncate(n.Value, 40))
		return
	}
	v.SetInt(i)
}

func (d *decoder) decodeUint(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.fail(n, key, "expected a non-negative integer, got %s", kindName(n))
		return
	}
	u, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v.OverflowUint(u) {
		d.fail(n, key, "expected a non-negative integer in range, got %s", truncate(n.Value, 40))
		return
	}
	v.SetUint(u)
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!int") {
		d.fail(n, key, "expected a duration such as 30s, 15m, 12h or 365d, got %s", kindName(n))
		return
	}
	dur, err := ParseDuration(n.Value)
	if err != nil {
		d.fail(n, key, "%v", err)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) decodeBytes(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!int") {
		d.fail(n, key, "expected a size such as 512, 32KiB or 10MiB, got %s", kindName(n))
		return
	}
	size, err := ParseBytes(n.Value)
	if err != nil {
		d.fail(n, key, "%v", err)
		return
	}
	v.SetInt(size)
}

func (d *decoder) decodePrefix(n *yaml.Node, v reflect.Value, key string) {
	s, ok := d.scalarString(n, key, "a CIDR such as 10.0.0.0/8 or an IP address")
	if !ok {
		return
	}
	p, err := ParsePrefix(s)
	if err != nil {
		d.fail(n, key, "%v", err)
		return
	}
	v.Set(reflect.ValueOf(p))
}

// ParsePrefix parses a CIDR ("10.0.0.0/8", "2001:db8::/32") or a single
// address, which becomes a /32 or /128. IPv4-mapped IPv6 prefixes are turned
// into their IPv4 form so that they match unmapped client addresses, and a
// prefix with host bits set is refused: "10.0.0.1/8" is ambiguous.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR or IP address %q", truncate(s, 60))
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", truncate(s, 60))
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("CIDR %q has host bits set (did you mean %s?)", s, p.Masked())
	}
	if a := p.Addr(); a.Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			return netip.Prefix{}, fmt.Errorf("CIDR %q mixes IPv4-mapped and IPv6 space", s)
		}
		p = netip.PrefixFrom(a.Unmap(), bits)
	}
	return p, nil
}

// ParseDuration parses a non-negative duration. It accepts Go's units (ns,
// us, ms, s, m, h) and days as "d", so "365d" and "1d12h" work. A bare "0" is
// zero; any other bare number is refused because its unit would be a guess.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s[0] == '-' {
		return 0, fmt.Errorf("duration %q must not be negative", truncate(orig, 40))
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')) {
			i++
		}
		j := i
		for j < len(s) && (s[j] < '0' || s[j] > '9') && s[j] != '.' {
			j++
		}
		num, unit := s[:i], s[i:j]
		if num == "" || unit == "" {
			return 0, fmt.Errorf("invalid duration %q (use a unit: 30s, 15m, 12h, 365d)", truncate(orig, 40))
		}
		var part time.Duration
		if unit == "d" {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || f > float64(math.MaxInt64)/float64(24*time.Hour) {
				return 0, fmt.Errorf("invalid duration %q", truncate(orig, 40))
			}
			part = time.Duration(f * float64(24*time.Hour))
		} else {
			var err error
			part, err = time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q (use a unit: 30s, 15m, 12h, 365d)", truncate(orig, 40))
			}
		}
		if total > math.MaxInt64-part {
			return 0, fmt.Errorf("duration %q is too large", truncate(orig, 40))
		}
		total += part
		s = s[j:]
	}
	return total, nil
}

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

// ParseBytes parses a non-negative size: a plain integer of bytes, or a
// number with a unit — KiB, MiB, GiB (powers of 1024), KB, MB, GB (powers of
// 1000), or B. Units are case-insensitive.
func ParseBytes(s string) (int64, error) {
	orig := s
	s = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, "_", "")))
	mult := int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (use bytes or a unit: 32KiB, 10MiB)", truncate(orig, 40))
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q is too large", truncate(orig, 40))
	}
	return n * mult, nil
}

// didYouMean returns the known field name closest to name, if one is close
// enough to be a likely typo.
func didYouMean(name string, fields []fieldInfo) string {
	best, bestDist := "", 3
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		names = append(names, f.name)
	}
	sort.Strings(names)
	for _, f := range names {
		if dist := suggest.Distance(name, f); dist < bestDist || (dist <= 3 && strings.ReplaceAll(name, "-", "_") == f) {
			best, bestDist = f, dist
		}
	}
	return best
}
