package store

import "time"

// SetCloseTimeout shortens how long closing waits for a stuck Badger, for
// the tests of that wait; it returns the previous value.
func SetCloseTimeout(d time.Duration) time.Duration {
	old := closeTimeout
	closeTimeout = d
	return old
}

// Syncs tells how many lasting writes a Badger store opened by OpenBadger
// has synced.
func Syncs(st Store) int64 { return st.(*badgerDB).syncs.Load() }
