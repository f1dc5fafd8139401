package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/audit/deps/registry"
	"github.com/rampartsec/rampart/internal/npmregistrytest"
)

func TestSignaturesAndAttestations(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	reg.Publish(npmregistrytest.Package{Name: "good", Version: "1.0.0", Files: map[string]string{"index.js": "module.exports = 1"}, Provenance: true})
	reg.Publish(npmregistrytest.Package{Name: "@acme/forged", Version: "2.0.0", BadSignature: true})
	reg.Publish(npmregistrytest.Package{Name: "unsigned", Version: "1.0.0", Unsigned: true})
	reg.Publish(npmregistrytest.Package{Name: "badprov", Version: "1.0.0", Provenance: true, BadProvenance: true})
	reg.Publish(npmregistrytest.Package{Name: "otherrepo", Version: "1.0.0", Provenance: true, ProvenanceRepository: "https://github.com/mallory/otherrepo"})
	reg.Publish(npmregistrytest.Package{Name: "norepo", Version: "1.0.0", Provenance: true, NoRepository: true})
	reg.Publish(npmregistrytest.Package{Name: "tampered", Version: "1.0.0", Provenance: true, TamperedLog: true})
	reg.Publish(npmregistrytest.Package{Name: "unlogged", Version: "1.0.0", Provenance: true, UnloggedProvenance: true})
	reg.Publish(npmregistrytest.Package{Name: "forgedset", Version: "1.0.0", Provenance: true, ForgedTimestamp: true})
	reg.Publish(npmregistrytest.Package{Name: "laptop", Version: "1.0.0", Provenance: true, ProvenanceIssuer: "https://accounts.google.com"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &registry.Client{BaseURL: reg.URL()}
	keys, err := c.Keys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("got %v %v, want one key", keys, err)
	}
	root, err := registry.ParseTrustedRoot(reg.TrustedRootJSON())
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, version string, root *registry.TrustedRoot) (error, []registry.AttestationCheck) {
		p, err := c.Packument(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		v := p.Versions[version]
		u, err := c.TarballURL(name, version, v.Dist.Tarball)
		if err != nil {
			t.Fatal(err)
		}
		tgz, err := c.Tarball(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := registry.VerifyIntegrity(v.Dist.Integrity, tgz); err != nil {
			t.Fatal(err)
		}
		_, sigErr := registry.VerifySignatures(keys, name, version, v.Dist.Integrity, v.Dist.Signatures, p.Published(version))
		atts, err := c.Attestations(ctx, name, version, v.Dist.Attestations)
		if err != nil {
			t.Fatal(err)
		}
		opts := registry.AttestationOptions{Keys: keys, Root: root, Repository: v.Repository.URL}
		return sigErr, registry.VerifyAttestations(atts, opts, name, version, registry.SHA512Hex(tgz))
	}
	sigErr, atts := check("good", "1.0.0", root)
	if sigErr != nil || len(atts) != 2 {
		t.Fatalf("good: got %v, %d attestations, want a valid signature and two", sigErr, len(atts))
	}
	for _, a := range atts {
		if a.Err != nil {
			t.Fatalf("good: %s: %v", a.PredicateType, a.Err)
		}
		got := strings.Join(a.Checked, "; ")
		for _, want := range []string{"signed entry timestamp", "inclusion proof at index", "log entry records this envelope"} {
			if !strings.Contains(got, want) {
				t.Errorf("good: %s: checked %q, want %q", a.PredicateType, got, want)
			}
		}
	}
	if id := atts[1].Identity; id == nil || id.SourceRepository != "https://github.com/acme/good" {
		t.Fatalf("good: got identity %+v", id)
	}
	if sigErr, _ := check("@acme/forged", "2.0.0", root); !errors.Is(sigErr, registry.ErrBadSignature) {
		t.Fatalf("forged: got %v, want ErrBadSignature", sigErr)
	}
	if sigErr, _ := check("unsigned", "1.0.0", root); !errors.Is(sigErr, registry.ErrUnsigned) {
		t.Fatalf("unsigned: got %v, want ErrUnsigned", sigErr)
	}
	for _, tc := range []struct {
		name     string
		want     error
		contains string
	}{
		{"badprov", registry.ErrAttestation, "the archive has"},
		{"otherrepo", registry.ErrIdentity, "built from https://github.com/mallory/otherrepo"},
		{"norepo", registry.ErrNoRepository, ""},
		{"tampered", registry.ErrTlog, "another signature or signer"},
		{"unlogged", registry.ErrAttestation, "no transparency-log entry"},
		{"forgedset", registry.ErrTlog, "signed entry timestamp is not the log's signature"},
		{"laptop", registry.ErrIdentity, "not a CI provider"},
	} {
		_, atts := check(tc.name, "1.0.0", root)
		if err := atts[1].Err; !errors.Is(err, tc.want) || !strings.Contains(errString(err), tc.contains) {
			t.Errorf("%s: got %v, want %v containing %q", tc.name, err, tc.want, tc.contains)
		}
		if atts[0].Err != nil {
			t.Errorf("%s: publish attestation: %v", tc.name, atts[0].Err)
		}
	}
	// A root that did not issue the certificate, with the same log.
	other := npmregistrytest.New(t)
	otherRoot, err := registry.ParseTrustedRoot(other.TrustedRootJSON())
	if err != nil {
		t.Fatal(err)
	}
	mixed := &registry.TrustedRoot{Logs: root.Logs, Authorities: otherRoot.Authorities, Source: "mixed"}
	if _, atts := check("good", "1.0.0", mixed); !errors.Is(atts[1].Err, registry.ErrAttestation) || !strings.Contains(atts[1].Err.Error(), "certificate chain") {
		t.Fatalf("got %v, want a chain verified by a foreign root refused", atts[1].Err)
	}
	// The public-good root knows neither the test log nor the test CA.
	if _, atts := check("good", "1.0.0", nil); !errors.Is(atts[1].Err, registry.ErrTlogUnverifiable) {
		t.Fatalf("got %v, want the test log unknown to the public-good root", atts[1].Err)
	}
	// PEM roots keep the base root's logs.
	pemRoot, err := root.WithAuthorities(reg.RootsPEM())
	if err != nil {
		t.Fatal(err)
	}
	if _, atts := check("good", "1.0.0", pemRoot); atts[1].Err != nil {
		t.Fatalf("PEM roots: %v", atts[1].Err)
	}
}

func TestKeyExpiry(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	reg.Publish(npmregistrytest.Package{Name: "late", Version: "1.0.0", Published: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	ctx := context.Background()
	c := &registry.Client{BaseURL: reg.URL()}
	keys, _ := c.Keys(ctx)
	exp := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	keys[0].Expires = &exp
	p, _ := c.Packument(ctx, "late")
	v := p.Versions["1.0.0"]
	if _, err := registry.VerifySignatures(keys, "late", "1.0.0", v.Dist.Integrity, v.Dist.Signatures, p.Published("1.0.0")); !errors.Is(err, registry.ErrKeyExpired) {
		t.Fatalf("got %v, want ErrKeyExpired", err)
	}
}

func TestForeignTarball(t *testing.T) {
	t.Parallel()
	c := &registry.Client{BaseURL: "http://127.0.0.1:1"}
	if _, err := c.Tarball(context.Background(), "http://evil.example/x.tgz"); !errors.Is(err, registry.ErrForeign) {
		t.Fatalf("got %v, want ErrForeign", err)
	}
	u, _ := c.TarballURL("@s/p", "1.0.0", "https://evil.example/p.tgz")
	if u != "http://127.0.0.1:1/@s/p/-/p-1.0.0.tgz" {
		t.Fatalf("got %s, want the registry's own path", u)
	}
}

func TestSizeBound(t *testing.T) {
	t.Parallel()
	reg := npmregistrytest.New(t)
	reg.Publish(npmregistrytest.Package{Name: "big", Version: "1.0.0", Files: map[string]string{"a": string(make([]byte, 4096))}})
	c := &registry.Client{BaseURL: reg.URL(), MaxTarball: 10}
	if _, err := c.Tarball(context.Background(), reg.TarballURL("big", "1.0.0")); !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := &registry.Cache{Dir: dir}
	data := []byte("archive")
	integ := npmregistrytest.Integrity(data)
	if err := c.Put(integ, []byte("other")); err == nil {
		t.Fatal("got content stored under the wrong hash")
	}
	if err := c.Put(integ, data); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(integ)
	if err != nil || !ok || string(got) != "archive" {
		t.Fatalf("got %q %v %v", got, ok, err)
	}
	// Tamper with the entry: a miss, never trusted.
	var entry string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			entry = p
		}
		return nil
	})
	if err := os.WriteFile(entry, []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Get(integ); ok {
		t.Fatal("got a tampered cache entry, want a miss")
	}
}

func TestVerifyIntegrity(t *testing.T) {
	t.Parallel()
	data := []byte("x")
	if _, err := registry.VerifyIntegrity(npmregistrytest.Integrity(data)+" sha1-bogus", data); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.VerifyIntegrity(npmregistrytest.Integrity([]byte("y")), data); !errors.Is(err, registry.ErrIntegrityMismatch) {
		t.Fatalf("got %v, want a mismatch", err)
	}
	if _, err := registry.VerifyIntegrity("md5-abc", data); !errors.Is(err, registry.ErrNoIntegrity) {
		t.Fatalf("got %v, want ErrNoIntegrity", err)
	}
}

func FuzzVerifyAttestations(f *testing.F) {
	f.Add([]byte(`{"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA=="}]},"verificationMaterial":{"publicKey":{"hint":"k"}}}`))
	// Real bundles reach the transparency-log, chain and identity checks.
	if data, err := os.ReadFile("testdata/sigstore-2.0.0-provenance.sigstore.json"); err == nil {
		f.Add(data)
	}
	if data, err := os.ReadFile("testdata/sigstore-0.4.0-attestations.json"); err == nil {
		var doc struct {
			Attestations []registry.Attestation `json:"attestations"`
		}
		if json.Unmarshal(data, &doc) == nil {
			for _, a := range doc.Attestations {
				f.Add([]byte(a.Bundle))
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res := registry.VerifyAttestations([]registry.Attestation{{Bundle: b}}, registry.AttestationOptions{Keys: []registry.Key{{KeyID: "k", Key: "AA=="}}}, "a", "1.0.0", "00")
		if len(res) != 1 || res[0].Err == nil {
			t.Fatalf("got %+v, want a failure for unsigned input", res)
		}
	})
}

func BenchmarkVerifySignatures(b *testing.B) {
	reg := npmregistrytest.New(b)
	reg.Publish(npmregistrytest.Package{Name: "p", Version: "1.0.0"})
	ctx := context.Background()
	c := &registry.Client{BaseURL: reg.URL()}
	keys, _ := c.Keys(ctx)
	p, _ := c.Packument(ctx, "p")
	v := p.Versions["1.0.0"]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := registry.VerifySignatures(keys, "p", "1.0.0", v.Dist.Integrity, v.Dist.Signatures, p.Published("1.0.0")); err != nil {
			b.Fatal(err)
		}
	}
}
