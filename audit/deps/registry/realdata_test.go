package registry_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/deps/registry"
)

// npmKey2023 is the key npm's registry signed with until January 2025, as
// its TUF repository publishes it (registry.npmjs.org/keys.json).
var npmKey2023 = registry.Key{KeyID: "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
	KeyType: "ecdsa-sha2-nistp256", Scheme: "ecdsa-sha2-nistp256", Expires: ptr(time.Date(2025, 1, 29, 0, 0, 0, 0, time.UTC)),
	Key: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg=="}

func ptr[T any](v T) *T { return &v }

const (
	sigstoreRepo   = "git+https://github.com/sigstore/sigstore-js.git"
	sigstore040SHA = "282c0c5fa936d264321643581b65d3de5c0af6ed4fdfac12f5851115df39cc25cfaf0ad22d908487bfef30114d61c25746206d1834be4f8fd1659178f77cc004"
	sigstore200SHA = "46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c"
)

// realAttestations returns the attestations npm's registry serves for
// sigstore@0.4.0 (a publish attestation and a SLSA v0.2 provenance, 2023,
// signed entry timestamps only).
func realAttestations(t *testing.T) []registry.Attestation {
	t.Helper()
	data, err := os.ReadFile("testdata/sigstore-0.4.0-attestations.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Attestations []registry.Attestation `json:"attestations"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Attestations
}

// realProvenanceV1 returns the SLSA v1 provenance of sigstore@2.0.0 (2023,
// signed entry timestamp, inclusion proof and checkpoint).
func realProvenanceV1(t *testing.T) registry.Attestation {
	t.Helper()
	data, err := os.ReadFile("testdata/sigstore-2.0.0-provenance.sigstore.json")
	if err != nil {
		t.Fatal(err)
	}
	return registry.Attestation{PredicateType: "https://slsa.dev/provenance/v1", Bundle: data}
}

func TestRealAttestationsVerify(t *testing.T) {
	t.Parallel()
	opts := registry.AttestationOptions{Keys: []registry.Key{npmKey2023}, Repository: sigstoreRepo}
	res := registry.VerifyAttestations(realAttestations(t), opts, "sigstore", "0.4.0", sigstore040SHA)
	if len(res) != 2 {
		t.Fatalf("got %d results, want 2", len(res))
	}
	for _, c := range res {
		if c.Err != nil {
			t.Fatalf("%s: %v", c.PredicateType, c.Err)
		}
		if !strings.Contains(strings.Join(c.Checked, "; "), "signed entry timestamp (https://rekor.sigstore.dev)") {
			t.Errorf("%s: got checked %q, want the signed entry timestamp", c.PredicateType, c.Checked)
		}
		if got := c.Time.Unix(); got != 1673458312 && got != 1673458314 {
			t.Errorf("got integrated time %d", got)
		}
	}
	id := res[0].Identity
	if id == nil || id.SourceRepository != "https://github.com/sigstore/sigstore-js" || id.Issuer != "https://token.actions.githubusercontent.com" ||
		id.Workflow != "https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v0.4.0" {
		t.Fatalf("got identity %+v", id)
	}

	v1 := registry.VerifyAttestations([]registry.Attestation{realProvenanceV1(t)}, opts, "sigstore", "2.0.0", sigstore200SHA)
	if v1[0].Err != nil {
		t.Fatal(v1[0].Err)
	}
	if got := strings.Join(v1[0].Checked, "; "); !strings.Contains(got, "inclusion proof at index 27657874 of 27657875 and signed checkpoint") {
		t.Fatalf("got checked %q, want the inclusion proof", got)
	}
}

// mutateBundle decodes a bundle, lets f change it, and encodes it again.
func mutateBundle(t *testing.T, a registry.Attestation, f func(b map[string]any)) registry.Attestation {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(a.Bundle, &b); err != nil {
		t.Fatal(err)
	}
	f(b)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return registry.Attestation{PredicateType: a.PredicateType, Bundle: out}
}

func tlogEntry(b map[string]any) map[string]any {
	return b["verificationMaterial"].(map[string]any)["tlogEntries"].([]any)[0].(map[string]any)
}

func TestRealAttestationsTampered(t *testing.T) {
	t.Parallel()
	keys := []registry.Key{npmKey2023}
	atts := realAttestations(t)
	prov, publish := atts[0], atts[1]
	v1 := realProvenanceV1(t)
	foreignRoot := func() *registry.TrustedRoot {
		pg := registry.PublicGoodRoot()
		return &registry.TrustedRoot{Authorities: pg.Authorities, Source: "a root without Rekor"}
	}()
	cases := []struct {
		name     string
		att      registry.Attestation
		opts     registry.AttestationOptions
		version  string
		sha      string
		want     error
		contains string
	}{
		{name: "another repository declared", att: prov, opts: registry.AttestationOptions{Keys: keys, Repository: "https://github.com/evil/sigstore-js"},
			want: registry.ErrIdentity, contains: "built from https://github.com/sigstore/sigstore-js"},
		{name: "no repository declared", att: prov, opts: registry.AttestationOptions{Keys: keys}, want: registry.ErrNoRepository},
		{name: "integrated time altered", att: mutateBundle(t, prov, func(b map[string]any) { tlogEntry(b)["integratedTime"] = "1673458999" }),
			want: registry.ErrTlog, contains: "signed entry timestamp is not the log's signature"},
		{name: "log entry of another envelope", att: mutateBundle(t, prov, func(b map[string]any) {
			var other map[string]any
			_ = json.Unmarshal(publish.Bundle, &other)
			e := tlogEntry(b)
			o := tlogEntry(other)
			for _, k := range []string{"canonicalizedBody", "integratedTime", "logIndex", "inclusionPromise"} {
				e[k] = o[k]
			}
		}), want: registry.ErrTlog, contains: "the entry records another"},
		{name: "no log entry", att: mutateBundle(t, prov, func(b map[string]any) {
			b["verificationMaterial"].(map[string]any)["tlogEntries"] = []any{}
		}), want: registry.ErrAttestation, contains: "no transparency-log entry"},
		{name: "log unknown to the root", att: prov, opts: registry.AttestationOptions{Keys: keys, Root: foreignRoot, Repository: sigstoreRepo},
			want: registry.ErrTlogUnverifiable},
		{name: "inclusion proof hash altered", version: "2.0.0", sha: sigstore200SHA, att: mutateBundle(t, v1, func(b map[string]any) {
			e := tlogEntry(b)
			delete(e, "inclusionPromise")
			hs := e["inclusionProof"].(map[string]any)["hashes"].([]any)
			hs[3] = base64.StdEncoding.EncodeToString(make([]byte, 32))
		}), opts: registry.AttestationOptions{Keys: keys, Repository: sigstoreRepo}, want: registry.ErrTlog, contains: "inclusion proof"},
		{name: "proof without a signed time", version: "2.0.0", sha: sigstore200SHA, att: mutateBundle(t, v1, func(b map[string]any) {
			delete(tlogEntry(b), "inclusionPromise")
		}), opts: registry.AttestationOptions{Keys: keys, Repository: sigstoreRepo}, want: registry.ErrTlogUnverifiable, contains: "time is not signed"},
		{name: "entry kind relabelled", att: mutateBundle(t, prov, func(b map[string]any) {
			tlogEntry(b)["kindVersion"] = map[string]any{"kind": "hashedrekord", "version": "0.0.1"}
		}), want: nil},
		{name: "checkpoint of another tree", version: "2.0.0", sha: sigstore200SHA, att: mutateBundle(t, v1, func(b map[string]any) {
			e := tlogEntry(b)
			delete(e, "inclusionPromise")
			cp := e["inclusionProof"].(map[string]any)["checkpoint"].(map[string]any)
			cp["envelope"] = strings.Replace(cp["envelope"].(string), "27657875", "27657876", 1)
		}), opts: registry.AttestationOptions{Keys: keys, Repository: sigstoreRepo}, want: registry.ErrTlog, contains: "checkpoint"},
		{name: "publish key expired before the entry", att: publish, want: registry.ErrKeyExpired,
			opts: registry.AttestationOptions{Keys: []registry.Key{func() registry.Key {
				k := npmKey2023
				k.Expires = ptr(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
				return k
			}()}, Repository: sigstoreRepo}},
		{name: "archive differs", att: prov, sha: strings.Repeat("0", 128), opts: registry.AttestationOptions{Keys: keys, Repository: sigstoreRepo},
			want: registry.ErrAttestation, contains: "the archive has"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			version, sha := cmpOr(tc.version, "0.4.0"), cmpOr(tc.sha, sigstore040SHA)
			if tc.opts.Keys == nil {
				tc.opts = registry.AttestationOptions{Keys: keys, Repository: sigstoreRepo}
			}
			res := registry.VerifyAttestations([]registry.Attestation{tc.att}, tc.opts, "sigstore", version, sha)
			err := res[0].Err
			if tc.want == nil {
				// The bundle's unsigned labels do not change what the
				// signed body says.
				if err != nil {
					t.Fatalf("got %v, want it verified", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, registry.ErrAttestation) || !strings.Contains(errString(err), tc.contains) {
				t.Fatalf("got %v, want %v containing %q", err, tc.want, tc.contains)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestNormalizeRepository(t *testing.T) {
	t.Parallel()
	want := "https://github.com/sigstore/sigstore-js"
	for _, in := range []string{"git+https://github.com/sigstore/sigstore-js.git", "https://github.com/Sigstore/Sigstore-JS", "git://github.com/sigstore/sigstore-js.git",
		"git+ssh://git@github.com/sigstore/sigstore-js.git", "git@github.com:sigstore/sigstore-js.git", "github:sigstore/sigstore-js",
		"sigstore/sigstore-js", "https://github.com/sigstore/sigstore-js/", "https://github.com/sigstore/sigstore-js#main",
		"https://github.com/sigstore/sigstore-js/tree/main/packages/client", "git+https://github.com/sigstore/sigstore-js.git/", "https://www.github.com/sigstore/sigstore-js"} {
		if got := registry.NormalizeRepository(in); got != want {
			t.Errorf("NormalizeRepository(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"", "not a repository", "https://", "#"} {
		if got := registry.NormalizeRepository(in); got != "" {
			t.Errorf("NormalizeRepository(%q) = %q, want none", in, got)
		}
	}
	for in, want := range map[string]string{
		"gitlab:group/project":                             "https://gitlab.com/group/project",
		"https://gitlab.com/group/sub/project/-/tree/main": "https://gitlab.com/group/sub/project",
	} {
		if got := registry.NormalizeRepository(in); got != want {
			t.Errorf("NormalizeRepository(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPublicGoodRoot(t *testing.T) {
	t.Parallel()
	r := registry.PublicGoodRoot()
	if len(r.Logs) < 1 || len(r.Authorities) < 2 {
		t.Fatalf("got %d logs, %d authorities", len(r.Logs), len(r.Authorities))
	}
	if _, err := registry.ParseTrustedRoot([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`)); !errors.Is(err, registry.ErrTrustedRoot) {
		t.Fatalf("got %v, want an empty root refused", err)
	}
	if _, err := registry.ParseTrustedRoot([]byte(`{"mediaType":"text/plain"}`)); !errors.Is(err, registry.ErrTrustedRoot) {
		t.Fatalf("got %v, want ErrTrustedRoot", err)
	}
}

// TestRealRegistrySignature checks a signature npm's registry made with
// its 2023 key (for @isaacs/namespace-test@1.0.0, as npm's own client
// tests record it), and that the same key, once expired, does not verify
// a version published after the expiry.
func TestRealRegistrySignature(t *testing.T) {
	t.Parallel()
	const integrity = "sha512-5ZYe1LgwHIaag0p9loMwsf5N/wJ4XAuHVNhSO+qulQOXWnyJVuco6IZjo+5u4ZLF/GimdHJcX+QK892ONfOCqQ=="
	sigs := []registry.Signature{{KeyID: npmKey2023.KeyID, Sig: "MEQCIHXwKYe70+xcDOvFhM1etZQFUKEwz9VarppUbp5/Ie1+AiAM7aZcT1a2JR0oF/XwjNb13YEHwiagnDapLgYbklRvtA=="}}
	published := time.Date(2019, 6, 28, 18, 46, 27, 0, time.UTC)
	if _, err := registry.VerifySignatures([]registry.Key{npmKey2023}, "@isaacs/namespace-test", "1.0.0", integrity, sigs, published); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.VerifySignatures([]registry.Key{npmKey2023}, "@isaacs/namespace-test", "1.0.1", integrity, sigs, published); !errors.Is(err, registry.ErrBadSignature) {
		t.Fatalf("got %v, want another version refused", err)
	}
	if _, err := registry.VerifySignatures([]registry.Key{npmKey2023}, "@isaacs/namespace-test", "1.0.0", integrity, sigs, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, registry.ErrKeyExpired) {
		t.Fatalf("got %v, want the expired key refused", err)
	}
}

// BenchmarkVerifyAttestations verifies the two real attestations of
// sigstore@0.4.0: two DSSE signatures, two signed entry timestamps, a
// certificate chain and the identity policy.
func BenchmarkVerifyAttestations(b *testing.B) {
	data, err := os.ReadFile("testdata/sigstore-0.4.0-attestations.json")
	if err != nil {
		b.Fatal(err)
	}
	var doc struct {
		Attestations []registry.Attestation `json:"attestations"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		b.Fatal(err)
	}
	opts := registry.AttestationOptions{Keys: []registry.Key{npmKey2023}, Repository: sigstoreRepo, Root: registry.PublicGoodRoot()}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range registry.VerifyAttestations(doc.Attestations, opts, "sigstore", "0.4.0", sigstore040SHA) {
			if c.Err != nil {
				b.Fatal(c.Err)
			}
		}
	}
}

// BenchmarkVerifyInclusionProof verifies the SLSA 1.0 provenance of
// sigstore@2.0.0, whose entry carries an inclusion proof of 10 hashes and
// a checkpoint besides the signed entry timestamp.
func BenchmarkVerifyInclusionProof(b *testing.B) {
	data, err := os.ReadFile("testdata/sigstore-2.0.0-provenance.sigstore.json")
	if err != nil {
		b.Fatal(err)
	}
	atts := []registry.Attestation{{PredicateType: "https://slsa.dev/provenance/v1", Bundle: data}}
	opts := registry.AttestationOptions{Repository: sigstoreRepo, Root: registry.PublicGoodRoot()}
	b.ReportAllocs()
	for b.Loop() {
		if c := registry.VerifyAttestations(atts, opts, "sigstore", "2.0.0", sigstore200SHA); c[0].Err != nil {
			b.Fatal(c[0].Err)
		}
	}
}

// TestValidityWindows: a log key or a certificate authority outside its
// trusted window does not verify an entry or a certificate of that time.
func TestValidityWindows(t *testing.T) {
	t.Parallel()
	pg := registry.PublicGoodRoot()
	atts := realAttestations(t)
	later := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

	logs := append([]registry.TransparencyLog(nil), pg.Logs...)
	for i := range logs {
		logs[i].Start = later
	}
	lateLog := &registry.TrustedRoot{Logs: logs, Authorities: pg.Authorities, Source: "late log"}
	res := registry.VerifyAttestations(atts[:1], registry.AttestationOptions{Root: lateLog, Repository: sigstoreRepo}, "sigstore", "0.4.0", sigstore040SHA)
	if !errors.Is(res[0].Err, registry.ErrTlog) || !strings.Contains(res[0].Err.Error(), "outside the time the log key") {
		t.Fatalf("got %v, want the entry outside the log key's window refused", res[0].Err)
	}

	cas := append([]registry.CertificateAuthority(nil), pg.Authorities...)
	for i := range cas {
		cas[i].Start = later
	}
	lateCA := &registry.TrustedRoot{Logs: pg.Logs, Authorities: cas, Source: "late authorities"}
	res = registry.VerifyAttestations(atts[:1], registry.AttestationOptions{Root: lateCA, Repository: sigstoreRepo}, "sigstore", "0.4.0", sigstore040SHA)
	if !errors.Is(res[0].Err, registry.ErrAttestation) || !strings.Contains(res[0].Err.Error(), "no certificate authority of the late authorities was issuing") {
		t.Fatalf("got %v, want no authority issuing at the logged time", res[0].Err)
	}
}
