//go:build !unix

package store

// freeSpace cannot tell on this system; nothing is refused.
func freeSpace(string) (uint64, bool) { return 0, false }

// writable cannot tell on this system; nothing is refused.
func writable(string) bool { return true }
