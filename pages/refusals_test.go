package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// The refusals whose status the pages once chose themselves (a 400 for
// any worded error, or for a type they named) get it from signin's table
// now, and it is the same: 400, with the words, and what was typed kept.
func TestEachPagesRefusalsTakeTheTablesStatus(t *testing.T) {
	sitetest.Parallel(t)
	expect := func(what string, res *sitetest.Response, words ...string) {
		t.Helper()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400\n%s", what, res.StatusCode, res.Text)
		}
		for _, w := range words {
			if !strings.Contains(res.Text, w) {
				t.Errorf("%s: the page does not say %q\n%s", what, w, res.Text)
			}
		}
	}
	s := sitetest.Basic(t, "")
	alice := sitetest.NewClient(t, "alice")
	tok := alice.CSRF("/.smsgate/enroll")
	expect("a number that does not parse (signin.InputError)",
		alice.Post("/.smsgate/enroll", url.Values{"phone": {"call me"}, "csrf": {tok}}), "international format", `value="call me"`)
	sitetest.Expect(t, alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	expect("a code of the wrong length (signin.CodeFormatError)",
		alice.Post("/.smsgate/verify", url.Values{"code": {"12"}, "csrf": {tok}}), "Enter the 6-digit code")
	sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")

	tok = alice.CSRF("/.smsgate/devices")
	expect("a device that is not there (enrollment.ErrNoDevice)",
		alice.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {"nope"}, "confirm": {"1"}, "csrf": {tok}}), "There is no such device.")
	expect("another number that does not parse (signin.InputError)",
		alice.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"call me"}, "csrf": {tok}}), "international format", `value="call me"`)
	expect("a dead invite (enrollment.ErrInvite)", alice.Get("/.smsgate/invite?token=nope"), "expired or was already used")

	// A login form: no name typed.
	sitetest.Start(t, sitetest.AppSite)
	c := sitetest.NewClient(t, "")
	tok = c.CSRF("/.smsgate/login")
	expect("no name (signin.ErrName)", c.Post("/.smsgate/login", url.Values{"username": {" "}, "csrf": {tok}}), "Enter your username or phone number.")
}
