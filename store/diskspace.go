package store

import (
	"errors"
	"fmt"
)

// ErrDiskFull refuses a write while the Badger folder's disk is nearly
// full. Badger writes through memory-mapped files that the kernel fills
// in lazily: on a full disk a write does not fail, it kills the process
// (SIGBUS) and every site with it. So the store stops writing while there
// is still room, and sign-ins get a 503 while signed-in users keep going.
var ErrDiskFull = errors.New("badger store: the disk is nearly full; writes are refused until space is freed")

// ErrUnwritable refuses a write while the Badger folder cannot be written
// (made immutable, read-only or another owner's): Badger's next write to
// its memory-mapped files would kill the process just as a full disk does.
var ErrUnwritable = errors.New("badger store: its folder cannot be written; writes are refused until it can")

// DiskReserve is the free space (bytes) below which Badger writes stop: enough for the
// mapped files Badger may still fill (two memtables' logs and two value
// logs at the sizes openBadger sets), with room to spare.
const DiskReserve = 2*memTableSize + 2*valueLogFileSize + 16<<20

// diskGuard reads the free space of a folder, and whether it may be
// written, before each write: the two system calls cost about a microsecond, and polling would leave a window in which a
// disk filled by something else kills the process on the next write.
type diskGuard struct {
	path    string
	reserve uint64
}

// refuses says why writes must stop now, or nil; nothing is refused where
// the system cannot tell.
func (g *diskGuard) refuses() error {
	if free, ok := freeSpace(g.path); ok && free < g.reserve {
		return ErrDiskFull
	}
	if !writable(g.path) {
		return ErrUnwritable
	}
	return nil
}

// opening refuses to open a database on a disk that is already too full.
func (g *diskGuard) opening() error {
	if free, ok := freeSpace(g.path); ok && free < g.reserve {
		return fmt.Errorf("badger store at %s: only %d MiB free on its disk; it needs at least %d MiB", g.path, free>>20, g.reserve>>20)
	}
	return nil
}
