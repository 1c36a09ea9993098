//go:build !linux

package harness

import (
	"fmt"
	"sync"
)

var locked sync.Map

// lock reserves port within this process only: elsewhere than on Linux
// two copies of the tests rely on the check that nothing listens on the
// port, and on the range below the ephemeral ports.
func lock(port int) (release func(), ok bool) { return lockName(fmt.Sprintf("port-%d", port)) }

// lockName is lock for any name (a ProcessDir's).
func lockName(name string) (release func(), ok bool) {
	if _, taken := locked.LoadOrStore(name, true); taken {
		return nil, false
	}
	return func() { locked.Delete(name) }, true
}
