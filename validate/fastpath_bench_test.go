package validate

import (
	"os"
	"testing"
)

// BenchmarkFastPath compares the two ways of validating the benchmark
// body (testdata/bench-item.json, 1 KB, 20 fields) against its schema:
// the compiled fast path, and decodeJSON plus the schema library.
func BenchmarkFastPath(b *testing.B) {
	body, err := os.ReadFile("testdata/bench-item.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, strict := range []bool{false, true} {
		name := "default"
		if strict {
			name = "strict"
		}
		s, err := Load("testdata/bench.openapi.yaml", Options{Strict: strict})
		if err != nil {
			b.Fatal(err)
		}
		ch := s.defaults["POST /items/{id}"].ops[0].media[0].schema
		if ch.fast == nil {
			b.Fatal("the benchmark schema is not in the fast path's subset")
		}
		b.Run(name+"/compiled", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if fastCheck(body, ch.fast, DefaultMaxDepth) != fastValid {
					b.Fatal("not valid")
				}
			}
		})
		b.Run(name+"/library", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				v, err := decodeJSON(body, DefaultMaxDepth)
				if err != nil {
					b.Fatal(err)
				}
				if err := ch.Validate(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
