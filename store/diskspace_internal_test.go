package store

import "testing"

// BenchmarkDiskGuard: what the guard (free space, then may-write) adds to
// every Badger write.
func BenchmarkDiskGuard(b *testing.B) {
	g := &diskGuard{path: b.TempDir(), reserve: DiskReserve}
	for b.Loop() {
		if err := g.refuses(); err != nil {
			b.Fatal(err)
		}
	}
}
