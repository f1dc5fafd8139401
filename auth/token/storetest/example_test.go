package storetest_test

import (
	"testing"

	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/token/storetest"
)

// A store implementation runs the suite from its own tests.
func ExampleRun() {
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) token.Store {
			return token.NewMemoryStore() // or a store on a real backend started for t
		})
	}
}
