package cfutil

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestASecretsMissingFileIsNamed: a signing_key {file.…} whose file is
// not there said "is its environment variable set?", which sent the admin
// looking for a variable that was never used.
func TestASecretsMissingFileIsNamed(t *testing.T) {
	missing := "{file." + filepath.Join(t.TempDir(), "absent") + "}"
	if _, err := Secret("signing_key", missing); err == nil || !strings.Contains(err.Error(), "is its file ("+missing+") there") {
		t.Fatalf("a missing file: %v", err)
	}
	t.Setenv("SMSGATE_CFUTIL_UNSET", "")
	if _, err := Secret("signing_key", "{env.SMSGATE_CFUTIL_UNSET}"); err == nil || !strings.Contains(err.Error(), "is its environment variable set?") {
		t.Fatalf("an unset variable: %v", err)
	}
}
