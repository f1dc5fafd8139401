package bruteforce_test

import (
	"testing"

	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/bruteforce/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) bruteforce.Store {
		s, err := bruteforce.NewMemoryStore(0)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
