package continuity

import "testing"

// TestWatchesOfUnnamedStoresRememberApart: a Watch opened with no
// Identity (the unit tests of session and admin open one on a store of
// their own each) remembers its store alone. Before, "" was one name in
// the process's memories: one test's store that held users made the next
// test's new, empty store look wiped, frozen ("New enrollments are
// paused"), whichever ran first.
func TestWatchesOfUnnamedStoresRememberApart(t *testing.T) {
	first, ch := gate(t, badger(t), "", "", true)
	if ch.Frozen != nil || first.Frozen() != nil {
		t.Fatal("a new store frozen")
	}
	if err := first.SawUsers(ctx); err != nil {
		t.Fatal(err)
	}
	second, ch := gate(t, badger(t), t.TempDir(), "", false)
	if ch.Frozen != nil || second.Frozen() != nil {
		t.Fatalf("another test's new store, named by no identity either, was frozen: %+v", second.Frozen())
	}
}
