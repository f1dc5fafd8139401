package access_test

import (
	"testing"

	"github.com/rampartsec/rampart/clientip"
)

func resolver(t testing.TB, trusted ...string) *clientip.Resolver {
	t.Helper()
	res, err := clientip.New(clientip.Config{TrustedProxies: prefixes(t, trusted...)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
