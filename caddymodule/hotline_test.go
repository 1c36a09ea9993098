package caddymodule

import (
	"testing"
	"unsafe"
)

// TestHotFitsALine: what ServeHTTP reads on every request fits one
// 64-byte line of memory, at the start of the runtime's fields.
func TestHotFitsALine(t *testing.T) {
	if s := unsafe.Sizeof(hot{}); s > 64 {
		t.Fatalf("hot takes %d bytes, more than a line", s)
	}
	if o := unsafe.Offsetof(gate{}.hot); o != 0 {
		t.Fatalf("hot is at %d in gate, not first", o)
	}
}
