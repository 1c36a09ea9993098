package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

var appSecret = regexp.MustCompile(`<code class="secret" id="secret">([A-Z2-7 ]+)</code>`)

// addApp signs c in as carol by text, adds an authenticator app on the
// devices page and returns its secret.
func addApp(t *testing.T, s *sitetest.Site, c *sitetest.Client) string {
	t.Helper()
	sitetest.SignIn(t, s, c)
	tok := c.CSRF("/.smsgate/devices")
	return confirmApp(t, c, tok, c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}))
}

// confirmApp confirms the new app whose secret res shows (a wrong first
// code first), and returns its secret.
func confirmApp(t *testing.T, c *sitetest.Client, tok string, res *sitetest.Response) string {
	t.Helper()
	m := appSecret.FindStringSubmatch(res.Text)
	if res.StatusCode != http.StatusOK || m == nil || !strings.Contains(res.Text, `src="data:image/png;base64,`) || !strings.Contains(res.Text, "otpauth://totp/") {
		t.Fatalf("adding an app: %d\n%s", res.StatusCode, res.Text)
	}
	// A wrong first code adds nothing.
	if res := c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {"000000"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "Wrong code") {
		t.Fatalf("a wrong first code: %d\n%s", res.StatusCode, res.Text)
	}
	res = c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, m[1])}, "name": {"Aegis"}, "csrf": {tok}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, "Aegis") || !strings.Contains(res.Text, "authenticator app") {
		t.Fatalf("confirming the app: %d\n%s", res.StatusCode, res.Text)
	}
	return m[1]
}

// TestAuthenticatorApp: through a real Caddy, carol adds an app on her
// devices page (after a texted code), then signs in with it in a fresh
// browser; the session says "otp". The code is good once.
func TestAuthenticatorApp(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	secret := addApp(t, s, sitetest.NewClient(t, ""))
	s.Advance(30 * time.Second) // the confirming code is used

	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	page := c.Get("/.smsgate/verify")
	if !strings.Contains(page.Text, "Use my authenticator app") {
		t.Fatalf("the verify page offers no app:\n%s", page.Text)
	}
	code := sitetest.AppCode(t, secret)
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {code}, "csrf": {tok}}), http.StatusSeeOther, "/")
	if res := c.Get("/"); res.StatusCode != http.StatusOK || res.Text != "Hello, carol (otp)" {
		t.Fatalf("app after an app code: %d %q", res.StatusCode, res.Text)
	}

	// The same code, typed again elsewhere, is refused. (This browser
	// names carol by her number; her number's wait after the text to it
	// holds, so no text is sent yet, as a decoy's.)
	d := sitetest.NewClient(t, "")
	tok = d.CSRF("/.smsgate/login")
	sitetest.Expect(t, d.Post("/.smsgate/login", url.Values{"username": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	res := d.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {code}, "csrf": {tok}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "used already") || d.Cookie("smsgate_session") != "" {
		t.Fatalf("a replayed app code: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), res.Text)
	}
	// A texted code, once the wait is over, still works beside it (the
	// held login counted as a code: its wait doubled).
	s.Advance(61 * time.Second)
	sitetest.Expect(t, d.Post("/.smsgate/login", url.Values{"username": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, d.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

// TestAppOnly: a user who keeps only an app (the phone removed: the app
// is a device too, so the phone is not the last) is asked for the app's
// code, with no text offered, and gets in with it. Her recovery codes,
// made by the phone's enrollment, went with it (attack41): the removal
// says so, and no recovery code is offered until she makes new ones.
func TestAppOnly(t *testing.T) {
	sitetest.Parallel(t)
	s, c, secret := demoWithApp(t)
	tok := c.CSRF("/.smsgate/devices")
	phoneID := regexp.MustCompile(`name="device" value="([A-Z0-9]+)">\s*<label for="name-[A-Z0-9]+">Name</label><input type="text" id="name-[A-Z0-9]+" name="name" value="Phone 1"`).FindStringSubmatch(c.Get("/.smsgate/devices").Text)
	if phoneID == nil {
		t.Fatal("no phone on the devices page")
	}
	if res := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {phoneID[1]}, "confirm": {"1"}, "csrf": {tok}}); res.StatusCode != http.StatusOK || strings.Contains(res.Text, "Phone 1") ||
		!strings.Contains(res.Text, "Your recovery codes no longer work") {
		t.Fatalf("removing the phone beside an app (its enrollment's codes going with it): %d\n%s", res.StatusCode, res.Text)
	}
	s.Advance(30 * time.Second)

	fresh := sitetest.NewClient(t, "demo")
	sitetest.Expect(t, fresh.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/verify")
	page := fresh.Get("/.smsgate/verify")
	if !strings.Contains(page.Text, "Use my authenticator app") || strings.Contains(page.Text, "Send me a code") || strings.Contains(page.Text, "Call me") {
		t.Fatalf("the verify page of an app-only user:\n%s", page.Text)
	}
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/.smsgate/verify", nil)
	req.Header.Set("Accept", "application/json")
	if res := fresh.Do(req); !strings.Contains(res.Text, `"choices":["otp"]`) {
		t.Fatalf("the verify step's choices for JSON clients: %s", res.Text)
	}
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, fresh.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")
	if res := fresh.Get("/"); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Text, "Hello, demo!") {
		t.Fatalf("app: %d %q", res.StatusCode, res.Text)
	}
}

// TestAppFirstWhenUsedLast: the verify page opens the app's form, the
// strongest way, ahead of texts (behind "Try another way") even while a
// phone is the device used last, and still when the app is.
func TestAppFirstWhenUsedLast(t *testing.T) {
	sitetest.Parallel(t)
	s, _, secret := demoWithApp(t)

	before := sitetest.NewClient(t, "demo")
	before.Get("/.smsgate/login")
	if page := before.Get("/.smsgate/verify"); !strings.Contains(page.Text, `<details class="app" open>`) || !strings.Contains(page.Text, `<details class="another" id="another">`) ||
		strings.Index(page.Text, `<details class="another"`) > strings.Index(page.Text, "Send me a code") {
		t.Fatalf("with the phone last used, the app's form should come first, texts behind \"Try another way\":\n%s", page.Text)
	}
	s.Advance(30 * time.Second)
	tok := sitetest.CSRFField.FindStringSubmatch(before.Get("/.smsgate/verify").Text)[1]
	sitetest.Expect(t, before.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")

	after := sitetest.NewClient(t, "demo")
	after.Get("/.smsgate/login")
	if page := after.Get("/.smsgate/verify"); !strings.Contains(page.Text, `<details class="app" open>`) {
		t.Fatalf("with the app last used, its form should be open:\n%s", page.Text)
	}
}

// demoWithApp starts the quickstart site, where demo enrolls a phone and
// then adds an authenticator app; it returns demo's browser and the app's secret.
func demoWithApp(t *testing.T) (*sitetest.Site, *sitetest.Client, string) {
	t.Helper()
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "demo")
	res, tok := sitetest.EnrollWith(t, c, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")
	tok = c.CSRF("/.smsgate/devices")
	secret := appSecret.FindStringSubmatch(c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}).Text)[1]
	if res := c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}); !strings.Contains(res.Text, "Authenticator app 1") {
		t.Fatalf("confirming the app: %d\n%s", res.StatusCode, res.Text)
	}
	return s, c, secret
}

// TestNoticesAreBounded: notices go to the user's own phones at the site's
// cost and meet none of a code's limits, so a session removing and adding
// an app in a loop (a step-up with the app once, then as fast as it could
// post) texted every phone of the user twice a loop: 40 texts for 20 loops,
// past the global budgets and the pumping guard — SMS pumping, for anyone
// with a first factor at a site that lets users enroll, to a number they
// enrolled. Now a user's phones get enrollment.MaxNotices notices an hour,
// each text taking a slot of global_enrolled, and the rest are logged.
func TestNoticesAreBounded(t *testing.T) {
	sitetest.Parallel(t)
	s, c, first := demoWithApp(t)
	// A second app, the one the loops remove and add again: the step-up is
	// the first's (removing the app whose code a session proved last signs
	// that session out).
	tok := c.CSRF("/.smsgate/devices")
	res := c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}})
	if res.StatusCode == http.StatusSeeOther { // the step-up, with the first app
		s.Advance(30 * time.Second)
		vt := c.CSRF("/.smsgate/verify")
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, first)}, "csrf": {vt}}), http.StatusSeeOther, "/.smsgate/devices")
		res = c.Get("/.smsgate/devices")
	}
	secret := appSecret.FindStringSubmatch(res.Text)[1]
	tok = c.CSRF("/.smsgate/devices")
	if res := c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}); !strings.Contains(res.Text, "Authenticator app 2") {
		t.Fatalf("confirming the second app: %d\n%s", res.StatusCode, res.Text)
	}
	appRow := regexp.MustCompile(`name="device" value="([A-Z0-9]+)">\s*<label for="name-[A-Z0-9]+">Name</label><input type="text" id="name-[A-Z0-9]+" name="name" value="Authenticator app 2"`)
	// A second phone: each notice is two texts.
	if st, body := sitetest.Admin(t, "POST", "/smsgate/users", `{"realm":"localhost","user":"demo","phone":"+14155550199","name":"Work"}`); st != 200 {
		t.Fatalf("adding a phone: %d %s", st, body)
	}
	if n := len(s.Notices()); n != 2 {
		t.Fatalf("%d notices before the loops; want the two apps'", n)
	}
	// Past the hour's notices by a few loops (each loop two notices): 20
	// loops, as before, proved no more and took ~7 s under load.
	const loops = enrollment.MaxNotices/2 + 2
	for i := range loops {
		tok := c.CSRF("/.smsgate/devices")
		id := appRow.FindStringSubmatch(c.Get("/.smsgate/devices").Text)
		if id == nil {
			t.Fatalf("loop %d: no app on the devices page", i)
		}
		res := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id[1]}, "confirm": {"1"}, "csrf": {tok}})
		if res.StatusCode == http.StatusSeeOther { // the step-up, with the first app
			sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
			s.Advance(30 * time.Second)
			vt := c.CSRF("/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, first)}, "csrf": {vt}}), http.StatusSeeOther, "/.smsgate/devices")
			res = c.Get("/.smsgate/devices")
		}
		if res.StatusCode != http.StatusOK || appRow.MatchString(res.Text) {
			t.Fatalf("loop %d: removing the app: %d", i, res.StatusCode)
		}
		tok = c.CSRF("/.smsgate/devices")
		m := appSecret.FindStringSubmatch(c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}).Text)
		if m == nil {
			t.Fatalf("loop %d: no new app's secret", i)
		}
		secret = m[1]
		if res := c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}); !appRow.MatchString(res.Text) {
			t.Fatalf("loop %d: confirming the app: %d", i, res.StatusCode)
		}
	}
	// The two apps' notices (to one phone) were two of the hour's; the
	// loops had the others, two texts each.
	if n, want := len(s.Notices()), 2+2*(enrollment.MaxNotices-2); n != want {
		t.Fatalf("%d loops sent %d texts, %d in the hour; want %d in the hour", loops, n-1, n, want)
	}
	if n, want := len(s.LogEntries("notice_not_sent")), 2*loops-(enrollment.MaxNotices-2); n != want {
		t.Fatalf("%d notices held back were logged; want %d", n, want)
	}
	// The hour's last notice (its two texts) says that the next changes are
	// not texted: an intruder who spends the hour's notices first does not
	// add a phone of theirs with the user none the wiser.
	texts := s.Notices()
	for i, text := range texts {
		if said, want := strings.Contains(text, "within the hour are not texted"), i >= len(texts)-2; said != want {
			t.Errorf("text %d of %d: %q; want the note that further changes are not texted: %v", i+1, len(texts), text, want)
		}
	}
	// An hour on, the user hears of changes again.
	s.Advance(time.Hour + time.Minute)
	tok = c.CSRF("/.smsgate/devices")
	id := appRow.FindStringSubmatch(c.Get("/.smsgate/devices").Text)
	res = c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id[1]}, "confirm": {"1"}, "csrf": {tok}})
	if res.StatusCode == http.StatusSeeOther { // the step-up is older than 5 minutes now
		vt := c.CSRF("/.smsgate/verify")
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, first)}, "csrf": {vt}}), http.StatusSeeOther, "/.smsgate/devices")
		c.Get("/.smsgate/devices") // the removal, made once the step-up is
	}
	texts = s.Notices()
	if n, want := len(texts), 2+2*(enrollment.MaxNotices-1); n != want {
		t.Fatalf("an hour later: %d texts in all; want %d", n, want)
	}
	if last := texts[len(texts)-1]; strings.Contains(last, "not texted") {
		t.Errorf("an hour later, the first notice says the hour's are spent: %q", last)
	}
}
