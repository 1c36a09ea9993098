package browser_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// twoHostRealm is one realm on two host names with no cookie_domain: each
// host's passkeys are bound to its own name (the RP ID).
const twoHostRealm = `http://a.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		user carol +14155552671
		admins carol
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}
http://b.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		user carol +14155552671
		admins carol
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`

// TestAPasskeyOfAnotherHostIsNamedAtTheStepUp: in Chromium, carol adds a
// passkey at a.localhost; at b.localhost (the same realm, no cookie_domain)
// the console asks for her app or passkey. WebAuthn binds a passkey to the
// host it was made at, so hers cannot answer there: the page says where it
// works and offers no button that cannot.
func TestAPasskeyOfAnotherHostIsNamedAtTheStepUp(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, twoHostRealm)
	a, bHost := strings.Replace(s.Base, "localhost", "a.localhost", 1), strings.Replace(s.Base, "localhost", "b.localhost", 1)
	signIn := func(c *chrome, base string) {
		t.Helper()
		c.do(chromedp.Navigate(base+"/.smsgate/login"), chromedp.WaitVisible(chromedp.CSS(`#username`)),
			chromedp.SendKeys(chromedp.CSS(`#username`), "carol"), chromedp.Submit(chromedp.CSS(`#username`)),
			chromedp.WaitVisible(chromedp.CSS(`#code`)))
		c.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)))
		c.waitText(`body`, "Hello, carol")
	}
	b := newChrome(t)
	signIn(b, a)
	id := b.authenticator()
	b.do(chromedp.Navigate(a+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="passkey"]) button`)), chromedp.WaitVisible(chromedp.CSS(`#passkey-create`)))
	b.do(chromedp.Click(chromedp.CSS(`#passkey-create`)))
	b.waitText(`body`, "Passkey 1")
	if creds := b.credentials(id); len(creds) != 1 || creds[0].RpID != "a.localhost" {
		t.Fatalf("the authenticator after adding a passkey at a.localhost: %d credentials", len(creds))
	}

	// The same browser and authenticator at b.localhost: a session of its
	// own (no cookie_domain). Her code is asked for, with no error marking
	// it; after a login form the passkey button stays, as for every name
	// typed (no page tells who holds a passkey, nor where).
	b.do(chromedp.Navigate(bHost+"/.smsgate/login"), chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "carol"), chromedp.Submit(chromedp.CSS(`#username`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	if got := b.eval(`document.querySelectorAll("#passkey-use").length + "|" + document.getElementById("error").textContent`); got != "1|" {
		t.Errorf("the code's page at b.localhost (passkey buttons|error): %q", got)
	}
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)))
	b.waitText(`body`, "Hello, carol")
	// Then the console's step-up, which takes an app or a passkey only.
	b.do(chromedp.Navigate(bHost+"/.smsgate/admin/"), chromedp.WaitVisible(chromedp.CSS(`main`)))
	page := b.text(`main`)
	t.Logf("the console's step-up at b.localhost:\n%s", page)
	if n := b.eval(`String(document.querySelectorAll("#passkey-use").length)`); n != "0" {
		b.do(chromedp.Click(chromedp.CSS(`#passkey-use`)))
		b.waitEval(`document.getElementById("passkey-use").disabled ? "" : "done"`, "done")
		t.Fatalf("the step-up at b.localhost offers a passkey made at a.localhost; clicked, the page says:\n%s", b.text(`main`))
	}
	if !strings.Contains(page, "a.localhost") {
		t.Fatalf("the step-up at b.localhost does not say where carol's passkey works:\n%s", page)
	}
}

// TestAPasskeyOfAnotherHostIsNotOfferedBesideACode: behind basic_auth (the
// page knows who it asks), alice adds a passkey at a.localhost; at
// b.localhost, of the same realm without cookie_domain, her verify step
// asks for her phone's code with no "Use a passkey" the browser could not
// answer, and no notice marking the code: the code is her way in there.
func TestAPasskeyOfAnotherHostIsNotOfferedBesideACode(t *testing.T) {
	sitetest.Parallel(t)
	gate := fmt.Sprintf(`{
	basic_auth argon2id {
		alice %s
	}
	smsgate {
		realm localhost
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash)
	s := sitetest.Start(t, "http://a.localhost:{HTTP_PORT} "+gate+"\nhttp://b.localhost:{HTTP_PORT} "+gate)
	a, bHost := strings.Replace(s.Base, "localhost", "a.localhost", 1), strings.Replace(s.Base, "localhost", "b.localhost", 1)
	b := newChrome(t)
	b.basicAuth("alice")
	b.do(chromedp.Navigate(a+"/"), chromedp.WaitVisible(chromedp.CSS(`#phone`)),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "+1 415 555 2671"), chromedp.Submit(chromedp.CSS(`#phone`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)), chromedp.WaitVisible(chromedp.CSS(`#saved`)),
		chromedp.Click(chromedp.CSS(`#saved`)), chromedp.Click(chromedp.CSS(`#continue`)))
	b.waitText(`body`, "Hello, alice!")
	b.authenticator()
	b.do(chromedp.Navigate(a+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="passkey"]) button`)), chromedp.WaitVisible(chromedp.CSS(`#passkey-create`)))
	b.do(chromedp.Click(chromedp.CSS(`#passkey-create`)))
	b.waitText(`body`, "Passkey 1")

	b.do(chromedp.Navigate(bHost+"/"), chromedp.WaitVisible(chromedp.CSS(`main`)))
	if got := b.eval(`document.querySelectorAll("#passkey-use").length + "|" + document.getElementById("error").textContent`); got != "0|" {
		t.Fatalf("alice's verify step at b.localhost (passkey buttons|error): %q\n%s", got, b.text(`main`))
	}
	if page := b.text(`main`); !strings.Contains(page, "Send") && !strings.Contains(page, "code") {
		t.Fatalf("alice's verify step at b.localhost offers no code:\n%s", page)
	}
}
