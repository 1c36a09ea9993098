package caddymodule_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAProvisionedPhoneTakenAwayEndsWhatItEarned: a provisioned user's
// phone (the config's `user` line) is stolen with their password; the
// thief signs in with its code and has his browser trusted (30 days).
// The admin gives the user their new number in the config and reloads
// it: the thief's session and trust end with the phone, and the user's
// sign-in with the new one lasts through a reload that changes nothing.
// On Badger and Redis, through a real Caddy. (Before, a session and a
// trust the config's phone earned named no device and nothing ended
// them: "Hello, alice!" after the reload, and the trust signed the thief
// in again without a code.)
func TestAProvisionedPhoneTakenAwayEndsWhatItEarned(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n\t\tuser alice +14155552671\n")
		thief := thiefTrusted(t, s)

		same := keep(s) // the store, for the loads after
		s = textSite(t, same, []string{"alice"}, "\t\tremember 30d\n\t\tuser alice +447400123456\n")
		shutOut(t, thief, "the config taking the phone away")
		alice := sitetest.NewClient(t, "alice")
		s.Advance(time.Second) // past the revocation's second (a token's iat is in whole seconds)
		signIn(t, s, alice)
		s = textSite(t, same, []string{"alice"}, "\t\tremember 30d\n\t\tuser alice +447400123456\n")
		alice.HTTP.CloseIdleConnections()
		sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
	})
}

// TestAProvisionedUsersLineDeletedEndsWhatItsPhoneEarned: as above, but
// the admin deletes alice's `user` line (a leaver, or her lost phone's
// line) and reloads: the thief's session and trust, which basic_auth
// still lets through (it names alice), end with it, on Badger and Redis.
// (Before, only a changed number ended them: "Hello, alice!" after the
// reload, and the trust signed him in again.)
func TestAProvisionedUsersLineDeletedEndsWhatItsPhoneEarned(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n\t\tuser alice +14155552671\n")
		thief := thiefTrusted(t, s)

		textSite(t, keep(s), []string{"alice"}, "\t\tremember 30d\n")
		shutOut(t, thief, "the deletion of alice's user line")
	})
}

// TestAProvisionedPhoneTakenAwayWhileTheStoreIsDownEndsOnceItIsBack: the
// reload that gives alice her new number finds the store unreadable (its
// provisioned numbers: sitetest.Holds.Fail). Caddy starts all the same,
// and once the store answers again the start is settled: the thief's
// session and trust end. (Before, the failure was logged and nothing
// ended until the next load.)
func TestAProvisionedPhoneTakenAwayWhileTheStoreIsDownEndsOnceItIsBack(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	s := textSite(t, "store smsgate_test_hold "+dir+" badger {DIR}", []string{"alice"}, "\t\tremember 30d\n\t\tuser alice +14155552671\n")
	thief := thiefTrusted(t, s)

	if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sitetest.Shorten(t, "settle-retry", 100*time.Millisecond) // admin's settleRetry, 1 s
	next := textSite(t, "store smsgate_test_hold "+dir+" badger "+s.Store, []string{"alice"}, "\t\tremember 30d\n\t\tuser alice +447400123456\n")
	time.Sleep(300 * time.Millisecond) // past the first two retries (0.1 s, 0.3 s), which fail too
	if len(next.LogEntries("provisioned_number_changed")) != 0 {
		t.Fatal("settled while the store could not be read")
	}
	if err := os.Remove(filepath.Join(dir, "fail")); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); len(next.LogEntries("provisioned_number_changed")) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the number taken away while the store was down ended nothing once it was back")
		}
	}
	shutOut(t, thief, "the config taking the phone away")
}

// thiefTrusted signs a thief in at s with the code texted to alice's
// provisioned phone, his browser trusted (remember).
func thiefTrusted(t *testing.T, s *sitetest.Site) *sitetest.Client {
	t.Helper()
	thief := sitetest.NewClient(t, "alice")
	tok := codeSent(t, thief)
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, thief.Get("/"), "Hello, alice!")
	return thief
}

// shutOut fails t unless, after what, neither the thief's session nor his
// trusted browser signs him in.
func shutOut(t *testing.T, thief *sitetest.Client, what string) {
	t.Helper()
	thief.HTTP.CloseIdleConnections()
	if res := thief.Get("/"); res.StatusCode == http.StatusOK {
		t.Errorf("the thief's session outlived %s: %s", what, res.Text)
	}
	thief.SetCookie("smsgate_session", "")
	if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
		t.Errorf("the thief's trusted browser signed in again after %s", what)
	}
}
