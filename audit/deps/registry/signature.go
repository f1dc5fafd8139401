package registry

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Signature errors.
var (
	ErrUnsigned     = errors.New("registry: the version carries no registry signature")
	ErrUnknownKey   = errors.New("registry: signed with a key the registry does not publish")
	ErrKeyExpired   = errors.New("registry: signed with a key that had expired when the version was published")
	ErrBadSignature = errors.New("registry: signature does not verify")
)

// publicKey decodes a registry key.
func (k Key) publicKey() (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(k.Key)
	if err != nil {
		return nil, fmt.Errorf("registry: key %s: %w", k.KeyID, err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("registry: key %s: %w", k.KeyID, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("registry: key %s is not an ECDSA key", k.KeyID)
	}
	return ec, nil
}

// VerifySignatures checks that one of sigs is a valid registry signature
// of name@version:integrity by one of keys. published is when the version
// was published (zero when unknown: then an expired key does not verify).
// It returns the id of the key that verified.
func VerifySignatures(keys []Key, name, version, integrity string, sigs []Signature, published time.Time) (string, error) {
	if len(sigs) == 0 {
		return "", ErrUnsigned
	}
	msg := sha256.Sum256([]byte(name + "@" + version + ":" + integrity))
	var errs []error
	for _, s := range sigs {
		var key *Key
		for i := range keys {
			if keys[i].KeyID == s.KeyID {
				key = &keys[i]
			}
		}
		if key == nil {
			errs = append(errs, fmt.Errorf("%w: %s", ErrUnknownKey, s.KeyID))
			continue
		}
		if key.Expires != nil && (published.IsZero() || !published.Before(*key.Expires)) {
			errs = append(errs, fmt.Errorf("%w: %s expired %s", ErrKeyExpired, key.KeyID, key.Expires.Format(time.DateOnly)))
			continue
		}
		pub, err := key.publicKey()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || !ecdsa.VerifyASN1(pub, msg[:], sig) {
			errs = append(errs, fmt.Errorf("%w (key %s)", ErrBadSignature, key.KeyID))
			continue
		}
		return key.KeyID, nil
	}
	return "", errors.Join(errs...)
}
