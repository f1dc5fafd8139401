// Package npmregistrytest runs an npm registry on loopback for tests: it
// serves packuments, tarballs, its signing keys and attestations, all made
// and signed by the test itself with keys generated on the spot.
package npmregistrytest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"sort"
)

// Entry is one tar entry for Tarball. A zero Type is a regular file.
type Entry struct {
	Name     string
	Body     string
	Type     byte
	Linkname string
	Mode     int64
}

// Tarball returns a gzip-compressed tar holding files under "package/",
// in name order.
func Tarball(files map[string]string) []byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	es := make([]Entry, 0, len(names))
	for _, n := range names {
		es = append(es, Entry{Name: "package/" + n, Body: files[n]})
	}
	return RawTarball(es)
}

// RawTarball returns a gzip-compressed tar of the entries exactly as given,
// hostile names and links included.
func RawTarball(entries []Entry) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.Mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.Name, Typeflag: typ, Linkname: e.Linkname, Mode: mode}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				panic(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Integrity returns the sha512 subresource-integrity string of data, as
// lockfiles record it.
func Integrity(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}
