package browser_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestNewUserNotStrandedAfterWrongCodes: five wrong codes while adding a
// first phone end that code; the page then offers a new code to the same
// number and "Wrong number?", never a recovery code the user cannot have
// yet, and the new code finishes the enrollment.
func TestNewUserNotStrandedAfterWrongCodes(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	b := newChrome(t)
	b.basicAuth("bob")
	b.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0100"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	wrong := sitetest.WrongCode(s.LastCode())
	for i := 0; i < 5; i++ {
		b.next(chromedp.WaitVisible(chromedp.CSS(`#code`)), chromedp.SetValue(chromedp.CSS(`#code`), wrong), chromedp.Submit(chromedp.CSS(`#code`)))
		if i < 4 {
			b.waitText(`.error`, "tr") // "4 tries left" … "1 try left"
		}
	}
	b.waitText(`.error`, "Too many wrong codes")
	page := b.text(`main`)
	if !strings.Contains(page, "Send a new code") {
		t.Fatalf("no way to a new code: %q", page)
	}
	if b.eval(`String(!!document.querySelector('a[href$="enroll?change=1"]'))`) != "true" {
		t.Fatalf("no \"Wrong number?\": %q", page)
	}
	if strings.Contains(page, "I don't have my phone") || b.eval(`String(!!document.querySelector("details.recovery"))`) != "false" {
		t.Fatalf("a new user is offered a recovery code: %q", page)
	}
	// The resend cooldown holds: the button counts it down.
	if b.eval(`String(document.querySelector("input[name=action][value=send] ~ button").disabled)`) != "true" {
		t.Fatal("the new code is offered before the cooldown allows it")
	}
	b.shoot("verify-new-code")
	s.Advance(31 * time.Second)
	b.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`input[name=action][value=send] ~ button:enabled`)))
	sent := s.Sent()
	b.do(chromedp.Click(chromedp.CSS(`input[name=action][value=send] ~ button`)))
	b.waitText(`main`, "We sent a code to +1•••••••100")
	if s.Sent() != sent+1 {
		t.Fatalf("%d codes sent, want 1", s.Sent()-sent)
	}
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
}

// TestNoRecoveryOfferWithoutRecoveryCodes: users who have no recovery
// codes — a provisioned user of a login form, a user who used them all —
// are not offered "I don't have my phone".
func TestNoRecoveryOfferWithoutRecoveryCodes(t *testing.T) {
	_, b := carolAtTheCode(t)
	if page := b.text(`main`); strings.Contains(page, "I don't have my phone") {
		t.Fatalf("a provisioned user, who never gets recovery codes, is offered one: %q", page)
	}
}

// aliceEnrolled starts the parallel test's site behind basic_auth
// (sitetest.Basic with options) and a Chromium in which alice has just
// added her first phone, +1 415 555 2671, and saved her recovery codes,
// back on the app's page she asked for. Call it first in the test.
func aliceEnrolled(t *testing.T, options string) (*sitetest.Site, *chrome) {
	t.Helper()
	sitetest.Parallel(t)
	s := sitetest.Basic(t, options)
	b := newChrome(t)
	b.basicAuth("alice")
	b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`#saved`)),
		chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
	b.waitText(`body`, "Hello, alice!")
	return s, b
}

// carolAtTheCode starts the parallel test's site with a login form, where
// carol is provisioned (sitetest.Carol), and a Chromium in which she has
// given her name and is asked for the code just sent. Call it first in
// the test.
func carolAtTheCode(t *testing.T) (*sitetest.Site, *chrome) {
	t.Helper()
	sitetest.Parallel(t)
	s := sitetest.Carol(t, "")
	b := newChrome(t)
	b.do(chromedp.Navigate(s.Base+"/.smsgate/login"), chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "carol"), chromedp.Submit(chromedp.CSS(`#username`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	return s, b
}

// TestStepUpKeepsTheChange: a phone added when the last code is old asks
// for a new code, says why, and then adds the phone that was typed, with
// its name — the user does not come back to an empty form.
func TestStepUpKeepsTheChange(t *testing.T) {
	s, b := aliceEnrolled(t, "")
	s.Advance(6 * time.Minute) // past step_up (5 min)
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0199"), chromedp.SendKeys(chromedp.CSS(`#name`), "Work phone"),
		chromedp.Submit(chromedp.CSS(`#phone`)))
	b.waitText(`main`, "Changing your devices needs a new code first")
	b.shoot("verify-step-up")
	b.do(chromedp.Submit(chromedp.CSS(`input[name=action][value=send]`)))
	b.waitText(`main`, "We sent a code to +1•••••••671")
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)))
	// On to the new phone's own code, without typing it again.
	b.waitText(`main`, "We sent a code to +1•••••••199")
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)))
	b.waitText(`ul.devices`, "Work phone")
	if got := b.text(`#notice`); got != "The phone was added." {
		t.Fatalf("after adding a phone the page says %q", got)
	}
	if got := b.text(`ul.devices`); !strings.Contains(got, "+1•••••••199") {
		t.Fatalf("the devices page after the step-up: %q", got)
	}

	// A removal asked for after the step-up ran out: the step-up, then
	// the confirmation of that very phone.
	s.Advance(6 * time.Minute)
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`li:nth-child(2) details.edit summary`)), chromedp.Click(chromedp.CSS(`li:nth-child(2) button[value=remove]`)))
	b.waitText(`main`, "Changing your devices needs a new code first")
	b.do(chromedp.Submit(chromedp.CSS(`input[name=action][value=send]`)))
	b.waitText(`main`, "We sent a code to")
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)))
	b.waitText(`form.confirm`, "Remove Work phone")
}

// TestRecoveryCodesSurviveAReload: phones reload tabs. The new recovery
// codes stay on their page, the same ones, until the user says they are
// saved; then they are gone from the browser, and the page goes on.
func TestRecoveryCodesSurviveAReload(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	b := newChrome(t)
	b.basicAuth("bob")
	b.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0100"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	first := b.text(`ul.codes`)
	b.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	if got := b.text(`ul.codes`); got != first || len(strings.Fields(got)) != 10 {
		t.Fatalf("after a reload the page shows %q, not %q", got, first)
	}
	if strings.Contains(b.text(`main`), "expired") {
		t.Fatalf("after a reload: %q", b.text(`main`))
	}
	// The codes travel sealed: the cookie does not hold them in clear.
	for _, c := range strings.Fields(first) {
		if strings.Contains(b.eval(`document.cookie`), c) {
			t.Fatal("a recovery code in clear in a cookie")
		}
	}
	b.do(chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
	b.waitText(`body`, "Hello, bob!")
	if !strings.HasSuffix(b.eval(`location.pathname`), "/wiki/start") {
		t.Fatalf("went on to %s", b.eval(`location.href`))
	}
	// Saved: the page has nothing more to show.
	b.do(chromedp.Navigate(s.Base+"/.smsgate/recovery"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	if strings.Contains(b.text(`main`), strings.Fields(first)[0]) {
		t.Fatal("the codes are shown again after they were saved")
	}
}

// TestButtonsPromiseOnlyWhatTheServerDoes: "Send me a code" counts the
// cooldown down on the button (and says when without JavaScript) instead
// of being refused; "Call me instead" is gone once the hour's call is spent.
func TestButtonsPromiseOnlyWhatTheServerDoes(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "channels sms voice")
	sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155552671")

	c := newChrome(t)
	c.basicAuth("alice")
	c.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`#call button`)))
	c.do(chromedp.Click(chromedp.CSS(`#call button`)))
	c.waitText(`main`, "We are calling")
	// A switch waits as a resend does (TestSwitchWaitsLikeResend).
	s.Advance(31 * time.Second)
	c.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`#call button:enabled`)))
	c.do(chromedp.Click(chromedp.CSS(`#call button`)))
	c.waitText(`main`, "We sent a code to")
	if strings.Contains(c.text(`main`), "Call me instead") {
		t.Fatal("\"Call me instead\" is offered after the hour's call")
	}

	// Another browser, within the text's cooldown: the button waits.
	c.done()
	d := newChrome(t)
	d.basicAuth("alice")
	d.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`input[name=action][value=send] ~ button`)))
	send := `document.querySelector("input[name=action][value=send] ~ button")`
	if d.eval(`String(`+send+`.disabled)`) != "true" || !strings.Contains(d.eval(send+`.textContent`), " s)") {
		t.Fatalf("during the cooldown the button says %q and can be clicked", d.eval(send+`.textContent`))
	}
	if got := d.eval(`Array.from(document.querySelectorAll("noscript")).map(n => n.textContent).join(" ")`); !strings.Contains(got, "You can ask for a new code in") {
		t.Fatalf("without JavaScript the page does not say when: %q", got)
	}
	if strings.Contains(d.text(`main`), "Call me instead") {
		t.Fatal("another browser is offered the call that is spent")
	}
	d.shoot("verify-cooldown")
	s.Advance(61 * time.Second) // the text was the sign-in's second code: its wait doubled (60 s)
	d.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`input[name=action][value=send] ~ button:enabled`)))
	d.do(chromedp.Click(chromedp.CSS(`input[name=action][value=send] ~ button`)))
	d.waitText(`main`, "We sent a code to")
	// An hour on, the call is offered again.
	s.Advance(time.Hour)
	d.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`#call button`)))
}

// recoveryButtonOdd says how the devices page's "Make new codes (the old
// ones stop working)" differs from the links below it ("Back to the
// site", and "Sign out everywhere", a button as it is): its text's left
// edge, font and underline; "" when it reads as they do (walk36's 3: a
// centred block in the buttons' smaller font).
const recoveryButtonOdd = `(() => {
  const b = document.querySelector('form:has(input[name=action][value=recovery]) button'), home = document.querySelector('#home');
  if (!b || !home) return 'no button or no link';
  const text = document.createRange();
  text.selectNodeContents(b);
  const out = [], at = text.getBoundingClientRect().left, want = home.getBoundingClientRect().left;
  if (Math.abs(at - want) > 1) out.push('its text begins at ' + Math.round(at) + ' px, the links at ' + Math.round(want));
  const s = getComputedStyle(b), h = getComputedStyle(home);
  if (s.fontSize !== h.fontSize || s.fontFamily !== h.fontFamily) out.push('its text is ' + s.fontSize + ' ' + s.fontFamily + ', the links\' ' + h.fontSize + ' ' + h.fontFamily);
  if (!s.textDecorationLine.includes('underline')) out.push('it is not underlined');
  return out.join('; ');
})()`

// TestDevicesPageSaysWhatItDid: each action is followed by what was done;
// "Make new codes" and "Sign out everywhere" ask first (a page of their
// own, so without JavaScript too); a new passkey takes the name typed;
// the trusted browsers mark this one; "Make new codes" reads as the
// links below it do.
func TestDevicesPageSaysWhatItDid(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "remember 30d")
	b := newChrome(t)
	b.basicAuth("alice")
	b.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)), chromedp.Click(chromedp.CSS(`input[name=remember]`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
	b.waitText(`body`, "Hello, alice!")

	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)))
	if got := b.text(`main`); !strings.Contains(got, "This browser") {
		t.Fatalf("the trusted browsers do not mark this one: %q", got)
	}
	if odd := b.eval(recoveryButtonOdd); odd != "" {
		t.Errorf("the devices page's \"Make new codes\": %s", odd)
	}
	// Rename: said.
	b.do(chromedp.Click(chromedp.CSS(`details.edit summary`)), chromedp.SetValue(chromedp.CSS(`details.edit input[name=name]`), "Old phone"),
		chromedp.Click(chromedp.CSS(`details.edit button[value=rename]`)))
	b.waitText(`#notice`, "The name was changed.")
	b.shoot("devices-notice")

	// New codes: asked first; nothing changes until confirmed.
	b.do(chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="recovery"]) button`)))
	b.waitText(`#confirm`, "Make new recovery codes?")
	if !strings.Contains(b.text(`main`), "10 unused") {
		t.Fatalf("before new codes the page says %q", b.text(`main`))
	}
	b.shoot("devices-confirm-codes")
	b.do(chromedp.Click(chromedp.CSS(`#confirm button`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))

	// A passkey, named as typed.
	b.authenticator()
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="passkey"]) button`)), chromedp.WaitVisible(chromedp.CSS(`#passkey-name`)),
		chromedp.SendKeys(chromedp.CSS(`#passkey-name`), "Laptop key"), chromedp.Click(chromedp.CSS(`#passkey-create`)))
	b.waitText(`ul.devices`, "Laptop key")
	if got := b.text(`#notice`); got != "The passkey was added." {
		t.Fatalf("after adding a passkey: %q", got)
	}

	// Sign out everywhere: asked first, then done.
	b.do(chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="signout-all"]) button`)))
	b.waitText(`#confirm`, "Sign out everywhere?")
	b.do(chromedp.Navigate(s.Base + "/"))
	b.waitText(`body`, "Hello, alice!") // not signed out by asking
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="signout-all"]) button`)), chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
		chromedp.Click(chromedp.CSS(`#confirm button`)))
	b.waitText(`main`, "You are signed out.")
}

// TestWordsFitThePage: no "Enter your code" above a page with no code
// field; the number inside the sentence ("We'll text a code to +1…"); the
// lock page says it once and offers a way on — in English and German.
func TestWordsFitThePage(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "lockout_after 3")
	sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155552671")
	for _, tc := range []struct{ lang, ask, sentence, code, locked, again string }{
		{"en", "Confirm it's you", "We'll text a code to +1•••••••671.", "Enter your code", "too many wrong codes", "Try again"},
		{"de", "Bestätigen Sie, dass Sie es sind", "Wir senden einen Code per SMS an +1•••••••671.", "Code eingeben", "zu viele falsche codes", "Erneut versuchen"},
	} {
		b := newChrome(t)
		b.headers("alice", tc.lang)
		b.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`input[name=action][value=send] ~ button`)))
		if got := b.text(`h1`); got != tc.ask {
			t.Errorf("%s: a page with no code field is headed %q", tc.lang, got)
		}
		if got := b.text(`main`); !strings.Contains(got, tc.sentence) {
			t.Errorf("%s: the page does not say %q: %q", tc.lang, tc.sentence, got)
		}
		b.do(chromedp.Click(chromedp.CSS(`input[name=action][value=send] ~ button`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
		if got := b.text(`h1`); got != tc.code {
			t.Errorf("%s: the code page is headed %q", tc.lang, got)
		}
		wrong := sitetest.WrongCode(s.LastCode())
		for i := 0; i < 3; i++ {
			b.do(chromedp.WaitVisible(chromedp.CSS(`#code`)), chromedp.SetValue(chromedp.CSS(`#code`), wrong), chromedp.Submit(chromedp.CSS(`#code`)))
			if i < 2 {
				b.waitText(`.error`, map[int]string{0: "2", 1: "1"}[i])
			}
		}
		b.do(chromedp.WaitVisible(chromedp.CSS(`#retry`)))
		if got := strings.ToLower(b.text(`main`)); strings.Count(got, tc.locked) != 1 {
			t.Errorf("%s: the lock page says it %d times: %q", tc.lang, strings.Count(got, tc.locked), got)
		}
		if got := b.text(`#retry`); got != tc.again {
			t.Errorf("%s: the way on says %q", tc.lang, got)
		}
		if tc.lang == "de" {
			b.shoot("de-verify-locked")
		}
		s.Advance(2 * time.Minute) // past the lockout, for the next language
		s.LastCode()
		b.done()
	}
}

// TestAuthenticatorSetupOnAPhone: the app's key can be set up from the
// same phone — a tappable otpauth:// link, the key in groups of four with
// a Copy button that says "Copied" every time — and the downloaded
// recovery codes say whose they are, for which site, made when.
func TestAuthenticatorSetupOnAPhone(t *testing.T) {
	s, b := aliceEnrolled(t, "site_name \"Example Wiki\"")
	b.hurry() // the button says "Copied" for 2 s
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="app"]) button`)), chromedp.WaitVisible(chromedp.CSS(`#otpauth`)))
	if href := b.eval(`document.getElementById("otpauth").getAttribute("href")`); !strings.HasPrefix(href, "otpauth://totp/") {
		t.Fatalf("the app's link: %q", href)
	}
	if key := b.text(`#secret`); !regexp.MustCompile(`^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$`).MatchString(key) {
		t.Fatalf("the key is not in groups of four: %q", key)
	}
	b.eval(`navigator.clipboard.writeText = function (t) { window.copied = (window.copied || []).concat([t]); return Promise.resolve(); }; ""`)
	copyButton := `button[data-copy-text]`
	// Every label the button shows, as it shows it (a hurried "Copied" may
	// come and go between two looks).
	b.eval(`var button = document.querySelector("button[data-copy-text]"); window.labels = [];
new MutationObserver(function () { labels.push(button.textContent.trim()); }).observe(button, {childList: true, characterData: true, subtree: true}); ""`)
	for i := 1; i <= 2; i++ {
		b.do(chromedp.Click(chromedp.CSS(copyButton)))
		// "Copied", and back, ready for the next copy.
		b.waitEval(`labels.join("|")`, strings.TrimSuffix(strings.Repeat("Copied|Copy|", i), "|"))
	}
	if got := b.eval(`window.copied.join("|")`); got != strings.ReplaceAll(b.text(`#secret`), " ", "")+"|"+strings.ReplaceAll(b.text(`#secret`), " ", "") {
		t.Fatalf("copied: %q", got)
	}
	b.shoot("app-add-on-phone")

	// New recovery codes, downloaded.
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="recovery"]) button`)), chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
		chromedp.Click(chromedp.CSS(`#confirm button`)), chromedp.WaitVisible(chromedp.CSS(`ul.codes`)))
	b.eval(`var made = URL.createObjectURL; URL.createObjectURL = function (blob) { window.file = blob; return made.call(URL, blob); }; ""`)
	b.do(chromedp.Click(chromedp.CSS(`button[data-download]`)))
	file, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`window.file.text()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	date := s.Now().Format("2 Jan 2006")
	if !strings.HasPrefix(file, "Recovery codes of alice for Example Wiki, made "+date+".") || !strings.Contains(file, strings.Fields(b.text(`ul.codes`))[0]) {
		t.Fatalf("the downloaded file: %q", file)
	}
}
