package autotls_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/autotls"
)

func TestNew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	storage := filepath.Join(dir, "acme")
	m, err := autotls.New(autotls.Config{Domains: []string{"App.Example.com."}, Storage: storage}, autotls.Options{TLSAddr: "127.0.0.1:8443"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.Domains(); len(got) != 1 || got[0] != "app.example.com" {
		t.Errorf("got domains %q, want [app.example.com]", got)
	}
	if m.Ready() {
		t.Error("ready before any certificate")
	}
	fi, err := os.Stat(storage)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("storage: %v, mode %v, want a 0700 directory", err, fi.Mode())
	}
	protos := m.TLSConfig().NextProtos
	if strings.Join(protos, ",") != "h2,http/1.1,acme-tls/1" {
		t.Errorf("got NextProtos %q", protos)
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  autotls.Config
		opt  autotls.Options
		key  string
	}{
		{"missing root", autotls.Config{Domains: []string{"a.example"}, CARoot: filepath.Join(dir, "none.pem"), Storage: dir}, autotls.Options{TLSAddr: ":443"}, "ca_root"},
		{"root not PEM", autotls.Config{Domains: []string{"a.example"}, CARoot: notPEM, Storage: dir}, autotls.Options{TLSAddr: ":443"}, "ca_root"},
		{"storage is a file", autotls.Config{Domains: []string{"a.example"}, Storage: notPEM}, autotls.Options{TLSAddr: ":443"}, "storage"},
		{"http-01 without listener", autotls.Config{Domains: []string{"a.example"}, Storage: dir, Challenges: []string{"http-01"}}, autotls.Options{TLSAddr: ":443"}, "challenges"},
		{"invalid", autotls.Config{}, autotls.Options{TLSAddr: ":443"}, "domains"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := autotls.New(tt.cfg, tt.opt)
			var fe *autotls.FieldError
			if !errors.As(err, &fe) || fe.Key != tt.key {
				t.Errorf("got %v, want a FieldError for %s", err, tt.key)
			}
		})
	}
}
