package pages_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// uncounted is the user whose count of sessions pushed off the list
// cannot be read while the hold store's file "fail" exists; their list
// of sessions can.
const uncounted = "dora"

// This init runs after signout_test.go's (files in name order), whose
// rule it keeps for every other user.
func init() {
	listFails := sitetest.Holds.Fail
	sitetest.Holds.Fail = func(key string) bool {
		if strings.HasSuffix(key, "/"+uncounted) {
			return strings.HasPrefix(key, "sessions-unlisted/")
		}
		return listFails != nil && listFails(key)
	}
}

// TestTheConsoleSaysWhenItCannotCountTheSessionsNotListed: the store
// cannot answer how many of dora's sessions were pushed off her list. The
// admin's console lists her sessions, and says that those not listed
// could not be counted, that some may be live. Through a real Caddy.
// (Before, a failed count showed as none: nothing told the admin to look
// again, or to sign dora out everywhere.)
func TestTheConsoleSaysWhenItCannotCountTheSessionsNotListed(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	site := strings.Replace(sitetest.NamedUsersSite, "user carol +14155552671", "user "+uncounted+" +14155552671", 1)
	site = strings.Replace(site, "store badger {DIR}", "store smsgate_test_hold "+dir+" badger {DIR}", 1)
	s := sitetest.Start(t, site)
	dora, admin := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	dora.Header = http.Header{"User-Agent": {sitetest.FirefoxOnLinux}}
	sitetest.SignInAs(t, s, dora, uncounted)
	sitetest.SignInAs(t, s, admin, "alice")

	path := "/.smsgate/admin/user?name=" + uncounted
	const cannot = "could not be counted: some may be live"
	if page := admin.Get(path); page.StatusCode != http.StatusOK || strings.Contains(page.Text, cannot) {
		t.Fatalf("the console, the store answering: %d\n%s", page.StatusCode, page.Text)
	}
	if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	page := admin.Get(path)
	_ = os.Remove(filepath.Join(dir, "fail"))
	sitetest.Expect(t, page, http.StatusOK, "")
	sitetest.ExpectBody(t, page, "Firefox on Linux") // the list stands
	sitetest.ExpectBody(t, page, `<p class="error">The sessions pushed off this list by newer ones `+cannot)
}
