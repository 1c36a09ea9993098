package pages_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAConfigPhoneUsersOnlyAppMayGo: through a real Caddy, carol, whose
// phone is in the Caddyfile (`user carol +1…`), adds an app, then removes
// it: the rule that keeps a user one device counts the config's phone,
// which cannot be removed and still signs her in. Her devices page offers
// Remove on the app (no "Your only device"), the removal is made, and she
// signs in by text after it. Before, the app was kept: the page offered no
// Remove and a removal answered 400 "This is your only phone", untrue.
func TestAConfigPhoneUsersOnlyAppMayGo(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	c := sitetest.NewClient(t, "")
	secret := addApp(t, s, c)
	page := c.Get("/.smsgate/devices")
	m := deviceID.FindStringSubmatch(page.Text)
	if m == nil || !strings.Contains(page.Text, `value="remove"`) || strings.Contains(page.Text, `id="keep-only"`) {
		t.Fatalf("carol's app is offered no Remove:\n%s", page.Text)
	}
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	res := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {m[1]}, "confirm": {"1"}, "csrf": {tok}})
	if res.StatusCode == http.StatusSeeOther { // the step-up a removal of an app asks, with the app
		sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
		s.Advance(30 * time.Second)
		vt := c.CSRF("/.smsgate/verify")
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {vt}}), http.StatusSeeOther, "/.smsgate/devices")
		res = c.Get("/.smsgate/devices") // the removal, made once the step-up is
	}
	if res.StatusCode != http.StatusOK || strings.Contains(res.Text, "Aegis") || strings.Contains(res.Text, "only phone") || strings.Contains(res.Text, "only device") {
		t.Fatalf("removing carol's app: %d\n%s", res.StatusCode, res.Text)
	}
	s.Advance(time.Minute) // past the cooldown of the first code
	sitetest.SignIn(t, s, sitetest.NewClient(t, ""))
}

// TestAnOnlyPasskeySaysItIsTheOnlyDevice: where the one-device rule still
// refuses, its words are true: ann, who holds only a passkey (no phone in
// the config), is told "This is your only device", never "your only
// phone" (before: "This is your only phone" of a passkey). Through a real
// Caddy.
func TestAnOnlyPasskeySaysItIsTheOnlyDevice(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, passkeyOnlySite("", "identity none"))
	c, _ := annInvited(t, s)
	origin := s.WithPorts(s.Base)
	phoneID := deviceID.FindStringSubmatch(c.Get("/.smsgate/devices").Text)[1]
	auth := fakes.NewAuthenticator("localhost", origin)
	begin := passkeyCall(c, "register/begin", origin, nil)
	created, err := auth.Create([]byte(begin.Text))
	if err != nil {
		t.Fatal(err)
	}
	if res := passkeyCall(c, "register/finish", origin, created); res.StatusCode != http.StatusOK {
		t.Fatalf("register/finish: %d %s", res.StatusCode, res.Text)
	}
	tok := c.CSRF("/.smsgate/devices")
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {phoneID}, "confirm": {"1"}, "csrf": {tok}}), http.StatusOK, "")

	// Signed in afresh with the passkey: no step-up before the removal.
	c = sitetest.NewClient(t, "")
	c.CSRF("/.smsgate/login")
	begin = passkeyCall(c, "login/begin", origin, nil)
	answer, err := auth.Get([]byte(begin.Text))
	if err != nil {
		t.Fatalf("the authenticator: %v (begin: %d %s)", err, begin.StatusCode, begin.Text)
	}
	if res := passkeyCall(c, "login/finish", origin, answer); res.StatusCode != http.StatusOK {
		t.Fatalf("login/finish: %d %s", res.StatusCode, res.Text)
	}
	page := c.Get("/.smsgate/devices")
	if !strings.Contains(page.Text, `id="keep-only"`) {
		t.Fatalf("her only passkey is offered Remove:\n%s", page.Text)
	}
	id := deviceID.FindStringSubmatch(page.Text)[1]
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	res := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id}, "confirm": {"1"}, "csrf": {tok}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "This is your only device") || strings.Contains(res.Text, "only phone") {
		t.Fatalf("removing her only passkey: %d\n%s", res.StatusCode, res.Text)
	}
}

// TestAConfigPhoneUsersDevicesPageListsIt: through a real Caddy, carol,
// whose phone is in the Caddyfile (`user carol +1…`), signs in with it;
// her devices page lists it, masked, "set by your administrator", with
// no Remove or Rename, and says she has no recovery codes yet with the
// way to make them, in English and German. Before (walk33's 80): the
// list was empty and it said "None left… (the old ones stop working)"
// of codes she never had.
func TestAConfigPhoneUsersDevicesPageListsIt(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Carol(t, "")
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	for lang, want := range map[string][]string{
		"en": {"set by your administrator", "You have no recovery codes yet.", "Make recovery codes"},
		"de": {"von Ihrem Administrator eingerichtet", "Sie haben noch keine Wiederherstellungscodes.", "Wiederherstellungscodes erstellen"},
	} {
		c.Header = http.Header{"Accept-Language": {lang}}
		page := c.Get("/.smsgate/devices")
		row := regexp.MustCompile(`(?s)<li id="config-phone">.*?</li>`).FindString(page.Text)
		if page.StatusCode != http.StatusOK || row == "" || !strings.Contains(row, "•") || strings.Contains(row, "4155552671") ||
			strings.Contains(row, "remove") || strings.Contains(row, "rename") {
			t.Fatalf("%s: carol's phone from the config, row %q:\n%s", lang, row, page.Text)
		}
		for _, w := range want {
			if !strings.Contains(page.Text, w) {
				t.Errorf("%s: no %q:\n%s", lang, w, page.Text)
			}
		}
		if strings.Contains(page.Text, "None left") || strings.Contains(page.Text, "mehr übrig") || strings.Contains(page.Text, "stop working") || strings.Contains(page.Text, "ungültig") {
			t.Errorf("%s: codes she never had are said used up:\n%s", lang, page.Text)
		}
	}
}

// TestRemovingAnAppsStepUpSaysWhatIsTrue: through a real Caddy, carol,
// who holds an app, asks to remove it; the step-up page says the change
// needs her app (or a passkey) and, lost, the admin removes it; never
// "If you have none yet, add one on your devices page" (walk33's 82), in
// English and German.
func TestRemovingAnAppsStepUpSaysWhatIsTrue(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	c := sitetest.NewClient(t, "")
	addApp(t, s, c)
	page := c.Get("/.smsgate/devices")
	m := deviceID.FindStringSubmatch(page.Text)
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {m[1]}, "confirm": {"1"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	for lang, want := range map[string]string{
		"en": "Lost it? Ask the site&#39;s administrator to remove it",
		"de": "Dann bitten Sie die Verwaltung der Website, es zu entfernen",
	} {
		c.Header = http.Header{"Accept-Language": {lang}}
		page := c.Get("/.smsgate/verify")
		if !strings.Contains(page.Text, want) || strings.Contains(page.Text, "If you have none yet") || strings.Contains(page.Text, "noch nicht eingerichtet") {
			t.Errorf("%s: the step-up of an app's removal:\n%s", lang, page.Text)
		}
	}
}

// TestTheConfigPhoneIsInTheDevicesJSON: through a real Caddy, carol's
// devices page as JSON lists the phone the config gives her, as the HTML
// page's row does: masked, of kind phone, set by her administrator, with
// no ID (nothing to remove or rename). Before, only the HTML listed it
// (walk33).
func TestTheConfigPhoneIsInTheDevicesJSON(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	if page := c.Get("/.smsgate/devices"); !strings.Contains(page.Text, `id="config-phone"`) {
		t.Fatalf("the HTML page lists no config phone:\n%s", page.Text)
	}
	res := c.GetWith("/.smsgate/devices", map[string]string{"Accept": "application/json"})
	var got struct {
		Devices []map[string]any `json:"devices"`
	}
	if err := json.Unmarshal([]byte(res.Text), &got); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the devices page as JSON: %d %v\n%s", res.StatusCode, err, res.Text)
	}
	var config []map[string]any
	for _, d := range got.Devices {
		if d["set_by"] == "administrator" {
			config = append(config, d)
		}
	}
	if len(config) != 1 || config[0]["kind"] != "phone" || config[0]["phone"] != "+1•••••••671" || config[0]["id"] != nil {
		t.Fatalf("the config's phone in the JSON: %v\n%s", config, res.Text)
	}
	if strings.Contains(res.Text, "4155552671") {
		t.Fatalf("the whole number in the JSON: %s", res.Text)
	}
}
