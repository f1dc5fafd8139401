package selftest_test

import (
	"errors"
	"io/fs"
	"os"
)

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }

// selftestCorpus is the built-in corpus directory, as committed.
func selftestCorpus() fs.FS { return os.DirFS("corpus") }
