package enrollment

import (
	"bytes"
	"context"
	"strings"
	"time"
)

// Imported is what an import did: what it left out (NotRestored), and
// whether it replaced the store's signing keys (every realm's): its file
// carries a `keys/` record (an export --with-keys) whose value the store
// held not, as the import's own write found it. Its own export imported
// back replaces nothing. So that its answer can say so: every gate that
// signs with the store's keys adopts the file's at its next look, and
// what it signed with the old ones ends. Decided by the write, not by a
// read before it: of two imports at once, the one whose keys went in over
// the other's replaced them, though the store held its own when it began.
type Imported struct {
	NotRestored
	KeysReplaced bool
}

// KeysReplacedSaid is what an import whose file's signing keys replaced
// the store's says of it (Imported.KeysReplaced, or a partial import's:
// PartialImportError), through the admin API and the CLI alike.
const KeysReplacedSaid = "the file's signing keys replaced the store's (every realm's): every gate that signs with the store's keys (no signing_key in its config) adopts them, a running one within a few seconds, and refuses the sessions, trusted browsers and codes made with the old keys: their users sign in again"

// isSigningKey reports whether key is one of the store's signing keys.
func isSigningKey(key string) bool { return strings.HasPrefix(key, "keys/") }

// replaces reports whether writing all over held (what the records of
// signing held just before: none, for a key not in it) changed one.
func replaces(signing []string, held, all map[string][]byte) bool {
	for _, key := range signing {
		if was, ok := held[key]; !ok || !bytes.Equal(was, all[key]) {
			return true
		}
	}
	return false
}

// putOne writes one record of an import, with no expiry; a signing key in
// one atomic step with reading what it held, replaced saying whether
// that was another value, or none.
func (s *Admin) putOne(ctx context.Context, key string, value []byte) (replaced bool, err error) {
	if !isSigningKey(key) {
		return false, s.Store.Put(ctx, key, value, 0)
	}
	err = s.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		replaced = !found || !bytes.Equal(old, value)
		return value, 0, nil
	})
	return replaced, err
}
