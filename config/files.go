package config

import (
	"reflect"
	"slices"
	"strings"
)

// fileKeys are the keys whose values are paths of files the configuration
// reads, besides every key ending in _file or _files; "[]" stands for any
// index.
var fileKeys = []string{"openapi", "tls.cert", "tls.key", "tls.acme.ca_root", "auth.tokens.signing_key",
	"auth.tokens.verification_keys", "auth.issuers[].public_key"}

// Files returns the paths of the files the configuration reads when it is
// built — certificates, keys, the OpenAPI document, IP list files, secret
// files — without duplicates, in key order, each resolved as Rampart reads
// it (relative to the configuration file). The file itself and the stores
// (store.sqlite) are not included. `serve --watch` reloads when one changes.
func (c *Config) Files() []string {
	var written, out []string
	collectFiles(reflect.ValueOf(c).Elem(), "", &written)
	for _, p := range written {
		if p = c.RelativePath(p); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func collectFiles(v reflect.Value, key string, out *[]string) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		if t == prefixType || t == addrType {
			return
		}
		for _, f := range structFields(t) {
			fv := v.FieldByIndex(f.index)
			k := joinKey(key, f.name)
			if isFileKey(k) {
				addPaths(fv, out)
				continue
			}
			collectFiles(fv, k, out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			collectFiles(v.Index(i), key+"[]", out)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			collectFiles(iter.Value(), key+"[]", out)
		}
	}
}

func isFileKey(key string) bool {
	return strings.HasSuffix(key, "_file") || strings.HasSuffix(key, "_files") || slices.Contains(fileKeys, key)
}

// addPaths appends the non-empty strings of v (a string or a list of them).
func addPaths(v reflect.Value, out *[]string) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		if p := v.String(); p != "" && !slices.Contains(*out, p) {
			*out = append(*out, p)
		}
	case reflect.Slice:
		for i := range v.Len() {
			addPaths(v.Index(i), out)
		}
	}
}
