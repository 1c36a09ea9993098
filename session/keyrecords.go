package session

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// KeyRecordProblem says why a signing-key record (under keys/) that an
// import carries is one no gate can use, or "" when a gate can: the
// generated secret (keys/secret, at least secretLen bytes, as
// storedSecret reads it) or an EdDSA key (keys/eddsa/N, N from 1, a seed
// of ed25519.SeedSize bytes: keyring.load). It never quotes the value.
func KeyRecordProblem(key string, value []byte) string {
	if key == SecretRecord {
		if len(value) < secretLen {
			return fmt.Sprintf("%d bytes, and a signing key is at least %d", len(value), secretLen)
		}
		return ""
	}
	if n, ok := strings.CutPrefix(key, "keys/eddsa/"); ok {
		if i, err := strconv.Atoi(n); err != nil || i < 1 || edKeyName(i) != key {
			return "a gate reads keys/eddsa/1, 2, 3…"
		}
		var rec edKeyRecord
		if json.Unmarshal(value, &rec) != nil || len(rec.Seed) != ed25519.SeedSize {
			return fmt.Sprintf("no session key (a seed of %d bytes and when it was made)", ed25519.SeedSize)
		}
		return ""
	}
	return "the signing keys a gate reads are keys/secret and keys/eddsa/1, 2, 3…"
}

// KeyNumbersProblem refuses EdDSA keys with a gap among those an import
// carries (an export carries them all, from 1): a gate reads from
// keys/eddsa/1 up to the first missing, so a key past a gap is never
// read. It returns the first key past the gap, or "".
func KeyNumbersProblem(keys []string) string {
	var ns []int
	for _, key := range keys {
		if n, ok := strings.CutPrefix(key, "keys/eddsa/"); ok {
			i, _ := strconv.Atoi(n)
			ns = append(ns, i)
		}
	}
	slices.Sort(ns)
	for want, i := range slices.Compact(ns) {
		if i != want+1 {
			return edKeyName(i)
		}
	}
	return ""
}
