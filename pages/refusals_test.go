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
	expect("another number that does not parse (signin.InputError)",
		alice.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"call me"}, "csrf": {tok}}), "international format", `value="call me"`)
	expect("a dead invite (enrollment.ErrInvite)", alice.Get("/.smsgate/invite?token=nope"), "expired or was already used")

	// A login form: no name typed.
	sitetest.Start(t, sitetest.AppSite)
	c := sitetest.NewClient(t, "")
	tok = c.CSRF("/.smsgate/login")
	expect("no name (signin.ErrName)", c.Post("/.smsgate/login", url.Values{"username": {" "}, "csrf": {tok}}), "Enter your username or phone number.")
}

// TestADeviceNotThereIs404: a device the request names by its ID that is
// not there (removed in another window, or never there) is a 404, in the
// refusals' table (signin.Gone): the devices page says it is gone, on a
// removal, a rename, a new default, and in JSON; the admin API's removal
// answers 404 too, as for a session or a realm not there. Before, a 400,
// and the page said "There is no such device."
func TestADeviceNotThereIs404(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	alice := sitetest.NewClient(t, "alice")
	tok := alice.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
	const gone = "This device is not there any more: it was removed, maybe in another window."
	tok = alice.CSRF("/.smsgate/devices")
	for what, form := range map[string]url.Values{
		"a removal": {"action": {"remove"}, "device": {"nope"}, "confirm": {"1"}},
		"a rename":  {"action": {"rename"}, "device": {"nope"}, "name": {"Work"}},
		"a default": {"action": {"default"}, "device": {"nope"}},
	} {
		form.Set("csrf", tok)
		res := alice.Post("/.smsgate/devices", form)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(res.Text, gone) || !strings.Contains(res.Text, "Your devices") {
			t.Errorf("%s of a device not there: %d; want 404 on the devices page, saying it is gone\n%s", what, res.StatusCode, res.Text)
		}
	}
	res := alice.PostJSON("/.smsgate/devices", s.Base, map[string]string{"action": "remove", "device": "nope"})
	if res.StatusCode != http.StatusNotFound || !strings.Contains(res.Text, "not there any more") {
		t.Errorf("a removal in JSON of a device not there: %d %s; want 404", res.StatusCode, res.Text)
	}
	if st, out := s.Admin("POST", "/smsgate/devices/remove", `{"realm":"localhost","user":"alice","id":"nope"}`); st != http.StatusNotFound || !strings.Contains(out, "not there any more") {
		t.Errorf("the admin API's removal of a device not there: %d %s; want 404", st, out)
	}
}
