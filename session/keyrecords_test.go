package session

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTheKeysAGateWritesAreOnesItCanUse: the signing keys a real gate
// keeps in its store (the generated secret, EdDSA keys 1 and 2 after a
// rotation) pass KeyRecordProblem, which an import asks of every keys/
// record, so an export of them imports back; what it refuses, it names
// without quoting the value.
func TestTheKeysAGateWritesAreOnesItCanUse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	m, st := newManager(t, "EdDSA", &now)
	m.ring.rotation = time.Hour
	now = now.Add(2 * time.Hour)
	if _, _, err := m.ring.signing(); err != nil { // makes keys/eddsa/2
		t.Fatal(err)
	}
	var keys []string
	err := st.Scan(context.Background(), "keys/", func(key string, value []byte) error {
		keys = append(keys, key)
		if why := KeyRecordProblem(key, value); why != "" {
			t.Errorf("%s, as the gate wrote it: %s", key, why)
		}
		return nil
	})
	if err != nil || len(keys) != 3 {
		t.Fatalf("the gate's keys: %v %v", keys, err)
	}
	if key := KeyNumbersProblem(keys); key != "" {
		t.Errorf("the gate's own keys have a gap at %s", key)
	}
	for key, value := range map[string]string{
		"keys/secret":   "0123456789012345678901234567890", // 31 bytes
		"keys/zzz":      "01234567890123456789012345678901",
		"keys/eddsa/0":  `{"seed":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`,
		"keys/eddsa/+1": `{"seed":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`,
		"keys/eddsa/1":  `{"seed":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="}`, // 31 bytes
	} {
		why := KeyRecordProblem(key, []byte(value))
		if why == "" || len(value) > 3 && strings.Contains(why, value[:4]) {
			t.Errorf("%s: %q", key, why)
		}
	}
	if key := KeyNumbersProblem([]string{"keys/secret", "keys/eddsa/2", "keys/eddsa/4", "keys/eddsa/3"}); key != "keys/eddsa/2" {
		t.Errorf("keys 2-4 without 1: %q", key)
	}
}
