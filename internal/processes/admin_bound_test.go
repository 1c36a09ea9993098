package processes

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminCLIRefusesANumberAnotherUserHolds: in verify-only mode a number
// is one user's. `caddy smsgate add` gives alice a number, and refuses it
// for bob, naming alice (the admin API's 409). With Caddy stopped, add is
// refused whole (only the running gate knows the verify-only key), so it
// binds nothing there either. (Before, bob was given alice's number.)
func TestAdminCLIRefusesANumberAnotherUserHolds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The realm line, and verify_only after it.
	s, adminAddr, config := adminCaddy(t, dir, "localhost\n\t\tverify_only \"a phone-hashing key of 32 bytes or more\"", "badger "+filepath.Join(dir, "store"))
	add := func(user string, where ...string) (string, error) {
		return runInProcess(t, append([]string{"smsgate", "add", "--realm", "localhost", "--user", user, "--phone", "+447400123456", "--address", adminAddr}, where...)...)
	}
	if out, err := add("alice"); err != nil {
		t.Fatalf("add alice: %v\n%s", err, out)
	}
	if out, err := add("bob"); err == nil || !strings.Contains(out, "the number is alice's") {
		t.Errorf("alice's number added for bob: %v\n%s", err, out)
	}
	s.stop()
	if out, err := add("bob", "--config", config); err == nil || !strings.Contains(out, "add works through the running Caddy") {
		t.Errorf("alice's number added for bob with Caddy stopped: %v\n%s", err, out)
	}
}
