package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// CycloneDX returns a CycloneDX 1.5 SBOM (JSON) of the binary whose build
// information is info: the main module as the described component, and
// every module linked into it, with its version, package URL and go.sum
// hash. It is deterministic: the serial number is derived from the content
// and the timestamp is the build date.
func CycloneDX(info *buildinfo.BuildInfo, s Stamp) ([]byte, error) {
	type hash struct {
		Alg     string `json:"alg"`
		Content string `json:"content"`
	}
	type property struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	type component struct {
		Type       string     `json:"type"`
		BOMRef     string     `json:"bom-ref"`
		Name       string     `json:"name"`
		Version    string     `json:"version"`
		PURL       string     `json:"purl"`
		Hashes     []hash     `json:"hashes,omitempty"`
		Properties []property `json:"properties,omitempty"`
	}
	type dependency struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	}
	type bom struct {
		BOMFormat    string `json:"bomFormat"`
		SpecVersion  string `json:"specVersion"`
		SerialNumber string `json:"serialNumber"`
		Version      int    `json:"version"`
		Metadata     struct {
			Timestamp string `json:"timestamp"`
			Tools     struct {
				Components []component `json:"components"`
			} `json:"tools"`
			Component component `json:"component"`
		} `json:"metadata"`
		Components   []component  `json:"components"`
		Dependencies []dependency `json:"dependencies"`
	}
	if info.Main.Path == "" {
		return nil, fmt.Errorf("sbom: the binary has no main module in its build information")
	}
	main := component{
		Type: "application", Name: info.Main.Path, Version: s.Version,
		BOMRef: purl(info.Main.Path, s.Version), PURL: purl(info.Main.Path, s.Version),
		Properties: []property{{"rampart:commit", s.Commit}, {"rampart:go_version", info.GoVersion}},
	}
	for _, st := range info.Settings {
		switch st.Key {
		case "CGO_ENABLED", "GOOS", "GOARCH", "-trimpath", "-ldflags":
			if st.Key == "-ldflags" {
				continue // carries the stamp, already above
			}
			main.Properties = append(main.Properties, property{"go:build:" + st.Key, st.Value})
		}
	}
	var b bom
	b.BOMFormat, b.SpecVersion, b.Version = "CycloneDX", "1.5", 1
	b.Metadata.Timestamp = s.Date.UTC().Format(time.RFC3339)
	b.Metadata.Tools.Components = []component{{Type: "application", Name: "rampart releasetool", Version: s.Version,
		BOMRef: "releasetool", PURL: purl(info.Main.Path+"/internal/releasetool", s.Version)}}
	b.Metadata.Component = main
	refs := []string{}
	for _, d := range info.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		c := component{Type: "library", Name: m.Path, Version: m.Version, BOMRef: purl(m.Path, m.Version), PURL: purl(m.Path, m.Version)}
		if h, ok := strings.CutPrefix(m.Sum, "h1:"); ok {
			c.Properties = append(c.Properties, property{"go:module:h1", h})
		}
		if d.Replace != nil {
			c.Properties = append(c.Properties, property{"go:module:replaces", d.Path + "@" + d.Version})
		}
		b.Components = append(b.Components, c)
		refs = append(refs, c.BOMRef)
	}
	slices.SortFunc(b.Components, func(x, y component) int { return strings.Compare(x.BOMRef, y.BOMRef) })
	slices.Sort(refs)
	b.Dependencies = []dependency{{Ref: main.BOMRef, DependsOn: refs}}
	// The serial number must be a UUID URN; derive it from the content so
	// the same build gives the same SBOM.
	b.SerialNumber = ""
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	sum[6] = sum[6]&0x0f | 0x50 // version 5 style: name-based
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant
	b.SerialNumber = fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// purl is the package URL of a Go module (purl-spec, type golang).
func purl(path, version string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "pkg:golang/" + strings.Join(parts, "/") + "@" + url.PathEscape(version)
}
