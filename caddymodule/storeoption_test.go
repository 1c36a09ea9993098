package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAStoreOptionChangedKeepsTheMemory: a gate remembers a store by what
// names its data (Badger's folder; Redis's addresses, database and key
// prefix), not by its `store` config whole. A reload that names the same
// store otherwise (Badger's folder with a trailing slash; Redis with its
// ACL user written out beside the same password) is the same store: it
// was wiped meanwhile (no gate on it then), and enrollment pauses. Keyed
// by the config whole, the reload started a fresh memory, took the empty
// store for a new one, and bob enrolled.
func TestAStoreOptionChangedKeepsTheMemory(t *testing.T) {
	sitetest.Parallel(t) // the parts too
	const site = `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		bob %[1]s
	}
	smsgate {
		%[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			var before, after string
			var wipe func()
			if kind == "badger" {
				dir := filepath.Join(t.TempDir(), "store")
				before, after = "store badger "+dir, "store badger "+dir+"/"
				wipe = func() {
					if err := os.RemoveAll(dir); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				r := redistest.StartWith(t, "--requirepass", "s3cret")
				before = fmt.Sprintf("store redis %s {\n\t\t\tpassword s3cret\n\t\t}", r.Addr)
				after = fmt.Sprintf("store redis %s {\n\t\t\tusername default\n\t\t\tpassword s3cret\n\t\t}", r.Addr)
				wipe = r.Restart // a new server at the address, empty
			}
			s := sitetest.Start(t, fmt.Sprintf(site, sitetest.DemoHash, before))
			alice := sitetest.NewClient(t, "alice")
			tok := alice.CSRF("/.smsgate/enroll")
			sitetest.Expect(t, alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")

			// A config on another store lets go of it (Badger's folder is
			// closed), so that no gate watches it while it is wiped.
			sitetest.Start(t, fmt.Sprintf(site, sitetest.DemoHash, "store badger {DIR}"))
			wipe()
			sitetest.Start(t, fmt.Sprintf(site, sitetest.DemoHash, after))
			bob := sitetest.NewClient(t, "bob")
			res := bob.Get("/.smsgate/enroll")
			sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
			sitetest.ExpectBody(t, res, "New enrollments are paused")
		})
	}
}
