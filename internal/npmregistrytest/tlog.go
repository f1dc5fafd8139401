package npmregistrytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// testLog is a Rekor-like transparency log kept in memory: every entry is
// a leaf of an RFC 6962 tree, and each entry handed out carries a signed
// entry timestamp, an inclusion proof in the tree as it is then, and a
// checkpoint signed by the log key.
type testLog struct {
	key    *ecdsa.PrivateKey
	der    []byte
	id     []byte
	mu     sync.Mutex
	leaves [][]byte // leaf hashes
}

func newTestLog() (*testLog, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(der)
	return &testLog{key: k, der: der, id: id[:]}, nil
}

// mth is the RFC 6962 Merkle tree hash of leaf hashes.
func mth(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		return rfc6962.DefaultHasher.EmptyRoot()
	case 1:
		return leaves[0]
	}
	k := split(len(leaves))
	return rfc6962.DefaultHasher.HashChildren(mth(leaves[:k]), mth(leaves[k:]))
}

// split is the largest power of two smaller than n.
func split(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// auditPath is the RFC 6962 inclusion proof of leaf m.
func auditPath(m int, leaves [][]byte) [][]byte {
	if len(leaves) <= 1 {
		return nil
	}
	k := split(len(leaves))
	if m < k {
		return append(auditPath(m, leaves[:k]), mth(leaves[k:]))
	}
	return append(auditPath(m-k, leaves[k:]), mth(leaves[:k]))
}

type logSigner struct{ l *testLog }

func (s logSigner) Name() string    { return "rekor.test" }
func (s logSigner) KeyHash() uint32 { return binary.BigEndian.Uint32(s.l.id[:4]) }
func (s logSigner) Sign(msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.l.key, sum[:])
}

// add logs body as integrated at time at and returns the entry a bundle
// carries. A few unrelated leaves are logged first so the proof has a
// path to check.
func (l *testLog) add(body []byte, forgedTimestamp bool, at time.Time) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.leaves) < 5 {
		l.leaves = append(l.leaves, rfc6962.DefaultHasher.HashLeaf([]byte("filler "+strconv.Itoa(len(l.leaves)))))
	}
	index := len(l.leaves)
	l.leaves = append(l.leaves, rfc6962.DefaultHasher.HashLeaf(body))
	size := len(l.leaves)
	root := mth(l.leaves)
	var hashes []string
	for _, h := range auditPath(index, l.leaves) {
		hashes = append(hashes, base64.StdEncoding.EncodeToString(h))
	}
	integrated := at.Unix()
	bodyB64 := base64.StdEncoding.EncodeToString(body)
	var set bytes.Buffer
	enc := json.NewEncoder(&set)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogID          string `json:"logID"`
		LogIndex       int64  `json:"logIndex"`
	}{bodyB64, integrated, hex.EncodeToString(l.id), int64(index)})
	sum := sha256.Sum256(bytes.TrimSuffix(set.Bytes(), []byte("\n")))
	signer := l.key
	if forgedTimestamp {
		signer, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	sig, err := ecdsa.SignASN1(rand.Reader, signer, sum[:])
	if err != nil {
		panic(err)
	}
	text := "rekor.test - 1\n" + strconv.Itoa(size) + "\n" + base64.StdEncoding.EncodeToString(root) + "\n"
	cp, err := note.Sign(&note.Note{Text: text}, logSigner{l})
	if err != nil {
		panic(err)
	}
	return map[string]any{
		"logIndex":          strconv.Itoa(index),
		"logId":             map[string]string{"keyId": base64.StdEncoding.EncodeToString(l.id)},
		"kindVersion":       map[string]string{"kind": kindOf(body), "version": versionOf(body)},
		"integratedTime":    strconv.FormatInt(integrated, 10),
		"inclusionPromise":  map[string]string{"signedEntryTimestamp": base64.StdEncoding.EncodeToString(sig)},
		"inclusionProof":    map[string]any{"logIndex": strconv.Itoa(index), "rootHash": base64.StdEncoding.EncodeToString(root), "treeSize": strconv.Itoa(size), "hashes": hashes, "checkpoint": map[string]string{"envelope": string(cp)}},
		"canonicalizedBody": bodyB64,
	}
}

func kindOf(body []byte) string {
	var b struct{ Kind string }
	_ = json.Unmarshal(body, &b)
	return b.Kind
}

func versionOf(body []byte) string {
	var b struct {
		APIVersion string `json:"apiVersion"`
	}
	_ = json.Unmarshal(body, &b)
	return b.APIVersion
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// intotoBody is a Rekor intoto v0.0.2 entry body: the signature is the
// base64 of the envelope's base64 signature, the key a base64 PEM.
func intotoBody(payload []byte, sigB64 string, signerPEM []byte) []byte {
	b, _ := json.Marshal(map[string]any{"apiVersion": "0.0.2", "kind": "intoto", "spec": map[string]any{"content": map[string]any{
		"envelope": map[string]any{"payloadType": "application/vnd.in-toto+json", "signatures": []map[string]string{{
			"sig": base64.StdEncoding.EncodeToString([]byte(sigB64)), "publicKey": base64.StdEncoding.EncodeToString(signerPEM)}}},
		"hash":        map[string]string{"algorithm": "sha256", "value": hexSHA256([]byte(sigB64))},
		"payloadHash": map[string]string{"algorithm": "sha256", "value": hexSHA256(payload)}}}})
	return b
}

// dsseBody is a Rekor dsse v0.0.1 entry body.
func dsseBody(payload []byte, sigB64 string, signerPEM []byte) []byte {
	b, _ := json.Marshal(map[string]any{"apiVersion": "0.0.1", "kind": "dsse", "spec": map[string]any{
		"envelopeHash": map[string]string{"algorithm": "sha256", "value": hexSHA256([]byte(sigB64))},
		"payloadHash":  map[string]string{"algorithm": "sha256", "value": hexSHA256(payload)},
		"signatures":   []map[string]string{{"signature": sigB64, "verifier": base64.StdEncoding.EncodeToString(signerPEM)}}}})
	return b
}

// NormalRepository turns a package.json repository URL into the form
// certificates name: "git+https://github.com/o/r.git" → "https://github.com/o/r".
func NormalRepository(s string) string {
	return strings.TrimSuffix(strings.TrimPrefix(s, "git+"), ".git")
}

// TrustedRootJSON returns a Sigstore trusted root (trusted_root.json)
// naming the registry's test certificate authority and test log.
func (r *Registry) TrustedRootJSON() []byte {
	b, _ := json.MarshalIndent(map[string]any{
		"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
		"tlogs": []any{map[string]any{"baseUrl": r.srv.URL + "/rekor", "hashAlgorithm": "SHA2_256",
			"publicKey": map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(r.log.der), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
				"validFor": map[string]string{"start": "2020-01-01T00:00:00Z"}},
			"logId": map[string]string{"keyId": base64.StdEncoding.EncodeToString(r.log.id)}}},
		"certificateAuthorities": []any{map[string]any{"subject": map[string]string{"commonName": "test sigstore root"}, "uri": r.srv.URL + "/fulcio",
			"certChain": map[string]any{"certificates": []map[string]string{{"rawBytes": base64.StdEncoding.EncodeToString(r.caCert.Raw)}}},
			"validFor":  map[string]string{"start": "2020-01-01T00:00:00Z"}}},
	}, "", "  ")
	return b
}
