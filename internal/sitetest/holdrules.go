package sitetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A Hold is a rule of a HoldStore's: the operation at which it holds a
// request once armed (Park), of one user's records. A test adds its own
// (AddHold), which it removes as it ends: no test's rule catches
// another's requests or takes the place of another's (before, one global
// func, which a file sorting later replaced, and which held any user's
// app-setup reads and device writes of any test: review36b F5).
type Hold struct {
	// Of is whose records it matches: the user (or the realm, the
	// address) that is one of the key's parts between its slashes.
	Of string `json:"of"`
	// Op is the operation, once it ran: "read" (a Get, a Counter, alone
	// or in a batch), "update" (an Update's read of its record, before
	// the change: held there, the change is made on what it read, as a
	// read then a write would be, and the store's own Update must find it
	// stale), "write" (a Put, an Update, a PutIfAbsent or a batch's
	// Swap that wrote) or "scanned" (a Scan, its key the prefix).
	Op string `json:"op"`
	// Key is the record's key, or its pattern (path.Match: "*" is one
	// part of it).
	Key string `json:"key"`
}

// matches says whether the rule holds op on key.
func (r Hold) matches(op, key string) bool {
	ok, _ := path.Match(r.Key, key)
	return ok && op == r.Op && slices.Contains(strings.Split(key, "/"), r.Of)
}

// AddHold adds rule to the HoldStore in dir (its file in dir's "holds")
// until t ends. Every process of the binary reads it there (Caddy runs in
// a child).
func AddHold(t *testing.T, dir string, rule Hold) {
	t.Helper()
	if rule.Of == "" || rule.Op == "" || rule.Key == "" {
		t.Fatalf("a hold rule names whose records, the op and the key: %+v", rule)
	}
	raw, _ := json.Marshal(rule)
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	name := filepath.Join(dir, "holds", hex.EncodeToString(id)+".json")
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name+".tmp", raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(name+".tmp", name); err != nil { // whole, once seen
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(name) })
}

// holds says whether a rule added to h's dir holds op on key.
func (h *HoldStore) holds(op, key string) bool {
	files, _ := filepath.Glob(filepath.Join(h.Dir, "holds", "*.json"))
	for _, f := range files {
		var rule Hold
		if raw, err := os.ReadFile(f); err == nil && json.Unmarshal(raw, &rule) == nil && rule.matches(op, key) {
			return true
		}
	}
	return false
}
