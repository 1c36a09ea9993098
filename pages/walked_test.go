package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// What a walk of the pages as a user (walk22) found, through a real Caddy.

// trustedAlice enrolls alice on a Basic site with "Trust this browser"
// ticked, and returns her browser, its csrf token and her phone's ID.
func trustedAlice(t *testing.T) (*sitetest.Site, *sitetest.Client, string, string) {
	t.Helper()
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "remember 30d")
	c := sitetest.NewClient(t, "alice")
	tok := c.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "remember": {"1"}, "csrf": {tok}}), "/")
	page := c.Get("/.smsgate/devices")
	m := regexp.MustCompile(`name="device" value="([^"]+)"`).FindStringSubmatch(page.Text)
	if m == nil || !strings.Contains(page.Text, "Trusted browsers") {
		t.Fatalf("the devices page after a trusted enrollment:\n%s", page.Text)
	}
	return s, c, c.CSRF("/.smsgate/devices"), m[1]
}

// TestTheDevicesPageKeepsItsTrustedBrowsersWhileItAsks: the page that asks
// "Remove Phone 1?" and the one that answers a mistyped number are the
// devices page, trusted browsers included; they were left out, and the
// section vanished until a reload. (Her only phone's removal is refused at
// once since walk29, not asked: that answer is the devices page too.)
func TestTheDevicesPageKeepsItsTrustedBrowsersWhileItAsks(t *testing.T) {
	_, c, tok, id := trustedAlice(t)
	res := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {id}, "csrf": {tok}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "This is your only device") || !strings.Contains(res.Text, "Trusted browsers") {
		t.Errorf("the removal's question: %d\n%s", res.StatusCode, res.Text)
	}
	res = c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+1 415 555 267x"}, "csrf": {tok}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, `id="phone-error"`) || !strings.Contains(res.Text, "Trusted browsers") {
		t.Errorf("a mistyped number: %d\n%s", res.StatusCode, res.Text)
	}
}

// TestAnEmptyNameRenamesNothing: a rename with the name cleared (or only
// spaces) keeps the device's name, and the field says a name is needed;
// it was taken, "The name was changed.", and the device had none.
func TestAnEmptyNameRenamesNothing(t *testing.T) {
	_, c, tok, id := trustedAlice(t)
	page := c.Get("/.smsgate/devices")
	if !regexp.MustCompile(`<input type="text" id="name-` + id + `" name="name" value="Phone 1" maxlength="40" required>`).MatchString(page.Text) {
		t.Errorf("the rename field asks for no name:\n%s", page.Text)
	}
	for _, name := range []string{"", "   ", "\u200b"} {
		c.Post("/.smsgate/devices", url.Values{"action": {"rename"}, "device": {id}, "name": {name}, "csrf": {tok}})
		if page := c.Get("/.smsgate/devices"); !strings.Contains(page.Text, "<strong>Phone 1</strong>") {
			t.Fatalf("renamed to %q, the phone is listed as:\n%s", name, page.Text)
		}
	}
}

// TestAWrongFirstAppCodeKeepsTheNameTyped: adding an app, a wrong first
// code answers with the form again, the name typed still in it.
func TestAWrongFirstAppCodeKeepsTheNameTyped(t *testing.T) {
	_, c, tok, _ := trustedAlice(t)
	if res := c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}}); res.StatusCode != http.StatusOK || !appSecret.MatchString(res.Text) {
		t.Fatalf("adding an app: %d\n%s", res.StatusCode, res.Text)
	}
	res := c.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {"000000"}, "name": {"My <Aegis>"}, "csrf": {tok}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "Wrong code") {
		t.Fatalf("a wrong first code: %d\n%s", res.StatusCode, res.Text)
	}
	if !strings.Contains(res.Text, `id="name" name="name" value="My &lt;Aegis&gt;"`) {
		t.Fatalf("the name typed is not kept:\n%s", res.Text)
	}
}

// TestTheConsoleAsksBeforeAResetOrASignOutEverywhere: the console's
// "Reset", "Sign out everywhere" and a device's "Remove" undo more than
// one click should (a reset removes every phone and recovery code of the
// user): the page asks first, names the user (and the device), and
// changes nothing until confirmed — in German too. All were made at the
// first click.
func TestTheConsoleAsksBeforeAResetOrASignOutEverywhere(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice, bob := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, alice, "+14155550101")
	sitetest.Enroll(t, s, bob, "+4915123000002")
	path := "/.smsgate/admin/user?name=bob"
	tok := alice.CSRF(path)
	for _, tc := range []struct{ action, lang, ask, button string }{
		{"reset", "en", "Reset bob? Their phones and recovery codes are removed, every session ends, and open invite links stop working.", `value="reset">Reset bob</button>`},
		{"revoke", "de", "bob überall abmelden? Alle Sitzungen werden beendet", `value="revoke">Überall abmelden</button>`},
		{"revoke", "en", "Sign bob out everywhere?", `value="revoke">Sign out everywhere</button>`},
	} {
		res := alice.PostWith(path, url.Values{"action": {tc.action}, "csrf": {tok}}, map[string]string{"Origin": s.Base, "Accept-Language": tc.lang})
		sitetest.Expect(t, res, http.StatusOK, "")
		if !strings.Contains(res.Text, `id="confirm"`) || !strings.Contains(res.Text, tc.ask) || !strings.Contains(res.Text, tc.button) || !strings.Contains(res.Text, `name="confirm" value="1"`) {
			t.Fatalf("%s (%s) asks nothing first:\n%s", tc.action, tc.lang, res.Text)
		}
		s.Advance(2 * time.Second) // past the revocation poll: a revoke would show
		sitetest.Expect(t, bob.Get("/"), http.StatusOK, "")
		if page := alice.Get(path); !strings.Contains(page.Text, "49••") {
			t.Fatalf("after asking to %s, bob's phone is gone:\n%s", tc.action, page.Text)
		}
	}
	// A device's removal too, naming it.
	m := regexpDevice.FindStringSubmatch(alice.Get(path).Text)
	for lang, want := range map[string]string{"en": "Remove Phone 1 of bob? bob can no longer sign in with it.", "de": "Telefon 1 von bob entfernen? bob kann sich dann nicht mehr damit anmelden."} {
		res := alice.PostWith(path, url.Values{"action": {"remove"}, "device": {m[1]}, "csrf": {tok}}, map[string]string{"Origin": s.Base, "Accept-Language": lang})
		if !strings.Contains(res.Text, want) || !strings.Contains(res.Text, `name="device" value="`+m[1]+`">`) {
			t.Fatalf("a removal (%s) asks nothing first:\n%s", lang, res.Text)
		}
	}
	if page := alice.Get(path); !strings.Contains(page.Text, "49••") {
		t.Fatalf("after asking to remove it, bob's phone is gone:\n%s", page.Text)
	}
	// A device bob does not hold: refused as its removal is, not asked about.
	asked := consolePost(alice, path, url.Values{"action": {"remove"}, "device": {"NOPE"}, "csrf": {tok}}, s.Base)
	made := consolePost(alice, path, url.Values{"action": {"remove"}, "device": {"NOPE"}, "confirm": {"1"}, "csrf": {tok}}, s.Base)
	errorOf := regexp.MustCompile(`<p class="error" id="error"[^>]*>([^<]+)</p>`)
	if e := errorOf.FindStringSubmatch(asked.Text); e == nil || asked.StatusCode != made.StatusCode || strings.Contains(asked.Text, `id="confirm"`) || e[1] != errorOf.FindStringSubmatch(made.Text)[1] {
		t.Fatalf("asked about a device bob does not hold: %d, made: %d\n%s", asked.StatusCode, made.StatusCode, asked.Text)
	}
	res := sitetest.ConsoleDone(t, consolePost(alice, path, url.Values{"action": {"reset"}, "confirm": {"1"}, "csrf": {tok}}, s.Base), "reset")
	sitetest.ExpectBody(t, res, "phones and recovery codes are removed, and their sessions ended.")
	if strings.Contains(res.Text, "49••") {
		t.Fatalf("confirmed, the reset left bob's phone:\n%s", res.Text)
	}
}

// TestAPasskeyStepOnlyPostedSaysSo: the passkey ceremony's endpoints take
// only POST, and a GET's answer says so (it said "Use GET or POST.", in
// answer to a GET), in the reader's language.
func TestAPasskeyStepOnlyPostedSaysSo(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, c, "+14155552671")
	for lang, want := range map[string]string{"en": `"message":"Use POST."`, "de": `"message":"Verwenden Sie POST."`} {
		for _, step := range []string{"login/begin", "login/finish", "register/begin", "register/finish"} {
			res := c.GetWith("/.smsgate/passkey/"+step, map[string]string{"Accept-Language": lang})
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" || !strings.Contains(res.Text, want) {
				t.Fatalf("GET %s (%s): %d, Allow %q: %s", step, lang, res.StatusCode, res.Header.Get("Allow"), res.Text)
			}
		}
	}
}

// TestTheRemovalOfAnAppSaysWhatItEnds: "Remove Authenticator app 1?" said
// "It will get no more codes" — an app gets none, it makes them — in
// German "Es erhält …" of "die App" too. An app's (or a passkey's)
// removal says it signs her in no more; a phone's says it as before.
func TestTheRemovalOfAnAppSaysWhatItEnds(t *testing.T) {
	sitetest.Parallel(t)
	// allow_remove_last: her app is the only device on her list (the
	// config's phone is not on it), so without it no Remove is offered
	// (walk29), the removal refused at once.
	s := sitetest.Start(t, strings.Replace(sitetest.AppSite, "provider log", "provider log\n\t\tallow_remove_last", 1))
	c := sitetest.NewClient(t, "")
	secret := addApp(t, s, c)
	app := regexp.MustCompile(`name="device" value="([^"]+)"`).FindStringSubmatch(c.Get("/.smsgate/devices").Text) // carol's phone is the config's: no form
	if app == nil {
		t.Fatal("no app listed")
	}
	for lang, want := range map[string]string{"en": "Remove Aegis? It will no longer sign you in, and your phones will be told.",
		"de": "Aegis entfernen? Sie können sich dann nicht mehr damit anmelden, und Ihre Telefone werden benachrichtigt."} {
		// A change to the app asks for the app first (then asks), unless
		// the app signed in just now.
		hl := map[string]string{"Accept-Language": lang}
		tok := c.CSRF("/.smsgate/devices")
		res := c.PostWith("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {app[1]}, "csrf": {tok}}, hl)
		if res.StatusCode == http.StatusSeeOther {
			s.Advance(30 * time.Second) // a code not used yet
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
			res = c.GetWith("/.smsgate/devices", hl)
		}
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, want) {
			t.Errorf("%s: the removal's question, wanting %q: %d %s", lang, want, res.StatusCode, res.Header.Get("Location"))
		}
	}
}

// TestTheConsolesStepUpSaysWhyOnce: the verify page the console sends an
// admin holding an app to says why ("The console needs your authenticator
// app or passkey…") — and said besides "If you have none yet, add one on
// your devices page", to an admin who has one (that is why it asks).
func TestTheConsolesStepUpSaysWhyOnce(t *testing.T) {
	sitetest.Parallel(t)
	_, c, _ := atTheConsolesVerify(t)
	for lang, why := range map[string]string{"en": "The console needs your authenticator app or passkey", "de": "Die Konsole braucht Ihre Authenticator-App oder Ihren Passkey"} {
		page := c.GetWith("/.smsgate/verify", map[string]string{"Accept-Language": lang})
		if !strings.Contains(page.Text, why) || strings.Contains(page.Text, `id="requires"`) {
			t.Errorf("%s: the console's step-up:\n%s", lang, page.Text)
		}
	}
}

// TestASignOutByAChangeSaysWhy: removing the device this browser signed in
// with, or no longer trusting this browser, signs it out — and the page
// said only "You are signed out.", not why.
func TestASignOutByAChangeSaysWhy(t *testing.T) {
	s, c, tok, _ := trustedAlice(t)
	trust := regexp.MustCompile(`name="trust" value="([^"]+)"`).FindStringSubmatch(c.Get("/.smsgate/devices").Text)
	if trust == nil {
		t.Fatal("no trusted browser listed")
	}
	res := c.PostWith("/.smsgate/devices", url.Values{"action": {"untrust"}, "trust": {trust[1]}, "csrf": {tok}}, map[string]string{"Accept-Language": "de"})
	if !strings.Contains(res.Text, "Sie sind abgemeldet.") || !strings.Contains(res.Text, "Sie vertrauen diesem Browser nicht mehr, deshalb ist er jetzt abgemeldet.") {
		t.Fatalf("no longer trusting this browser:\n%s", res.Text)
	}

	// Signed in again, with a second phone's code: removing that phone.
	d := c
	tok = d.CSRF("/.smsgate/verify")
	sitetest.Expect(t, d.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, d.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	tok = d.CSRF("/.smsgate/devices")
	sitetest.Expect(t, d.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155550199"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, d.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	ids := regexp.MustCompile(`name="device" value="([^"]+)"`).FindAllStringSubmatch(d.Get("/.smsgate/devices").Text, -1)
	tok = d.CSRF("/.smsgate/devices")
	res = d.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {ids[len(ids)-1][1]}, "confirm": {"1"}, "csrf": {tok}})
	if !strings.Contains(res.Text, "You are signed out.") || !strings.Contains(res.Text, "You removed the device you last confirmed in this browser") {
		t.Fatalf("removing the phone this browser signed in with:\n%s", res.Text)
	}
}

// TestNoRecoveryCodesLeftIsSaidSo: once her codes are withdrawn (made while
// signed in with a phone she then removed), the devices page said "0
// unused. Each signs you in once if you lose your phones."; it says none
// are left and to make new ones.
func TestNoRecoveryCodesLeftIsSaidSo(t *testing.T) {
	s, c, tok, first := trustedAlice(t)
	// A second phone, whose code signs this browser in; new codes made so.
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155550199"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	tok = c.CSRF("/.smsgate/devices")
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/recovery")
	// Signed in again with the first phone, the second removed.
	c.Post("/.smsgate/logout", url.Values{"csrf": {c.CSRF("/.smsgate/logout")}})
	tok = c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {first}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	ids := regexp.MustCompile(`name="device" value="([^"]+)"`).FindAllStringSubmatch(c.Get("/.smsgate/devices").Text, -1)
	tok = c.CSRF("/.smsgate/devices")
	var second string
	for _, id := range ids {
		if id[1] != first {
			second = id[1]
		}
	}
	c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {second}, "confirm": {"1"}, "csrf": {tok}})
	for lang, want := range map[string]string{"en": "None left. Make new ones: they sign you in if you lose your phones.", "de": "Keine Codes mehr übrig."} {
		page := c.GetWith("/.smsgate/devices", map[string]string{"Accept-Language": lang})
		if !strings.Contains(page.Text, want) || strings.Contains(page.Text, "0 unused") || strings.Contains(page.Text, "0 Codes") {
			t.Errorf("%s: no codes left, the page says:\n%s", lang, page.Text)
		}
	}
}

// TestAStepUpOffersAWayBack: the step-up page of a browser signed in
// already has a Cancel link (walk22): for a devices-page change she asked
// for, back to the flow's return address; for any other (a route's
// max_age or require, or /verify opened by hand), her devices page, since
// the route would ask again (review24: Cancel back to "/" under max_age
// led to the same page, three times over). Never off the site; in
// German too; none for a browser not signed in.
func TestAStepUpOffersAWayBack(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "redirect_hosts app.example.com")
	c := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, c, "+14155552671")
	cancelTo := func(res *sitetest.Response, want string) {
		t.Helper()
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, "Confirm it&#39;s you") {
			t.Fatalf("the verify page signed in: %d\n%s", res.StatusCode, res.Text)
		}
		if !strings.Contains(res.Text, `<a href="`+want+`" id="cancel" class="cancel">Cancel</a>`) {
			t.Errorf("no Cancel to %q:\n%s", want, res.Text)
		}
	}
	for _, rd := range []string{"", "/somewhere", "https://app.example.com/x", "https://evil.example/", "//evil.example/", "javascript:alert(1)"} {
		cancelTo(c.Get("/.smsgate/verify?rd="+url.QueryEscape(rd)), "/.smsgate/devices")
	}
	c.Header = http.Header{"Accept-Language": {"de"}}
	if res := c.Get("/.smsgate/verify?rd=%2Fsomewhere"); !strings.Contains(res.Text, `<a href="/.smsgate/devices" id="cancel" class="cancel">Abbrechen</a>`) {
		t.Errorf("in German, no Abbrechen:\n%s", res.Text)
	}
	c.Header = nil
	// A change she asked for on her devices page: back there.
	s.Advance(10 * time.Minute)
	tok := c.CSRF("/.smsgate/devices")
	add := url.Values{"action": {"add"}, "phone": {"+447400123456"}, "name": {"Work phone"}, "csrf": {tok}}
	sitetest.Expect(t, c.Post("/.smsgate/devices", add), http.StatusSeeOther, "/.smsgate/verify")
	cancelTo(c.Get("/.smsgate/verify"), "/.smsgate/devices")
	other := sitetest.NewClient(t, "alice")
	if res := other.Get("/.smsgate/verify?rd=%2Fsomewhere"); res.StatusCode != http.StatusOK || strings.Contains(res.Text, `id="cancel"`) {
		t.Errorf("a browser not signed in: %d\n%s", res.StatusCode, res.Text)
	}
	// Past max_age, "/" sends her to the step-up: its Cancel leads out.
	m := sitetest.Basic(t, "max_age 1m")
	d := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, m, d, "+14155552671")
	m.Advance(2 * time.Minute)
	res := d.Get("/")
	for n := 0; n < 5 && res.StatusCode/100 == 3; n++ { // on to the step-up
		res = d.Get(res.Header.Get("Location"))
	}
	cancelTo(res, "/.smsgate/devices")
	if res := d.Get("/.smsgate/devices"); res.StatusCode != http.StatusOK || strings.Contains(res.Text, `id="cancel"`) {
		t.Errorf("the devices page Cancel led to: %d\n%s", res.StatusCode, res.Text)
	}
}

// TestTheConsoleAsksAnAdminAboutHerselfAsYou (walk39): an admin's
// "Sign out everywhere" or "Reset" on her own user page asked "Sign alice
// out everywhere? Every session and trusted browser of theirs ends …", as
// of someone else, and did not say that the browser she asks in is signed
// out too (she was, on to a sign-in that said nothing of why). Her own
// asks say "yourself", "this one included", and her invites — in German
// too; another user's are as before.
func TestTheConsoleAsksAnAdminAboutHerselfAsYou(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice, bob := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, alice, "+14155550101")
	sitetest.Enroll(t, s, bob, "+4915123000002")
	tok := alice.CSRF("/.smsgate/admin/user?name=alice")
	for _, tc := range []struct{ user, action, lang, ask string }{
		{"alice", "revoke", "en", "Sign yourself out everywhere? Every session and trusted browser of yours ends, this one included, and so does every invite link you made at the console."},
		{"alice", "revoke", "de", "Sich selbst überall abmelden? Alle Ihre Sitzungen werden beendet, auch diese hier,"},
		{"alice", "reset", "en", "Reset yourself? Your phones and recovery codes are removed, every session of yours ends, this one included,"},
		{"alice", "reset", "de", "Sich selbst zurücksetzen? Ihre Telefone und Wiederherstellungscodes werden entfernt, alle Ihre Sitzungen beendet, auch diese hier,"},
		{"bob", "revoke", "en", "Sign bob out everywhere? Every session and trusted browser of theirs ends,"},
		{"bob", "reset", "de", "bob zurücksetzen? Die Telefone und Wiederherstellungscodes werden entfernt,"},
	} {
		res := alice.PostWith("/.smsgate/admin/user?name="+tc.user, url.Values{"action": {tc.action}, "csrf": {tok}}, map[string]string{"Origin": s.Base, "Accept-Language": tc.lang})
		sitetest.Expect(t, res, http.StatusOK, "")
		if !strings.Contains(res.Text, `id="confirm"`) || !strings.Contains(res.Text, tc.ask) {
			t.Errorf("%s of %s (%s) does not ask %q:\n%s", tc.action, tc.user, tc.lang, tc.ask, res.Text)
		}
		if tc.user == "alice" && (strings.Contains(res.Text, "of theirs") || strings.Contains(res.Text, "alice überall abmelden")) {
			t.Errorf("%s of herself (%s) asks as of someone else", tc.action, tc.lang)
		}
	}
	sitetest.Expect(t, alice.Get("/"), http.StatusOK, "") // asking changed nothing
}

// TestTheDevicesPageLeadsAnAdminToTheConsole (walk39): an admin signed in
// found no way from her devices page to the console, whose address she
// had to know (/.smsgate/admin/); the console leads back to the site
// only. Her devices page links it, in her language; another user's does
// not.
func TestTheDevicesPageLeadsAnAdminToTheConsole(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "admins alice")
	alice, bob := sitetest.NewClient(t, "alice"), sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, alice, "+14155550101")
	sitetest.Enroll(t, s, bob, "+4915123000002")
	for lang, want := range map[string]string{"en": `<a href="/.smsgate/admin/" id="console">Console</a>`, "de": `<a href="/.smsgate/admin/" id="console">Konsole</a>`} {
		if page := alice.GetWith("/.smsgate/devices", map[string]string{"Accept-Language": lang}); !strings.Contains(page.Text, want) {
			t.Errorf("the admin's devices page (%s) does not link the console (%s):\n%s", lang, want, page.Text)
		}
	}
	if page := bob.Get("/.smsgate/devices"); strings.Contains(page.Text, "admin/") || !strings.Contains(page.Text, `id="home"`) {
		t.Errorf("bob's devices page links the console:\n%s", page.Text)
	}
	sitetest.Expect(t, alice.Get("/.smsgate/admin/"), http.StatusOK, "")
}
