package store

import "testing"

// BenchmarkFreeSpace: what the disk guard adds to every Badger write.
func BenchmarkFreeSpace(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		freeSpace(dir)
	}
}
