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

// TestTheDevicesPageAskingARemovalAgainListsTheRest: dora removes her lost
// phone on the devices page, and the store fails once, at the end of what
// it earned, after the phone went. The 503 that asks her again is the
// devices page all the same: her other phone listed (with its Edit), the
// lost one only in the question, her trusted browser (her laptop's;
// the thief's trust had ended before the store failed). On Badger and Redis, through a
// real Caddy. (Before: the question alone, no list, no trusted browsers —
// walk22.)
func TestTheDevicesPageAskingARemovalAgainListsTheRest(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, dir, lost, kept, thief, dora := lostPhoneSite(t, storeLine, failingEnd)
		signInWith(t, s, sitetest.NewClient(t, failingEnd), kept, true) // her laptop
		tok := dora.CSRF("/.smsgate/devices")
		// Her own session's end, read first (the page's check that it
		// still lives), is spared: the removal's end fails.
		if err := os.WriteFile(filepath.Join(dir, "spare"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fail-once"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		res := dora.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {tok}})
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a removal whose end failed: %d, want 503", res.StatusCode)
		}
		if !strings.Contains(res.Text, `name="device" value="`+lost+`"><input type="hidden" name="confirm" value="1">`) {
			t.Fatalf("a removal whose end failed does not ask again:\n%s", res.Text)
		}
		if !strings.Contains(res.Text, `id="name-`+kept+`"`) || strings.Contains(res.Text, `id="name-`+lost+`"`) {
			t.Fatalf("the page asking again does not list her other phone alone:\n%s", res.Text)
		}
		if !strings.Contains(res.Text, "Trusted browsers") || strings.Count(res.Text, `name="trust" value=`) != 1 {
			t.Fatalf("the page asking again does not list her laptop's trust:\n%s", res.Text)
		}
		if !strings.Contains(res.Text, "Recovery codes") {
			t.Fatalf("the page asking again has no recovery codes section:\n%s", res.Text)
		}
		again := sitetest.CSRFField.FindStringSubmatch(res.Text)[1]
		sitetest.Expect(t, dora.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {again}}), http.StatusOK, "")
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatal("the thief's session outlived the removal asked again")
		}
	})
}

// failingCount is the user whose recovery codes the hold store fails to
// read while its file "fail" exists (renewal_test.go's Holds.Fail).
const failingCount = "rhea"

// TestTheDevicesPageSaysNothingOfRecoveryCodesItCannotCount (review24 O1):
// when the store fails the read of rhea's recovery codes, her devices page
// (and the 503 that asks a removal again, served just when the store
// fails) leaves their count out, rather than saying she has none left. On
// Badger and Redis, through a real Caddy. (Before: "None left.".)
func TestTheDevicesPageSaysNothingOfRecoveryCodesItCannotCount(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{failingCount}, limitsOff)
		addUser(t, s, failingCount, "+14155552671")
		rhea := sitetest.NewClient(t, failingCount)
		signIn(t, s, rhea)
		if res := rhea.Get("/.smsgate/devices"); !strings.Contains(res.Text, "unused") && !strings.Contains(res.Text, "None left") && !strings.Contains(res.Text, "no recovery codes yet") {
			t.Fatalf("the devices page says nothing of her recovery codes while the store answers:\n%s", res.Text)
		}
		if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		res := rhea.Get("/.smsgate/devices")
		if res.StatusCode != http.StatusOK || strings.Contains(res.Text, "None left") || strings.Contains(res.Text, "unused") || strings.Contains(res.Text, "no recovery codes yet") {
			t.Errorf("the devices page, her recovery codes unread: %d\n%s", res.StatusCode, res.Text)
		}
		rhea.Accept = "application/json"
		if res := rhea.Get("/.smsgate/devices"); strings.Contains(res.Text, "recovery_left") {
			t.Errorf("the devices page's JSON, her recovery codes unread: %d %s", res.StatusCode, res.Text)
		}
	})
}
