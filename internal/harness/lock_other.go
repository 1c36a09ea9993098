//go:build !linux

package harness

import "sync"

var locked sync.Map

// lock reserves port within this process only: elsewhere than on Linux
// two copies of the tests rely on the check that nothing listens on the
// port, and on the range below the ephemeral ports.
func lock(port int) (release func(), ok bool) {
	if _, taken := locked.LoadOrStore(port, true); taken {
		return nil, false
	}
	return func() { locked.Delete(port) }, true
}
