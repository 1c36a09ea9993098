package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestCodesTheOldNumberMadeEndWithItAfterARestore: a thief holding
// alice's password and her provisioned phone signs in with its code and
// makes new recovery codes. The admin moves the store (an export with
// the keys, imported into a new one) and only then gives alice her new
// number. The codes his session made must not sign him in: the set's
// maker goes with the export, so that the code's session carries the old
// number's mark (refused where the config no longer gives it) and the
// settle withdraws the set. Through a real Caddy, Badger to Badger and
// Redis to Redis. (Before, the export left the maker out: the code
// signed him in as alice, named by no device or number.)
func TestCodesTheOldNumberMadeEndWithItAfterARestore(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		user := func(number string) string { return "\t\tuser alice " + number + "\n" }
		s := textSite(t, storeLine, []string{"alice"}, user("+14155552671"))
		thief := sitetest.NewClient(t, "alice")
		signIn(t, s, thief)
		stolen := renew(t, thief)
		code, file := s.Admin(http.MethodPost, "/smsgate/export?realm=localhost&with_keys=1", "")
		if code != http.StatusOK || !strings.Contains(file, "recovery") {
			t.Fatalf("export: %d %s", code, file)
		}

		moved := "store badger {DIR}" // a new store of the same kind
		if strings.HasPrefix(storeLine, "store redis") {
			moved = "store redis " + redistest.Server(t)
		}
		s = textSite(t, moved, []string{"alice"}, user("+14155552671"))
		if !strings.HasPrefix(moved, "store redis") {
			moved = "store badger " + s.Store
		}
		if code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", file); code != http.StatusOK {
			t.Fatalf("import: %d %s", code, out)
		}
		s = textSite(t, moved, []string{"alice"}, user("+447400123456"))
		if recoverySignIn(t, s, stolen[0]) {
			t.Fatal("a recovery code the thief made with the phone the config took away signed him in after the store moved")
		}
	})
}
