package registry_test

import (
	"fmt"

	"github.com/rampartsec/rampart/audit/deps/registry"
)

func ExampleVerifyIntegrity() {
	_, err := registry.VerifyIntegrity("sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==", []byte("tampered content"))
	fmt.Println(err)
	// Output: registry: content does not match its integrity hash (sha512)
}
