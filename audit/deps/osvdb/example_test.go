package osvdb_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rampartsec/rampart/audit/deps/osvdb"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "osvdb")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "GHSA-1.json"), []byte(`{"id":"GHSA-1","modified":"2026-01-01T00:00:00Z"}`), 0o644)
	db, info, err := osvdb.Open(dir)
	fmt.Println(db.Records(), info.Updated.Format("2006-01-02"), info.FromDownload, err)
	// Output:
	// 1 2026-01-01 false <nil>
}
