package browser_test

import (
	"context"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// signInAs gives Chromium alice's first factor.
func (c *chrome) basicAuth(user string) { c.headers(user, "") }

// headers gives Chromium a first factor and, if lang is set, a language.
func (c *chrome) headers(user, lang string) {
	h := network.Headers{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":demo"))}
	if lang != "" {
		h["Accept-Language"] = lang
	}
	c.call(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h})
		return err
	})
}

func (c *chrome) eval(js string) string {
	c.t.Helper()
	c.do(loaded) // the page the script asks about, whole (see loaded)
	out, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// TestNobodyStrandedInARealBrowser: what users hit, tried in Chromium. A
// user without their phone signs in with a recovery code typed into the
// page; a locked page claims nothing and offers no send; the channel
// switches both ways; a phone typed wrong on the devices page stays typed,
// with focus and the error by the field.
func TestNobodyStrandedInARealBrowser(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "channels sms voice\n\t\tlockout_after 3")
	// alice enrolls (over HTTP) and keeps her recovery codes.
	alice := sitetest.NewClient(t, "alice")
	tok := alice.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), 303, "/.smsgate/verify")
	codes := sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")

	// A new browser, and no phone: "I don't have my phone", then a
	// recovery code typed as people type it.
	b := newChrome(t)
	b.basicAuth("alice")
	b.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`details.recovery summary`)))
	if strings.Contains(b.text(`main`), "We sent a code") {
		t.Fatal("the page claims a code was sent before any was")
	}
	b.do(chromedp.Click(chromedp.CSS(`details.recovery summary`)), chromedp.WaitVisible(chromedp.CSS(`#recovery-code`)))
	b.shoot("verify-no-phone")
	b.do(chromedp.SendKeys(chromedp.CSS(`#recovery-code`), strings.ToLower(codes[0])), chromedp.Submit(chromedp.CSS(`#recovery-code`)))
	b.waitText(`body`, "Hello, alice!")

	// The channel, both ways: a call, then "text me instead".
	b.done()
	c := newChrome(t)
	c.basicAuth("alice")
	c.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`#call button`)))
	c.do(chromedp.Click(chromedp.CSS(`#call button`)))
	c.waitText(`main`, "We are calling")
	// A switch waits as a resend does: the button counts down (the
	// page's deferred script writes the countdown after the text above is
	// shown: reading the button at once failed a run in twenty).
	c.waitText(`#call button`, "Text me instead (")
	s.Advance(31 * time.Second)
	c.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`#call button`)))
	if got := c.text(`#call button`); got != "Text me instead" {
		t.Fatalf("after the cooldown the page offers %q", got)
	}
	c.do(chromedp.Click(chromedp.CSS(`#call button`)))
	c.waitText(`main`, "We sent a code to")
	if got := c.text(`main`); strings.Contains(got, "Call me instead") {
		t.Fatalf("the hour's call is spent, yet the page offers another: %q", got)
	}

	// Locked: three wrong codes; the page says so, counts down, and
	// neither claims a code nor offers to send one.
	wrong := sitetest.WrongCode(s.LastCode())
	for i := 0; i < 3; i++ {
		c.do(chromedp.WaitVisible(chromedp.CSS(`#code`)), chromedp.SetValue(chromedp.CSS(`#code`), wrong), chromedp.Submit(chromedp.CSS(`#code`)))
		if i < 2 {
			c.waitText(`.error`, map[int]string{0: "2 tries left", 1: "1 try left"}[i])
		}
	}
	c.waitText(`main`, "Sign-in locked")
	page := c.text(`main`)
	if strings.Contains(page, "We sent") || strings.Contains(page, "Send again") || strings.Contains(page, "instead") {
		t.Fatalf("the locked page says or offers: %q", page)
	}
	if c.eval(`String(!!document.querySelector("[data-locked-for]"))`) != "true" {
		t.Fatal("no countdown on the locked page")
	}
	c.shoot("verify-locked")

	if c.eval(`String(!!document.querySelector("details.recovery"))`) != "false" {
		t.Fatal("the locked page offers a recovery code, which would be refused")
	}

	// Adding a phone with a typo: the input stays, with focus and the
	// error beside it.
	s.Advance(61 * time.Second) // past the lockout
	c.done()
	d := newChrome(t)
	d.basicAuth("alice")
	d.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`details.recovery summary`)),
		chromedp.Click(chromedp.CSS(`details.recovery summary`)),
		chromedp.SendKeys(chromedp.CSS(`#recovery-code`), codes[1]), chromedp.Submit(chromedp.CSS(`#recovery-code`)))
	d.waitText(`body`, "Hello, alice!")
	d.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 267x"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#phone-error`)))
	if v := d.eval(`document.getElementById("phone").value`); v != "+1 415 555 267x" {
		t.Fatalf("the typed number was lost: %q", v)
	}
	if id := d.eval(`document.activeElement.id`); id != "phone" {
		t.Fatalf("focus is on %q, not the phone field", id)
	}
	if d.eval(`document.getElementById("phone").getAttribute("aria-describedby")`) != "phone-error" {
		t.Fatal("the error is not tied to its field")
	}
	d.shoot("devices-add-error")

	// German, from the browser's language.
	d.done()
	e := newChrome(t)
	e.headers("bob", "de-DE,de;q=0.9")
	e.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	if got := e.text(`h1`); got != "Telefon hinzufügen" {
		t.Fatalf("the German enroll page says %q", got)
	}
	e.shoot("de-enroll")
	e.do(chromedp.SendKeys(chromedp.CSS(`#phone`), "+49 151 23456789"), chromedp.Submit(chromedp.CSS(`#phone`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
	e.shoot("de-verify")
	// The text speaks German too, and keeps its WebOTP line.
	msgs := s.LogEntries("verification code")
	if body, _ := msgs[len(msgs)-1]["body"].(string); !strings.HasPrefix(body, "Ihr Bestätigungscode für localhost lautet ") || !harness.CodeLine.MatchString(body) || !strings.Contains(body, "@localhost #") {
		t.Fatalf("the German SMS: %q", body)
	}
	// Wrong number? Change it — then, right after the sign-in, a second
	// browser is not told to wait.
	e.done()
	f := newChrome(t)
	f.headers("bob", "")
	f.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0100"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	f.do(chromedp.Click(chromedp.CSS(`a[href$="enroll?change=1"]`)), chromedp.WaitVisible(chromedp.CSS(`#phone`)))
	if got := f.eval(`document.getElementById('phone').value + " " + document.getElementById('region').value`); got != "(415) 555-0100 US" { // the number she typed, as she knows it, to correct
		t.Fatalf("changing the number: the field holds %q", got)
	}
	f.do(chromedp.Clear(chromedp.CSS(`#phone`)), chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 0101"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	if got := f.text(`main`); !strings.Contains(got, "•••101") {
		t.Fatalf("after changing the number: %q", got)
	}
	f.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`#saved`)))
	f.done()
	g := newChrome(t)
	g.headers("bob", "")
	g.do(chromedp.Navigate(s.Base+"/.smsgate/verify"), chromedp.WaitVisible(chromedp.CSS(`form button`)))
	g.do(chromedp.Submit(chromedp.CSS(`input[name=action][value=send]`)))
	g.waitText(`main`, "We sent a code to")
	if strings.Contains(g.text(`main`), "Please wait") {
		t.Fatal("a second browser right after a sign-in is told to wait")
	}

	for _, br := range []*chrome{b, c, d, e, f, g} {
		br.mu.Lock()
		if len(br.problems) > 0 {
			t.Errorf("the browser reported: %q", br.problems)
		}
		br.mu.Unlock()
	}
}

// TestOneExampleNumber: the example in a malformed number's message is the
// one the phone field shows.
func TestOneExampleNumber(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")
	tok := c.CSRF("/.smsgate/enroll")
	res := c.Post("/.smsgate/enroll", url.Values{"phone": {"0740O 123456"}, "region": {"GB"}, "csrf": {tok}})
	m := regexp.MustCompile(`id="phone"[^>]*placeholder="([^"]+)"`).FindStringSubmatch(res.Text)
	if m == nil {
		t.Fatalf("no placeholder: %s", res.Text)
	}
	sitetest.ExpectBody(t, res, "for example "+m[1]+".")
	if !strings.HasPrefix(html.UnescapeString(m[1]), "+44") {
		t.Fatalf("the example %q is not from the chosen country", m[1])
	}
	sitetest.ExpectBody(t, res, `<option value="GB" data-example=`)
	if !regexp.MustCompile(`<option value="GB"[^>]* selected>`).MatchString(res.Text) {
		t.Fatal("the picker forgot the chosen country")
	}
}

// TestNationalNumbersWithTheCountryPicker: a number typed as people know
// it, with its country chosen, is that country's number.
func TestNationalNumbersWithTheCountryPicker(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "allowed_regions GB DE")
	c := sitetest.NewClient(t, "alice")
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/.smsgate/enroll", nil)
	req.Header.Set("Accept-Language", "de-DE")
	page := c.Do(req)
	// Only the allowed countries, preset from the browser's language.
	if n := strings.Count(page.Text, "<option "); n != 2 || !regexp.MustCompile(`<option value="DE"[^>]* selected>`).MatchString(page.Text) {
		t.Fatalf("the picker: %d options\n%s", n, page.Text)
	}
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"07400 123456"}, "region": {"GB"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	msgs := s.LogEntries("verification code")
	if to := msgs[len(msgs)-1]["to"]; to != "+44•••••••456" {
		t.Fatalf("the code went to %v", to)
	}
}

// TestDeliveryReceiptsInARealBrowser: the verify page asks, without a
// reload, whether the text arrived; when a signed receipt says it did not,
// the page says so and offers the call; when it arrived, it says that.
func TestDeliveryReceiptsInARealBrowser(t *testing.T) {
	sitetest.Parallel(t)
	f := fakes.NewTwilio(t)
	s := sitetest.TwilioVoiceSite(t, f, "")
	enroll := func(user, num string) *chrome {
		b := newChrome(t)
		b.basicAuth(user)
		b.hurry() // the page asks for the receipt after 2 s, then every 3 s
		b.do(chromedp.Navigate(s.Base+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
			chromedp.SendKeys(chromedp.CSS(`#phone`), num), chromedp.Submit(chromedp.CSS(`#phone`)),
			chromedp.WaitVisible(chromedp.CSS(`#code`)))
		if got := b.text(`#delivery`); got != "" {
			t.Fatalf("before any receipt the page says %q", got)
		}
		return b
	}
	callClass := `document.getElementById("call").className`

	a := enroll("alice", "+1 415 555 2671")
	if got := a.eval(callClass); got != "" {
		t.Fatalf("the call is offered before the text failed: %q", got)
	}
	f.Receipt(t, "undelivered", "30003", false)
	a.waitText(`#delivery`, "The text did not arrive.")
	if got := a.eval(callClass); got != "offered" {
		t.Fatalf("the call is not offered after the text failed: %q", got)
	}

	a.done()
	b := enroll("bob", "+1 415 555 2672")
	f.Receipt(t, "delivered", "", false)
	b.waitText(`#delivery`, "The text was delivered to the phone.")
	if got := b.eval(callClass); got != "" {
		t.Fatalf("the call is pushed although the text arrived: %q", got)
	}
}
