package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestFullDiskThroughCaddy: the Badger folder's disk fills up while Caddy
// runs. Signed-in users keep getting in; a sign-in gets a clear 503 (no
// crash, no stack, the cause in the log); once space is freed, sign-ins
// work again without a restart.
func TestFullDiskThroughCaddy(t *testing.T) {
	sitetest.Parallel(t)
	disk := harness.SmallDisk(t, store.DiskReserve+48<<20)
	storeFault(t, disk, "disk is nearly full", func() func() { return harness.Fill(t, disk) })
}

// TestImmutableFolderThroughCaddy: the same when the Badger folder is made
// immutable (chattr +i) while Caddy runs.
func TestImmutableFolderThroughCaddy(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	storeFault(t, dir, "folder cannot be written", func() func() { return harness.Immutable(t, filepath.Join(dir, "smsgate")) })
}

// storeFault runs a site on a Badger store in dir, signs alice in, breaks
// the store (the returned func repairs it), and checks what users see.
func storeFault(t *testing.T, disk, logged string, breakStore func() (repair func())) {
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		bob %[1]s
	}
	smsgate {
		store badger %[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, filepath.Join(disk, "smsgate")))
	// Let go of the store before the disk is unmounted.
	t.Cleanup(func() { sitetest.Start(t, "http://localhost:{HTTP_PORT} {\n\trespond ok\n}") })
	alice := sitetest.NewClient(t, "alice")
	tok := alice.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")

	repair := breakStore()
	for i := 0; i < 20; i++ {
		res := alice.Get("/")
		sitetest.Expect(t, res, http.StatusOK, "")
		sitetest.ExpectBody(t, res, "Hello, alice!")
	}
	bob := sitetest.NewClient(t, "bob")
	tok = bob.CSRF("/.smsgate/enroll")
	res := bob.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	if strings.Contains(res.Text, "goroutine") || strings.Contains(res.Text, "badger") {
		t.Fatalf("the 503 shows the cause or a stack:\n%s", res.Text)
	}
	if !strings.Contains(fmt.Sprint(s.LogEntries("starting challenge")), logged) {
		t.Fatalf("the log does not say %q", logged)
	}

	repair()
	tok = bob.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, bob.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, bob.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
}
