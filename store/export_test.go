package store

import "time"

// SetCloseTimeout shortens how long closing waits for a stuck Badger, for
// the tests of that wait; it returns the previous value.
func SetCloseTimeout(d time.Duration) time.Duration {
	old := closeTimeout
	closeTimeout = d
	return old
}
