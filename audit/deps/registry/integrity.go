package registry

import (
	"crypto/sha1" //nolint:gosec // legacy npm integrity values; never preferred when a SHA-2 hash is present
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Integrity errors.
var (
	ErrNoIntegrity       = errors.New("registry: no usable integrity hash")
	ErrIntegrityMismatch = errors.New("registry: content does not match its integrity hash")
)

// digest is one parsed subresource-integrity hash.
type digest struct {
	algo string
	sum  []byte
	rank int
}

// parseIntegrity returns the strongest hash of an SRI string ("sha512-…",
// several separated by spaces) or of a bare hex SHA-1 (an npm shasum).
func parseIntegrity(integrity string) (digest, error) {
	best := digest{rank: -1}
	for f := range strings.FieldsSeq(integrity) {
		algo, b64, ok := strings.Cut(f, "-")
		if !ok {
			if len(f) == 40 {
				if sum, err := hex.DecodeString(f); err == nil && best.rank < 0 {
					best = digest{"sha1", sum, 0}
				}
			}
			continue
		}
		b64, _, _ = strings.Cut(b64, "?") // SRI options
		sum, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		rank := map[string]int{"sha1": 0, "sha256": 1, "sha384": 2, "sha512": 3}[strings.ToLower(algo)]
		want := map[string]int{"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}[strings.ToLower(algo)]
		if want == 0 || len(sum) != want {
			continue
		}
		if rank > best.rank {
			best = digest{strings.ToLower(algo), sum, rank}
		}
	}
	if best.rank < 0 {
		return digest{}, fmt.Errorf("%w in %q", ErrNoIntegrity, integrity)
	}
	return best, nil
}

func newHash(algo string) hash.Hash {
	switch algo {
	case "sha512":
		return sha512.New()
	case "sha384":
		return sha512.New384()
	case "sha256":
		return sha256.New()
	default:
		return sha1.New() //nolint:gosec // see the import
	}
}

// VerifyIntegrity checks data against the strongest hash of an integrity
// string. It returns the algorithm checked.
func VerifyIntegrity(integrity string, data []byte) (string, error) {
	d, err := parseIntegrity(integrity)
	if err != nil {
		return "", err
	}
	h := newHash(d.algo)
	h.Write(data)
	if subtle.ConstantTimeCompare(h.Sum(nil), d.sum) != 1 {
		return d.algo, fmt.Errorf("%w (%s)", ErrIntegrityMismatch, d.algo)
	}
	return d.algo, nil
}

// SHA512Hex returns the hex SHA-512 of data, the digest attestations name.
func SHA512Hex(data []byte) string {
	s := sha512.Sum512(data)
	return hex.EncodeToString(s[:])
}
