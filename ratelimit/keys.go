package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
)

// identity appends the store key of r under g to b: the namespace, then
// each key part tagged with its kind and length, so that no two different
// combinations can produce the same key.
func (l *Limiter) identity(g *group, r *http.Request, b []byte) []byte {
	b = append(b, l.ns...)
	for _, p := range g.parts {
		switch p.kind {
		case partUser:
			if l.user != nil {
				if u := l.user(r); u != "" {
					b = appendPart(b, 'u', u)
					continue
				}
			}
			// Anonymous: counted by client IP, so that leaving out the
			// credentials never earns a separate, fresh budget.
			b = l.appendIP(b, g, r)
		case partRoute:
			route := r.Pattern
			if l.route != nil {
				route = l.route(r)
			}
			b = appendPart(b, 'r', route)
		case partHeader:
			vs := r.Header[p.header]
			if len(vs) != 1 || vs[0] == "" {
				// Missing or repeated: fall back to the client IP. A
				// repeated header must not buy a fresh budget when the
				// upstream reads only one of the values.
				b = l.appendIP(b, g, r)
				continue
			}
			// Hashed: API keys are secrets and must not sit in the store
			// (or a Redis dump) in the clear.
			sum := sha256.Sum256([]byte(vs[0]))
			var hx [32]byte
			hex.Encode(hx[:], sum[:16])
			b = append(b, "|h"...)
			b = append(b, p.header...)
			b = append(b, ':')
			b = append(b, hx[:]...)
		default:
			b = l.appendIP(b, g, r)
		}
	}
	return b
}

func appendPart(b []byte, kind byte, v string) []byte {
	b = append(b, '|', kind)
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	return append(b, v...)
}

// appendIP appends the client's address, masked to the group's prefix.
func (l *Limiter) appendIP(b []byte, g *group, r *http.Request) []byte {
	a := l.resolver.ClientIP(r)
	b = append(b, "|i"...)
	if !a.IsValid() {
		// Unknown peer (not a TCP connection): all such requests share
		// one budget rather than each getting its own.
		return append(b, '?')
	}
	bits := g.v4
	if a.Is6() {
		bits = g.v6
	}
	p, _ := a.Prefix(bits) // bits is validated: never an error
	return p.AppendTo(b)
}
