package caddymodule_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// heldFlow is the user whose pages the hold store holds at their reads
// of her records (the test's sitetest.AddHold).
const heldFlow = "gwen"

// TestAFlowReadUnderTheOldSecretIsNotCarriedOverToTheNew: a page of a
// sign-in that read its flow under the store's old secret and saves it
// once the gate adopted the new one (an import's) saves a fresh flow, not
// the old one signed and sealed with the new keys: a flow begun under the
// old secret opens no more, as a session signed with it does not. On
// Badger and Redis, through a real Caddy, the page held at its read of
// gwen's records until the gate's flows follow the new secret. Before,
// the old flow (its form token) went on under the new secret for as long
// as it was kept alive: the flake of
// TestADeviceTheThiefAddedGoesWithTheNumberAfterANewSecret ("did not
// adopt the imported secret in 30 s", a verify page of its poll across
// the adoption).
func TestAFlowReadUnderTheOldSecretIsNotCarriedOverToTheNew(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		sitetest.Shorten(t, "store-watch", 200*time.Millisecond) // the gate's next look, sooner
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{heldFlow, "bob"},
			"\t\tuser "+heldFlow+" +14155552671\n\t\tuser bob +14155550199\n"+limitsOff)
		held, other := sitetest.NewClient(t, heldFlow), sitetest.NewClient(t, "bob")
		begun, was := flowBegun(t, held), flowBegun(t, other)
		sitetest.AddHold(t, dir, sitetest.Hold{Of: heldFlow, Op: "read", Key: "*/*/" + heldFlow})
		parked := sitetest.Park(t, dir, func() *sitetest.Response { return held.Get("/.smsgate/verify") })
		importAnotherSecret(t, s)
		for deadline := time.Now().Add(30 * time.Second); other.CSRF("/.smsgate/verify") == was; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the gate's flows did not follow the imported secret in 30 s")
			}
		}
		if res := parked.Release(t); res.StatusCode != http.StatusOK {
			t.Fatalf("the held verify page: %d", res.StatusCode)
		}
		if again := held.CSRF("/.smsgate/verify"); again == begun {
			t.Error("a flow begun under the old secret, its page held across the adoption of the new, still opens (its form token shown again)")
		}
	})
}

// flowBegun begins c's sign-in and answers its flow's form token.
func flowBegun(t *testing.T, c *sitetest.Client) string {
	t.Helper()
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
	begun := c.CSRF("/.smsgate/verify")
	if again := c.CSRF("/.smsgate/verify"); again != begun {
		t.Fatalf("a flow just begun shows another form token at once: %q, then %q", begun, again)
	}
	return begun
}

// importAnotherSecret imports a new signing secret into s's store (as
// from another store's export), for its gate to adopt at its next look.
func importAnotherSecret(t *testing.T, s *sitetest.Site) {
	t.Helper()
	other := make([]byte, 32)
	_, _ = rand.Read(other)
	value, _ := json.Marshal(other)
	if code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", `[{"key":"b64:keys/secret","value":`+string(value)+`}]`); code != http.StatusOK {
		t.Fatalf("importing another secret: %d %s", code, out)
	}
}
