package caddymodule_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAKeptSessionsMarkOutlivesARemovalWrittenButAnsweredAsAnError: as
// TestWhatTheThiefsKeptRecoverySessionAddsGoesWithTheNumber, but the
// store writes alice's device list without Y and its answer is lost (a
// connection dropped before the reply): no end is written, and the page
// asks again. The removal asked again finds Y gone and writes in its end
// the mark Y recorded, as Y's owed notice keeps it, so Z, added from the
// kept session, goes with the old number at the reload. On Badger and
// Redis, through a real Caddy. (Before, review17: the end asked again
// had no mark, and Z signed him in after the reload.)
func TestAKeptSessionsMarkOutlivesARemovalWrittenButAnsweredAsAnError(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		user := func(number string) string {
			return "\t\tuser alice " + number + "\n\t\tallow_remove_last\n" + limitsOff
		}
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{"alice"}, user("+14155552671"))
		thief := sitetest.NewClient(t, "alice")
		signIn(t, s, thief)
		y := addPhone(t, s, thief, "+14155559001", "Y")
		fromY := sitetest.NewClient(t, "alice")
		signInWith(t, s, fromY, y, false)
		kept := recoveryBrowser(t, s, renew(t, fromY)[0])
		if err := os.WriteFile(filepath.Join(dir, "break"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		res := kept.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {y}, "confirm": {"1"}, "csrf": {kept.CSRF("/.smsgate/devices")}})
		if err := os.Remove(filepath.Join(dir, "down")); err != nil {
			t.Fatalf("the store never went away at the removal's write (%v): %d", err, res.StatusCode)
		}
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a removal whose answer was lost: %d, want 503", res.StatusCode)
		}
		removePhone(t, s, "devices page", kept, y) // asked again: Y gone
		sitetest.ExpectBody(t, kept.Get("/"), "Hello, alice!")
		z := addPhone(t, s, kept, "+14155559002", "Z")

		s = textSite(t, keep(s), []string{"alice"}, user("+447400123456"))
		if phoneSignsIn(t, s, z) {
			t.Error("the phone the kept recovery session added after the removal asked again signed him in after the config took the number away")
		}
		if got := deviceNames(t, s); got != "" {
			t.Errorf("alice's devices after the reload: %q; want none", got)
		}
	})
}
