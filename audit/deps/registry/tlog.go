package registry

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Transparency-log errors. ErrTlogUnverifiable is returned for entries
// rampart cannot check (an unknown log, a log format it does not read) as
// opposed to entries that are checked and false.
var (
	ErrTlog             = errors.New("registry: transparency-log entry does not verify")
	ErrTlogUnverifiable = errors.New("registry: transparency-log entry cannot be verified")
)

// tlogEntry is a Rekor entry as Sigstore bundles carry it.
type tlogEntry struct {
	LogIndex json.Number `json:"logIndex"`
	LogID    struct {
		KeyID string `json:"keyId"`
	} `json:"logId"`
	IntegratedTime   json.Number `json:"integratedTime"`
	InclusionPromise *struct {
		SignedEntryTimestamp string `json:"signedEntryTimestamp"`
	} `json:"inclusionPromise"`
	InclusionProof *struct {
		LogIndex   json.Number `json:"logIndex"`
		RootHash   string      `json:"rootHash"`
		TreeSize   json.Number `json:"treeSize"`
		Hashes     []string    `json:"hashes"`
		Checkpoint struct {
			Envelope string `json:"envelope"`
		} `json:"checkpoint"`
	} `json:"inclusionProof"`
	CanonicalizedBody string `json:"canonicalizedBody"`
}

// tlogResult is what a verified entry establishes.
type tlogResult struct {
	// Time is the entry's integrated time, signed by the log.
	Time time.Time
	// Body is the entry's canonicalized body.
	Body    []byte
	Checked []string
}

// verifyTlogEntry checks one Rekor v1 entry against the trusted logs:
//   - the log is one of root's, and its key was in use at the entry's
//     integrated time;
//   - the signed entry timestamp (the log's promise of inclusion) is the
//     log key's ECDSA signature over the canonical JSON of body,
//     integratedTime, logID and logIndex;
//   - when the entry carries an inclusion proof: the RFC 6962 inclusion of
//     the body's leaf hash in the tree whose root and size the proof
//     gives, and the checkpoint (a signed note) is the log key's signature
//     of that same size and root.
//
// Whatever is present must verify, and the signed entry timestamp must be
// present: it is what makes the integrated time the log's word. What the
// body says is checked by the caller.
func verifyTlogEntry(raw json.RawMessage, root *TrustedRoot) (*tlogResult, error) {
	var e tlogEntry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrTlog, err)
	}
	body, err := base64.StdEncoding.DecodeString(e.CanonicalizedBody)
	if err != nil || len(body) == 0 {
		return nil, fmt.Errorf("%w: the body is not base64", ErrTlog)
	}
	id, err := base64.StdEncoding.DecodeString(e.LogID.KeyID)
	if err != nil {
		return nil, fmt.Errorf("%w: the log id is not base64", ErrTlog)
	}
	log := root.log(id)
	if log == nil {
		return nil, fmt.Errorf("%w: log %s is not in the %s", ErrTlogUnverifiable, e.LogID.KeyID, root.Source)
	}
	key, ok := log.Key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: log %s is a Rekor v2 log (Ed25519 checkpoints, RFC 3161 times), which rampart does not read", ErrTlogUnverifiable, log.BaseURL)
	}
	secs, err := strconv.ParseInt(string(e.IntegratedTime), 10, 64)
	if err != nil || secs <= 0 {
		return nil, fmt.Errorf("%w: no integrated time (a Rekor v2 entry?), which rampart does not read", ErrTlogUnverifiable)
	}
	res := &tlogResult{Time: time.Unix(secs, 0).UTC(), Body: body}
	if !valid(res.Time, log.Start, log.End) {
		return nil, fmt.Errorf("%w: integrated at %s, outside the time the log key %s was in use", ErrTlog, res.Time.Format(time.RFC3339), log.BaseURL)
	}
	index, err := strconv.ParseInt(string(e.LogIndex), 10, 64)
	if err != nil || index < 0 {
		return nil, fmt.Errorf("%w: log index %q", ErrTlog, e.LogIndex)
	}
	proven := false
	if e.InclusionPromise != nil && e.InclusionPromise.SignedEntryTimestamp != "" {
		set, err := base64.StdEncoding.DecodeString(e.InclusionPromise.SignedEntryTimestamp)
		if err != nil {
			return nil, fmt.Errorf("%w: the signed entry timestamp is not base64", ErrTlog)
		}
		payload, err := setPayload(e.CanonicalizedBody, secs, hex.EncodeToString(id), index)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrTlog, err)
		}
		sum := sha256.Sum256(payload)
		if !ecdsa.VerifyASN1(key, sum[:], set) {
			return nil, fmt.Errorf("%w: the signed entry timestamp is not the log's signature (body, time or index altered)", ErrTlog)
		}
		res.Checked = append(res.Checked, "signed entry timestamp ("+log.BaseURL+")")
		proven = true
	}
	if p := e.InclusionProof; p != nil {
		pIndex, err1 := strconv.ParseUint(string(p.LogIndex), 10, 64)
		size, err2 := strconv.ParseUint(string(p.TreeSize), 10, 64)
		rootHash, err3 := base64.StdEncoding.DecodeString(p.RootHash)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%w: inclusion proof: index, size or root hash unreadable", ErrTlog)
		}
		if len(p.Hashes) > 64 {
			return nil, fmt.Errorf("%w: inclusion proof of %d hashes", ErrTlog, len(p.Hashes))
		}
		hashes := make([][]byte, 0, len(p.Hashes))
		for _, h := range p.Hashes {
			b, err := base64.StdEncoding.DecodeString(h)
			if err != nil {
				return nil, fmt.Errorf("%w: inclusion proof: a hash is not base64", ErrTlog)
			}
			hashes = append(hashes, b)
		}
		leaf := rfc6962.DefaultHasher.HashLeaf(body)
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, pIndex, size, leaf, hashes, rootHash); err != nil {
			return nil, fmt.Errorf("%w: inclusion proof: %v", ErrTlog, err)
		}
		if err := verifyCheckpoint(p.Checkpoint.Envelope, log, key, size, rootHash); err != nil {
			return nil, err
		}
		res.Checked = append(res.Checked, fmt.Sprintf("inclusion proof at index %d of %d and signed checkpoint (%s)", pIndex, size, log.BaseURL))
		proven = true
	}
	if !proven {
		return nil, fmt.Errorf("%w: the entry carries neither a signed entry timestamp nor an inclusion proof", ErrTlog)
	}
	if e.InclusionPromise == nil || e.InclusionPromise.SignedEntryTimestamp == "" {
		// An inclusion proof covers the body, not the integrated time:
		// without the log's signed timestamp the time the chain and the
		// key expiry are checked at would be the bundle's word.
		return nil, fmt.Errorf("%w: the entry's time is not signed (no signed entry timestamp), and RFC 3161 timestamps are not read", ErrTlogUnverifiable)
	}
	return res, nil
}

// setPayload is what a Rekor signed entry timestamp signs: the canonical
// (RFC 8785) JSON of these four fields, whose names sort in this order.
func setPayload(body string, integratedTime int64, logID string, logIndex int64) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogID          string `json:"logID"`
		LogIndex       int64  `json:"logIndex"`
	}{body, integratedTime, logID, logIndex})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// noteVerifier checks a checkpoint's signature with a Rekor log's ECDSA
// key. Rekor names a key in a note by the first four bytes of its log id.
type noteVerifier struct {
	name string
	hash uint32
	key  *ecdsa.PublicKey
}

func (v noteVerifier) Name() string    { return v.name }
func (v noteVerifier) KeyHash() uint32 { return v.hash }
func (v noteVerifier) Verify(msg, sig []byte) bool {
	sum := sha256.Sum256(msg)
	return ecdsa.VerifyASN1(v.key, sum[:], sig)
}

type noteVerifiers struct{ v noteVerifier }

func (n noteVerifiers) Verifier(name string, hash uint32) (note.Verifier, error) {
	if hash != n.v.hash {
		return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
	}
	v := n.v
	v.name = name
	return v, nil
}

// verifyCheckpoint checks that a checkpoint is signed by the log and
// states this tree size and root hash.
func verifyCheckpoint(envelope string, log *TransparencyLog, key *ecdsa.PublicKey, size uint64, rootHash []byte) error {
	if len(log.LogID) < 4 {
		return fmt.Errorf("%w: log id too short", ErrTlog)
	}
	v := noteVerifier{hash: binary.BigEndian.Uint32(log.LogID[:4]), key: key}
	n, err := note.Open([]byte(envelope), noteVerifiers{v})
	if err != nil {
		return fmt.Errorf("%w: checkpoint: %v", ErrTlog, err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		return fmt.Errorf("%w: checkpoint has %d lines", ErrTlog, len(lines))
	}
	cpSize, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || cpSize != size {
		return fmt.Errorf("%w: checkpoint is for tree size %q, the proof for %d", ErrTlog, lines[1], size)
	}
	if cpRoot, err := base64.StdEncoding.DecodeString(lines[2]); err != nil || !bytes.Equal(cpRoot, rootHash) {
		return fmt.Errorf("%w: checkpoint root hash differs from the proof's", ErrTlog)
	}
	return nil
}

// entryBody is the part of intoto v0.0.2 and dsse v0.0.1 entry bodies read.
type entryBody struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Spec       struct {
		// intoto v0.0.2
		Content *struct {
			Envelope struct {
				PayloadType string `json:"payloadType"`
				Signatures  []struct {
					// Sig is the base64 of the envelope's base64 signature.
					Sig       string `json:"sig"`
					PublicKey string `json:"publicKey"`
				} `json:"signatures"`
			} `json:"envelope"`
			PayloadHash hashValue `json:"payloadHash"`
		} `json:"content"`
		// dsse v0.0.1
		PayloadHash *hashValue `json:"payloadHash"`
		Signatures  []struct {
			Signature string `json:"signature"`
			Verifier  string `json:"verifier"`
		} `json:"signatures"`
	} `json:"spec"`
}

type hashValue struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// checkEntryBody checks that a log entry records this envelope: the hash
// of its payload, one of its signatures, and the key or certificate that
// made it. Without this, any valid entry of the log could be attached to
// any bundle.
func checkEntryBody(r *tlogResult, payloadType string, payload []byte, sig []byte, signer func(pemData []byte) bool) error {
	var b entryBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return fmt.Errorf("%w: entry body: %v", ErrTlog, err)
	}
	// The body is what the log signed; the bundle's kindVersion is not.
	kind, version := b.Kind, b.APIVersion
	sum := sha256.Sum256(payload)
	wantHash := hex.EncodeToString(sum[:])
	decodePEM := func(s string) []byte {
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil
		}
		return d
	}
	switch {
	case kind == "intoto" && version == "0.0.2" && b.Spec.Content != nil:
		c := b.Spec.Content
		if c.PayloadHash.Algorithm != "sha256" || c.PayloadHash.Value != wantHash {
			return fmt.Errorf("%w: the entry records another payload", ErrTlog)
		}
		if c.Envelope.PayloadType != payloadType {
			return fmt.Errorf("%w: the entry records payload type %q", ErrTlog, c.Envelope.PayloadType)
		}
		for _, s := range c.Envelope.Signatures {
			inner, err := base64.StdEncoding.DecodeString(s.Sig)
			if err != nil {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(string(inner))
			if err == nil && bytes.Equal(raw, sig) && signer(decodePEM(s.PublicKey)) {
				return nil
			}
		}
		return fmt.Errorf("%w: the entry records another signature or signer", ErrTlog)
	case kind == "dsse" && version == "0.0.1" && b.Spec.PayloadHash != nil:
		if b.Spec.PayloadHash.Algorithm != "sha256" || b.Spec.PayloadHash.Value != wantHash {
			return fmt.Errorf("%w: the entry records another payload", ErrTlog)
		}
		for _, s := range b.Spec.Signatures {
			raw, err := base64.StdEncoding.DecodeString(s.Signature)
			if err == nil && bytes.Equal(raw, sig) && signer(decodePEM(s.Verifier)) {
				return nil
			}
		}
		return fmt.Errorf("%w: the entry records another signature or signer", ErrTlog)
	}
	return fmt.Errorf("%w: entry kind %s %s is not one rampart reads", ErrTlogUnverifiable, kind, version)
}

// pemIsCertificate reports whether pemData holds exactly this certificate.
func pemIsCertificate(pemData []byte, cert *x509.Certificate) bool {
	b, _ := pem.Decode(pemData)
	return b != nil && b.Type == "CERTIFICATE" && bytes.Equal(b.Bytes, cert.Raw)
}

// pemIsKey reports whether pemData holds this public key.
func pemIsKey(pemData []byte, key *ecdsa.PublicKey) bool {
	b, _ := pem.Decode(pemData)
	if b == nil || b.Type != "PUBLIC KEY" {
		return false
	}
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return false
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	return ok && ec.Equal(key)
}
