package lockfile_test

import (
	"fmt"

	"github.com/rampartsec/rampart/audit/deps/lockfile"
)

func ExampleParse() {
	lock := []byte(`{
  "lockfileVersion": 3,
  "packages": {
    "": {"name": "app"},
    "node_modules/lodash": {
      "version": "4.17.20",
      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz",
      "integrity": "sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==",
      "dev": true
    }
  }
}`)
	// The content decides the format, whatever the file is called.
	f, err := lockfile.Parse("fixture.v3.json", lock)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range f.Packages {
		fmt.Println(f.Kind, p.Name, p.Version, p.Groups, p.Origin, "line", p.Line)
	}
	// Output:
	// package-lock.json lodash 4.17.20 [dev] registry line 5
}
