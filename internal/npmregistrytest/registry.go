package npmregistrytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Package is one version to publish.
type Package struct {
	Name    string
	Version string
	// Files are the package's files; package.json is made from Name,
	// Version and Scripts when absent.
	Files   map[string]string
	Scripts map[string]string
	// Maintainers defaults to ["alice"]; Publisher to the first maintainer.
	Maintainers []string
	Publisher   string
	// Published defaults to 2025-01-01.
	Published time.Time
	// Provenance adds a SLSA provenance attestation signed by a
	// certificate from the registry's test CA, besides the publish
	// attestation every version gets.
	Provenance bool
	// BadSignature signs different content, so the registry signature does
	// not verify. Unsigned leaves the signature out.
	BadSignature bool
	Unsigned     bool
	// BadProvenance makes the provenance subject name another digest.
	BadProvenance bool
	// Repository is the repository package.json declares (when Files has
	// no package.json); with Provenance it defaults to
	// "git+https://github.com/acme/<name>.git". NoRepository declares none.
	Repository   string
	NoRepository bool
	// ProvenanceRepository is the repository the provenance certificate
	// and predicate name; it defaults to the declared one.
	ProvenanceRepository string
	// ProvenanceIssuer is the certificate's OIDC issuer; it defaults to
	// GitHub Actions'.
	ProvenanceIssuer string
	// TamperedLog makes the provenance's log entry record another
	// signature, as if an entry of another bundle were attached.
	// UnloggedProvenance leaves the entry out. ForgedTimestamp signs the
	// entry's timestamp with a key that is not the log's.
	TamperedLog        bool
	UnloggedProvenance bool
	ForgedTimestamp    bool
	// Tarball, when set, is served instead of one made from Files.
	Tarball []byte
	// DistIntegrity, when set, is the integrity the packument states
	// instead of the archive's own.
	DistIntegrity string
}

// Registry is a running test registry.
type Registry struct {
	srv    *httptest.Server
	key    *ecdsa.PrivateKey
	keyID  string
	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
	log    *testLog
	mu     sync.Mutex
	// keyExpires is the expiry the keys endpoint states; zero is none.
	keyExpires time.Time
	versions   map[string]map[string]*published
	// Requests counts the requests served, by path.
	requests map[string]int
}

type published struct {
	pkg       Package
	tarball   []byte
	integrity string
	meta      map[string]any
	atts      []map[string]any
}

// New starts a registry on loopback; it stops when the test ends.
func New(t testing.TB) *Registry {
	t.Helper()
	r, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// Close stops the registry.
func (r *Registry) Close() { r.srv.Close() }

// Start starts a registry on loopback; Close stops it.
func Start() (*Registry, error) {
	r := &Registry{versions: map[string]map[string]*published{}, requests: map[string]int{}}
	var err error
	if r.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	der, _ := x509.MarshalPKIXPublicKey(&r.key.PublicKey)
	sum := sha256.Sum256(der)
	r.keyID = "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
	if r.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test sigstore root"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &r.caKey.PublicKey, r.caKey)
	if err != nil {
		return nil, err
	}
	r.caCert, _ = x509.ParseCertificate(caDER)
	if r.log, err = newTestLog(); err != nil {
		return nil, err
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r, nil
}

// ExpireKey makes the keys endpoint state that the signing key expired at
// t, as npm's registry does for a rotated key.
func (r *Registry) ExpireKey(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keyExpires = t
}

// URL returns the registry's base URL.
func (r *Registry) URL() string { return r.srv.URL }

// Roots returns a pool holding the registry's test certificate authority.
func (r *Registry) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(r.caCert)
	return p
}

// RootsPEM returns the test certificate authority in PEM.
func (r *Registry) RootsPEM() []byte {
	return []byte("-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(r.caCert.Raw) + "\n-----END CERTIFICATE-----\n")
}

// Requests returns how many requests were served for path p.
func (r *Registry) Requests(p string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[p]
}

// TarballURL returns where the archive of name@version is served.
func (r *Registry) TarballURL(name, version string) string {
	return r.srv.URL + "/" + name + "/-/" + path.Base(name) + "-" + version + ".tgz"
}

// Publish adds a version and returns its archive's integrity.
func (r *Registry) Publish(p Package) string {
	if len(p.Maintainers) == 0 {
		p.Maintainers = []string{"alice"}
	}
	if p.Publisher == "" {
		p.Publisher = p.Maintainers[0]
	}
	if p.Published.IsZero() {
		p.Published = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	files := map[string]string{}
	for k, v := range p.Files {
		files[k] = v
	}
	if p.Repository == "" && p.Provenance && !p.NoRepository {
		p.Repository = "git+https://github.com/acme/" + path.Base(p.Name) + ".git"
	}
	if p.ProvenanceRepository == "" {
		p.ProvenanceRepository = NormalRepository(p.Repository)
		if p.ProvenanceRepository == "" {
			p.ProvenanceRepository = "https://github.com/acme/" + path.Base(p.Name)
		}
	}
	if _, ok := files["package.json"]; !ok {
		m := map[string]any{"name": p.Name, "version": p.Version, "scripts": p.Scripts}
		if p.Repository != "" && !p.NoRepository {
			m["repository"] = map[string]string{"type": "git", "url": p.Repository}
		}
		pj, _ := json.Marshal(m)
		files["package.json"] = string(pj)
	}
	tgz := p.Tarball
	if tgz == nil {
		tgz = Tarball(files)
	}
	integ := Integrity(tgz)
	sigMsg := p.Name + "@" + p.Version + ":" + integ
	if p.BadSignature {
		sigMsg = p.Name + "@" + p.Version + ":sha512-forged"
	}
	var maint []map[string]string
	for _, m := range p.Maintainers {
		maint = append(maint, map[string]string{"name": m, "email": m + "@example.test"})
	}
	distInteg := integ
	if p.DistIntegrity != "" {
		distInteg = p.DistIntegrity
	}
	dist := map[string]any{"integrity": distInteg, "tarball": r.TarballURL(p.Name, p.Version)}
	if !p.Unsigned {
		dist["signatures"] = []map[string]string{{"keyid": r.keyID, "sig": r.sign([]byte(sigMsg))}}
	}
	sum := sha512.Sum512(tgz)
	digest := hex.EncodeToString(sum[:])
	atts := []map[string]any{{"predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
		"bundle": r.publishBundle(p.Name, p.Version, digest, p.Published)}}
	ref := map[string]any{"url": r.srv.URL + "/-/npm/v1/attestations/" + strings.Replace(url.PathEscape(p.Name), "%40", "@", 1) + "@" + p.Version}
	if p.Provenance {
		d := digest
		if p.BadProvenance {
			other := sha512.Sum512([]byte("other"))
			d = hex.EncodeToString(other[:])
		}
		atts = append(atts, map[string]any{"predicateType": "https://slsa.dev/provenance/v1", "bundle": r.provenanceBundle(p, d)})
		ref["provenance"] = map[string]string{"predicateType": "https://slsa.dev/provenance/v1"}
	}
	dist["attestations"] = ref
	meta := map[string]any{"name": p.Name, "version": p.Version, "scripts": p.Scripts, "maintainers": maint,
		"_npmUser": map[string]string{"name": p.Publisher, "email": p.Publisher + "@example.test"}, "dist": dist}
	if p.Repository != "" && !p.NoRepository {
		meta["repository"] = map[string]string{"type": "git", "url": p.Repository}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.versions[p.Name] == nil {
		r.versions[p.Name] = map[string]*published{}
	}
	r.versions[p.Name][p.Version] = &published{pkg: p, tarball: tgz, integrity: integ, meta: meta, atts: atts}
	return integ
}

func (r *Registry) sign(msg []byte) string {
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, r.key, h[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func statement(name, version, digest, predicateType string, predicate map[string]any) []byte {
	if predicate == nil {
		predicate = map[string]any{}
	}
	st, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": "pkg:npm/" + strings.Replace(name, "@", "%40", 1) + "@" + version, "digest": map[string]string{"sha512": digest}}},
		"predicateType": predicateType,
		"predicate":     predicate,
	})
	return st
}

func pae(typ string, payload []byte) []byte {
	return []byte("DSSEv1 " + strconv.Itoa(len(typ)) + " " + typ + " " + strconv.Itoa(len(payload)) + " " + string(payload))
}

func (r *Registry) publishBundle(name, version, digest string, at time.Time) map[string]any {
	payload := statement(name, version, digest, "https://github.com/npm/attestation/tree/main/specs/publish/v0.1", nil)
	sig := r.sign(pae("application/vnd.in-toto+json", payload))
	der, _ := x509.MarshalPKIXPublicKey(&r.key.PublicKey)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	entry := r.log.add(dsseBody(payload, sig, keyPEM), false, at)
	return map[string]any{
		"mediaType":            "application/vnd.dev.sigstore.bundle+json;version=0.2",
		"verificationMaterial": map[string]any{"publicKey": map[string]string{"hint": r.keyID}, "tlogEntries": []any{entry}},
		"dsseEnvelope": map[string]any{"payload": base64.StdEncoding.EncodeToString(payload), "payloadType": "application/vnd.in-toto+json",
			"signatures": []map[string]string{{"sig": sig, "keyid": r.keyID}}},
	}
}

func (r *Registry) provenanceBundle(p Package, digest string) map[string]any {
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	repo := p.ProvenanceRepository
	workflow := repo + "/.github/workflows/release.yml@refs/heads/main"
	u, _ := url.Parse(workflow)
	issuer := p.ProvenanceIssuer
	if issuer == "" {
		issuer = "https://token.actions.githubusercontent.com"
	}
	ext := func(oid asn1.ObjectIdentifier, v string) pkix.Extension {
		b, _ := asn1.MarshalWithParams(v, "utf8")
		return pkix.Extension{Id: oid, Value: b}
	}
	fulcio := func(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, n} }
	// Fulcio certificates live ten minutes around the signing, which the
	// log records as the publication time.
	start := p.Published.Add(-time.Minute)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), NotBefore: start, NotAfter: start.Add(10 * time.Minute),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, URIs: []*url.URL{u},
		ExtraExtensions: []pkix.Extension{ext(fulcio(8), issuer), ext(fulcio(9), workflow), ext(fulcio(12), repo),
			ext(fulcio(13), "0123456789abcdef0123456789abcdef01234567"), ext(fulcio(14), "refs/heads/main")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, r.caCert, &leafKey.PublicKey, r.caKey)
	if err != nil {
		panic(err)
	}
	predicate := map[string]any{"buildDefinition": map[string]any{"buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
		"externalParameters": map[string]any{"workflow": map[string]any{"ref": "refs/heads/main", "repository": repo, "path": ".github/workflows/release.yml"}}}}
	payload := statement(p.Name, p.Version, digest, "https://slsa.dev/provenance/v1", predicate)
	h := sha256.Sum256(pae("application/vnd.in-toto+json", payload))
	sig, _ := ecdsa.SignASN1(rand.Reader, leafKey, h[:])
	sigB64 := base64.StdEncoding.EncodeToString(sig)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	logged := sigB64
	if p.TamperedLog {
		other, _ := ecdsa.SignASN1(rand.Reader, leafKey, make([]byte, 32))
		logged = base64.StdEncoding.EncodeToString(other)
	}
	vm := map[string]any{"x509CertificateChain": map[string]any{"certificates": []map[string]string{{"rawBytes": base64.StdEncoding.EncodeToString(der)}}}}
	if !p.UnloggedProvenance {
		vm["tlogEntries"] = []any{r.log.add(intotoBody(payload, logged, certPEM), p.ForgedTimestamp, p.Published)}
	}
	return map[string]any{
		"mediaType":            "application/vnd.dev.sigstore.bundle+json;version=0.2",
		"verificationMaterial": vm,
		"dsseEnvelope": map[string]any{"payload": base64.StdEncoding.EncodeToString(payload), "payloadType": "application/vnd.in-toto+json",
			"signatures": []map[string]string{{"sig": sigB64, "keyid": ""}}},
	}
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	p, _ := url.PathUnescape(req.URL.EscapedPath())
	r.mu.Lock()
	r.requests[p]++
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case p == "/-/npm/v1/keys":
		der, _ := x509.MarshalPKIXPublicKey(&r.key.PublicKey)
		var expires any
		r.mu.Lock()
		if !r.keyExpires.IsZero() {
			expires = r.keyExpires.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		r.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{{"expires": expires, "keyid": r.keyID,
			"keytype": "ecdsa-sha2-nistp256", "scheme": "ecdsa-sha2-nistp256", "key": base64.StdEncoding.EncodeToString(der)}}})
		return
	case strings.HasPrefix(p, "/-/npm/v1/attestations/"):
		spec := strings.TrimPrefix(p, "/-/npm/v1/attestations/")
		at := strings.LastIndex(spec, "@")
		if at <= 0 {
			http.NotFound(w, req)
			return
		}
		v := r.lookup(spec[:at], spec[at+1:])
		if v == nil {
			http.NotFound(w, req)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"attestations": v.atts})
		return
	case strings.Contains(p, "/-/") && strings.HasSuffix(p, ".tgz"):
		name, file, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/-/")
		version := strings.TrimSuffix(strings.TrimPrefix(file, path.Base(name)+"-"), ".tgz")
		v := r.lookup(name, version)
		if v == nil {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(v.tarball)
		return
	}
	name := strings.TrimPrefix(p, "/")
	r.mu.Lock()
	vs := r.versions[name]
	r.mu.Unlock()
	if vs == nil {
		http.NotFound(w, req)
		return
	}
	doc := map[string]any{"name": name}
	versions := map[string]any{}
	times := map[string]string{}
	var order []string
	for ver, v := range vs {
		versions[ver] = v.meta
		times[ver] = v.pkg.Published.UTC().Format(time.RFC3339)
		order = append(order, ver)
	}
	sort.Strings(order)
	doc["versions"] = versions
	doc["time"] = times
	_ = json.NewEncoder(w).Encode(doc)
}

func (r *Registry) lookup(name, version string) *published {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.versions[name][version]
}

// LockEntry is one package of a lockfile made by Lockfile.
type LockEntry struct {
	Name, Version, Integrity string
	InstallScript            bool
}

// Lockfile returns a package-lock.json (lockfileVersion 3) of the entries,
// resolved from this registry.
func (r *Registry) Lockfile(entries ...LockEntry) []byte {
	pkgs := map[string]any{"": map[string]any{"name": "app", "version": "1.0.0"}}
	for _, e := range entries {
		m := map[string]any{"version": e.Version, "resolved": r.TarballURL(e.Name, e.Version), "integrity": e.Integrity}
		if e.InstallScript {
			m["hasInstallScript"] = true
		}
		pkgs["node_modules/"+e.Name] = m
	}
	b, _ := json.MarshalIndent(map[string]any{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": pkgs}, "", "  ")
	return b
}

// String describes the registry.
func (r *Registry) String() string { return fmt.Sprintf("test registry %s", r.srv.URL) }
