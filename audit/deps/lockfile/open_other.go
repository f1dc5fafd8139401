//go:build !unix

package lockfile

import "os"

// openFlags: elsewhere the Lstat check before opening and the Stat check
// after it are the defence.
const openFlags = os.O_RDONLY
