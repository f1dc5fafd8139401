package csrf

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// formToken finds the form field in a urlencoded body without consuming
// it: it reads only until the field is complete, at most maxFormBytes, and
// puts what it read back in front of the rest of the body. Other content
// types are not read: "" is returned.
func (p *Protection) formToken(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody || !isURLEncoded(r.Header.Get("Content-Type")) {
		return "", nil
	}
	orig := r.Body
	var buf []byte
	scanned := 0
	token, found := "", false
	limit := p.maxFormBytes
	if r.ContentLength > 0 && r.ContentLength < limit {
		limit = r.ContentLength
	}
	var readErr error
	for !found && int64(len(buf)) < limit {
		want := int(min(limit-int64(len(buf)), 16<<10))
		if cap(buf)-len(buf) < want {
			nb := make([]byte, len(buf), len(buf)+want)
			copy(nb, buf)
			buf = nb
		}
		n, err := orig.Read(buf[len(buf) : len(buf)+want])
		buf = buf[:len(buf)+n]
		for !found {
			amp := bytes.IndexByte(buf[scanned:], '&')
			if amp < 0 {
				break
			}
			token, found = p.matchPair(buf[scanned : scanned+amp])
			scanned += amp + 1
		}
		if err == io.EOF || (err == nil && int64(len(buf)) == r.ContentLength) {
			// The whole body is here: its last pair has no '&' after it.
			if !found {
				token, _ = p.matchPair(buf[scanned:])
			}
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	// Put back what was read, whatever happens next: a handler that gets
	// the request must see the whole body.
	r.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(buf), orig), orig: orig}
	if readErr != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](readErr); ok {
			return "", ErrBodyTooLarge
		}
		return "", ErrBodyUnreadable
	}
	return token, nil
}

// matchPair returns the value of one "key=value" pair when its key is the
// form field.
func (p *Protection) matchPair(pair []byte) (string, bool) {
	k, v, _ := bytes.Cut(pair, []byte{'='})
	key := string(k)
	if key != p.formField && key != p.formFieldEsc {
		if !strings.ContainsAny(key, "%+") {
			return "", false
		}
		dec, err := url.QueryUnescape(key)
		if err != nil || dec != p.formField {
			return "", false
		}
	}
	val, err := url.QueryUnescape(string(v))
	if err != nil {
		// A field that is there but garbled: found, and invalid.
		return "invalid", true
	}
	return val, true
}

// isURLEncoded reports whether a Content-Type is
// application/x-www-form-urlencoded, whatever its parameters and case.
func isURLEncoded(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// replayBody is a request body with its first bytes put back.
type replayBody struct {
	io.Reader
	orig io.ReadCloser
}

func (b *replayBody) Close() error { return b.orig.Close() }
