//go:build unix

package lockfile

import (
	"os"
	"syscall"
)

// openFlags open without following a final symbolic link and without
// blocking on a FIFO or a device that has no writer.
const openFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
