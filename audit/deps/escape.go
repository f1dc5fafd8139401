package deps

import (
	"reflect"

	"github.com/rampartsec/rampart/internal/printable"
)

// printableReport returns a copy of r in which every string — package
// names, versions, paths, entries, reasons, advisory text — has its
// non-printable characters escaped, for output read by people and CI log
// parsers. r itself is left as it is: JSON and SARIF encode such
// characters themselves.
func printableReport(r *Report) *Report {
	c := *r
	escapeValue(reflect.ValueOf(&c).Elem())
	return &c
}

// escapeValue escapes every string reachable from v, copying slices, maps
// and pointed-to values first so that the original is never changed. v must
// be settable.
func escapeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); !printable.Safe(s) {
			v.SetString(printable.Escape(s))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				escapeValue(f)
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			escapeValue(c.Index(i))
		}
		v.Set(c)
	case reflect.Array:
		for i := range v.Len() {
			escapeValue(v.Index(i))
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		escapeValue(c.Elem())
		v.Set(c)
	case reflect.Map:
		if v.IsNil() {
			return
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(it.Key())
			escapeValue(k)
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			escapeValue(e)
			c.SetMapIndex(k, e)
		}
		v.Set(c)
	}
}
