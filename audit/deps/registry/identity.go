package registry

import (
	"crypto/x509"
	"encoding/asn1"
	"net/url"
	"strings"
)

// Identity is who a Fulcio certificate was issued to: the CI workload that
// built and published a package.
type Identity struct {
	// Issuer is the OIDC issuer that vouched for the workload, e.g.
	// "https://token.actions.githubusercontent.com".
	Issuer string `json:"issuer"`
	// SourceRepository is the repository the build ran for, as a URL
	// ("https://github.com/owner/repo").
	SourceRepository string `json:"source_repository"`
	// SourceRef and SourceDigest are the git ref and commit built.
	SourceRef    string `json:"source_ref,omitempty"`
	SourceDigest string `json:"source_digest,omitempty"`
	// Workflow is the workflow that signed (the certificate's subject
	// alternative name or build signer URI).
	Workflow string `json:"workflow"`
}

// Fulcio certificate extensions: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md.
var (
	oidIssuerV1             = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidGitHubWorkflowRepoV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 5}
	oidGitHubWorkflowRefV1  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 6}
	oidGitHubWorkflowSHAV1  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 3}
	oidIssuerV2             = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	oidBuildSignerURI       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 9}
	oidSourceRepositoryURI  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 12}
	oidSourceRepoDigest     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 13}
	oidSourceRepoRef        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 14}
)

// Issuers npm accepts provenance from, and the host of the repositories
// each vouches for.
var provenanceIssuers = map[string]string{
	"https://token.actions.githubusercontent.com": "github.com",
	"https://gitlab.com":                          "gitlab.com",
}

// CertificateIdentity reads the Fulcio extensions of a certificate. The
// version 1 extensions (raw strings, certificates before 2023) are read
// when the version 2 ones (DER strings) are absent.
func CertificateIdentity(c *x509.Certificate) Identity {
	var id Identity
	v1 := map[string]string{}
	for _, e := range c.Extensions {
		var s string
		switch {
		case e.Id.Equal(oidIssuerV1), e.Id.Equal(oidGitHubWorkflowRepoV1), e.Id.Equal(oidGitHubWorkflowRefV1), e.Id.Equal(oidGitHubWorkflowSHAV1):
			v1[e.Id.String()] = string(e.Value)
			continue
		}
		if rest, err := asn1.UnmarshalWithParams(e.Value, &s, "utf8"); err != nil || len(rest) > 0 {
			continue
		}
		switch {
		case e.Id.Equal(oidIssuerV2):
			id.Issuer = s
		case e.Id.Equal(oidBuildSignerURI):
			id.Workflow = s
		case e.Id.Equal(oidSourceRepositoryURI):
			id.SourceRepository = s
		case e.Id.Equal(oidSourceRepoDigest):
			id.SourceDigest = s
		case e.Id.Equal(oidSourceRepoRef):
			id.SourceRef = s
		}
	}
	if id.Issuer == "" {
		id.Issuer = v1[oidIssuerV1.String()]
	}
	if id.SourceRepository == "" && id.Issuer == "https://token.actions.githubusercontent.com" && v1[oidGitHubWorkflowRepoV1.String()] != "" {
		id.SourceRepository = "https://github.com/" + v1[oidGitHubWorkflowRepoV1.String()]
	}
	if id.SourceRef == "" {
		id.SourceRef = v1[oidGitHubWorkflowRefV1.String()]
	}
	if id.SourceDigest == "" {
		id.SourceDigest = v1[oidGitHubWorkflowSHAV1.String()]
	}
	if id.Workflow == "" && len(c.URIs) > 0 {
		id.Workflow = c.URIs[0].String()
	}
	return id
}

// NormalizeRepository turns the ways package.json names a repository into
// one comparable URL, "https://host/owner/repo" in lower case:
// "git+https://github.com/o/r.git", "git://github.com/o/r",
// "git+ssh://git@github.com/o/r.git", "git@github.com:o/r.git",
// "github:o/r", "gitlab:o/r" and the shorthand "o/r" (GitHub). It returns
// "" for what names no repository.
func NormalizeRepository(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return ""
	}
	for prefix, host := range map[string]string{"github:": "github.com", "gitlab:": "gitlab.com", "bitbucket:": "bitbucket.org"} {
		if strings.HasPrefix(s, prefix) {
			return clean("https://" + host + "/" + strings.TrimPrefix(s, prefix))
		}
	}
	// scp-like "git@github.com:o/r.git"
	if at := strings.Index(s, "@"); at >= 0 && !strings.Contains(s, "://") {
		if colon := strings.Index(s[at:], ":"); colon > 0 {
			return clean("https://" + s[at+1:at+colon] + "/" + s[at+colon+1:])
		}
	}
	if !strings.Contains(s, "://") {
		if strings.Count(s, "/") == 1 && !strings.ContainsAny(s, " :") {
			return clean("https://github.com/" + s)
		}
		return ""
	}
	s = strings.TrimPrefix(s, "git+")
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	return clean("https://" + u.Hostname() + u.Path)
}

// clean lowers a candidate "https://host/path" and drops what follows
// the repository in the path and a ".git" suffix; it returns "" unless the
// result is a plain URL of a host and a path of at least two segments in
// letters, digits and "._~-".
func clean(s string) string {
	rest, ok := strings.CutPrefix(strings.ToLower(s), "https://")
	if !ok {
		return ""
	}
	host, p, ok := strings.Cut(rest, "/")
	host = strings.TrimPrefix(host, "www.")
	if !ok || host == "" || !plain(host, ".-:") {
		return ""
	}
	// A repository URL may point inside the repository: GitHub names a
	// repository by its first two segments (".../o/r/tree/main/pkg"),
	// GitLab ends the project path at "/-/" (groups nest).
	if i := strings.Index(p, "/-/"); i >= 0 {
		p = p[:i]
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if host == "github.com" && len(segs) > 2 {
		segs = segs[:2]
	}
	for strings.HasSuffix(segs[len(segs)-1], ".git") {
		segs[len(segs)-1] = strings.TrimSuffix(segs[len(segs)-1], ".git")
	}
	if len(segs) < 2 {
		return ""
	}
	for _, seg := range segs {
		if seg == "" || seg == "." || seg == ".." || !plain(seg, "._~-") {
			return ""
		}
	}
	return "https://" + host + "/" + strings.Join(segs, "/")
}

// plain reports whether s holds only lower-case letters, digits and the
// runes of extra.
func plain(s, extra string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(extra, r)) {
			return false
		}
	}
	return true
}
