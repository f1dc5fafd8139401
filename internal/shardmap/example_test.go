package shardmap_test

import (
	"fmt"

	"github.com/rampartsec/rampart/internal/shardmap"
)

func Example() {
	m := shardmap.New[string, int](1000, 0)
	sh := m.Lock(m.Index("client"))
	sh.Put("client", 3, 100, 0) // value 3 until instant 100
	v, ok := sh.Get("client", 50)
	sh.Unlock()
	fmt.Println(v, ok)
	// Output: 3 true
}
