package sitetest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// Expire has the HoldStore in dir read the record key as gone from now
// on (a Get, a batch's Get: store.ErrNotFound), as once its TTL ran out:
// Badger's and Redis's TTLs are real time, which a site's clock (Advance)
// does not move, so a test that moves the clock past a record's life
// takes the record away with it. Its writes go on as before; t's end
// brings it back.
func Expire(t *testing.T, dir, key string) {
	t.Helper()
	name := expiredFile(dir, key)
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(name) })
}

// expiredFile is the file that says key of the HoldStore in dir expired.
func expiredFile(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, "expired", hex.EncodeToString(sum[:]))
}

// expired says whether a test had key read as gone (Expire).
func (h *HoldStore) expired(key string) bool {
	_, err := os.Stat(expiredFile(h.Dir, key))
	return err == nil
}
