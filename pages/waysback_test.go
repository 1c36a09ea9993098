package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnErrorPageTakesTheSignedInBackToTheSite (walk29, 37, 38): bob, signed
// in and no admin, opens the console: its refusal's way out is "Back to the
// site" (to /), not "Start again" (the login, which asked him to confirm it
// is him: a text). A browser not signed in is still offered to start again.
// Through a real Caddy, in German too.
func TestAnErrorPageTakesTheSignedInBackToTheSite(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	bob := sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, bob, "+4915123000002")
	for lang, back := range map[string]string{"en": "Back to the site", "de": "Zurück zur Website"} {
		bob.Header = http.Header{"Accept-Language": {lang}}
		res := bob.Get("/.smsgate/admin/")
		sitetest.Expect(t, res, http.StatusForbidden, "")
		if !strings.Contains(res.Text, `<a href="/" id="home">`+back+`</a>`) || strings.Contains(res.Text, `href="/.smsgate/login"`) {
			t.Errorf("%s: the refusal's way out is not back to the site:\n%s", lang, res.Text)
		}
	}
	// Not signed in: an error page starts again.
	c := sitetest.NewClient(t, "alice")
	c.CSRF("/.smsgate/enroll")
	res := c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155550123"}, "csrf": {"forged"}})
	sitetest.Expect(t, res, http.StatusForbidden, "")
	if strings.Contains(res.Text, `id="home"`) || !strings.Contains(res.Text, `<a href="/.smsgate/login">Start again</a>`) {
		t.Errorf("a browser not signed in is not offered to start again:\n%s", res.Text)
	}
}

// TestAddingAPhoneIsNoSignIn (walk29, 12-add-phone-verify.png): the code
// page for a phone she is adding says so ("Confirm your new phone"), has
// no "Not you? Cancel this sign-in" (a link that signed her out), one
// Cancel, back to her devices page, and no "Trust this browser" where the
// browser is trusted already (offered where it is not). Through a real
// Caddy, in German too.
func TestAddingAPhoneIsNoSignIn(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	for i, trusted := range []bool{true, false} {
		c := sitetest.NewClient(t, []string{"alice", "bob"}[i])
		sitetest.Expect(t, c.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/enroll")
		tok := c.CSRF("/.smsgate/enroll")
		sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {[]string{"+14155552671", "+14155552672"}[i]}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		remember := map[bool]string{true: "1"}[trusted]
		sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "remember": {remember}, "csrf": {tok}}), "/")
		devices := c.Get("/.smsgate/devices")
		if got := strings.Contains(devices.Text, `<span class="badge">This browser</span>`); got != trusted {
			t.Fatalf("trusted %v: the devices page says %v", trusted, got)
		}
		tok = sitetest.CSRFField.FindStringSubmatch(devices.Text)[1]
		sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {[]string{"+447400123456", "+447400123457"}[i]}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		for lang, title := range map[string]string{"en": "Confirm your new phone", "de": "Neues Telefon bestätigen"} {
			c.Header = http.Header{"Accept-Language": {lang}}
			page := c.Get("/.smsgate/verify")
			if !strings.Contains(page.Text, "<h1>"+title+"</h1>") || !strings.Contains(page.Text, `name="code"`) {
				t.Errorf("%s: the heading is not %q:\n%s", lang, title, page.Text)
			}
			if strings.Contains(page.Text, `id="who"`) || strings.Contains(page.Text, `href="/.smsgate/logout"`) {
				t.Errorf("%s: adding a phone offers to cancel a sign-in:\n%s", lang, page.Text)
			}
			if n := strings.Count(page.Text, ">"+map[string]string{"en": "Cancel", "de": "Abbrechen"}[lang]+"</a>"); n != 1 || !strings.Contains(page.Text, `<a href="/.smsgate/devices" id="cancel" class="cancel">`) {
				t.Errorf("%s: %d Cancels, or none to the devices page:\n%s", lang, n, page.Text)
			}
			if got := strings.Contains(page.Text, `name="remember"`); got == trusted {
				t.Errorf("%s: trusted %v, and the trust box is offered: %v", lang, trusted, got)
			}
		}
		c.Header = nil
		s.Advance(61e9)
	}
}

// TestStopTrustingThisBrowserSaysItSignsOut (walk29, 21-untrust.png):
// "Stop trusting" this browser ends its session at once; the button's
// hint says so (and describes it), for this browser only: another trusted
// browser of hers is listed without it. Through a real Caddy, in German too.
func TestStopTrustingThisBrowserSaysItSignsOut(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, trustSite)
	here, there := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	signInTrusting(t, s, there, true)
	signInTrusting(t, s, here, true)
	hint := map[string]string{"en": "This signs you out of this browser at once.", "de": "Damit werden Sie in diesem Browser sofort abgemeldet."}
	for lang, says := range hint {
		here.Header = http.Header{"Accept-Language": {lang}}
		page := here.Get("/.smsgate/devices")
		if n := strings.Count(page.Text, `value="untrust"`); n != 2 {
			t.Fatalf("%s: %d trusted browsers listed, want 2:\n%s", lang, n, page.Text)
		}
		if strings.Count(page.Text, `<span class="hint" id="untrust-hint">`+says+`</span>`) != 1 || strings.Count(page.Text, `aria-describedby="untrust-hint"`) != 1 {
			t.Errorf("%s: this browser's Stop trusting does not say it signs out (once):\n%s", lang, page.Text)
		}
	}
	// And it does.
	page := here.Get("/.smsgate/devices")
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	this := regexp.MustCompile(`name="trust" value="([^"]+)">\s*<button[^>]*aria-describedby="untrust-hint"`).FindStringSubmatch(page.Text)
	if this == nil {
		t.Fatalf("no button for this browser:\n%s", page.Text)
	}
	here.Post("/.smsgate/devices", url.Values{"action": {"untrust"}, "trust": {this[1]}, "csrf": {tok}})
	if res := here.Get("/.smsgate/devices"); res.StatusCode == http.StatusOK {
		t.Errorf("still signed in after stopping trusting this browser: %d", res.StatusCode)
	}
}

// TestRemovingThePhoneJustAddedWarnsAndSaysWhy (walk29, 16-remove-last.png):
// adding a phone moves this browser's session onto it; removing that phone
// signs the browser out. Its confirmation says so beforehand (not the other
// phone's), and the signed-out page says why truly — the device she last
// confirmed in this browser, not "the one this browser signed in with".
// Through a real Caddy, in German too.
func TestRemovingThePhoneJustAddedWarnsAndSaysWhy(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, c, "+14155552671")
	first := deviceID.FindStringSubmatch(c.Get("/.smsgate/devices").Text)[1]
	tok := c.CSRF("/.smsgate/devices")
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+447400123456"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	var added string
	for _, m := range deviceID.FindAllStringSubmatch(c.Get("/.smsgate/devices").Text, -1) {
		if m[1] != first {
			added = m[1]
		}
	}
	warn := map[string]string{"en": "You last confirmed this device in this browser", "de": "Dieses Gerät haben Sie zuletzt in diesem Browser bestätigt"}
	for lang, says := range warn {
		h := map[string]string{"Accept-Language": lang}
		tok = c.CSRF("/.smsgate/devices")
		ask := c.PostWith("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {added}, "csrf": {tok}}, h)
		if !strings.Contains(ask.Text, `name="confirm" value="1"`) || !strings.Contains(ask.Text, `<p class="notice" id="signs-out">`+says) {
			t.Errorf("%s: removing the phone just added does not warn it signs out here:\n%s", lang, ask.Text)
		}
		other := c.PostWith("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {first}, "csrf": {tok}}, h)
		if !strings.Contains(other.Text, `name="confirm" value="1"`) || strings.Contains(other.Text, `id="signs-out"`) {
			t.Errorf("%s: the other phone's removal warns of a sign-out:\n%s", lang, other.Text)
		}
	}
	res := c.PostWith("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {added}, "confirm": {"1"}, "csrf": {tok}}, map[string]string{"Accept-Language": "de"})
	if !strings.Contains(res.Text, "Sie sind abgemeldet.") || !strings.Contains(res.Text, "Sie haben das Gerät entfernt, das Sie zuletzt in diesem Browser bestätigt haben") {
		t.Fatalf("removing the phone just added:\n%s", res.Text)
	}
}

// TestEveryPageHasAWayBack (walk29, 08, 11, 36): the devices page and the
// console link back to the site (/), and the sign-out confirmation has a
// Cancel: back to the site when signed in, back to the code step for a
// sign-in in progress ("Not you?"). Never off the site. Through a real
// Caddy, in German too.
func TestEveryPageHasAWayBack(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")
	for lang, back := range map[string]string{"en": "Back to the site", "de": "Zurück zur Website"} {
		alice.Header = http.Header{"Accept-Language": {lang}}
		cancel := map[string]string{"en": "Cancel", "de": "Abbrechen"}[lang]
		for _, path := range []string{"/.smsgate/devices", "/.smsgate/admin/"} {
			page := alice.Get(path)
			sitetest.Expect(t, page, http.StatusOK, "")
			if !strings.Contains(page.Text, `<a href="/" id="home">`+back+`</a>`) {
				t.Errorf("%s %s: no way back to the site:\n%s", lang, path, page.Text)
			}
		}
		page := alice.Get("/.smsgate/logout")
		if !strings.Contains(page.Text, `<a href="/" id="cancel" class="cancel">`+cancel+`</a>`) {
			t.Errorf("%s: the sign-out confirmation has no Cancel back to the site:\n%s", lang, page.Text)
		}
	}
	// A sign-in in progress: its "Not you?" confirmation goes back to the code.
	bob := sitetest.NewClient(t, "bob")
	sitetest.Expect(t, bob.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/enroll")
	page := bob.Get("/.smsgate/logout")
	if !strings.Contains(page.Text, `<a href="/.smsgate/verify" id="cancel" class="cancel">Cancel</a>`) {
		t.Errorf("a sign-in's sign-out confirmation has no Cancel back to it:\n%s", page.Text)
	}
}
