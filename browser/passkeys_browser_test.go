package browser_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// authenticator gives Chromium a virtual platform authenticator (CDP's
// WebAuthn domain) that says yes at once, with the credentials given.
func (c *chrome) authenticator(creds ...*webauthn.Credential) webauthn.AuthenticatorID {
	c.t.Helper()
	var id webauthn.AuthenticatorID
	c.call(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			HasCmtgKey: true}}) // cdproto always sends generateCmtgKeyOnNextOperation, which needs it
		if err != nil {
			return err
		}
		id = res.AuthenticatorID
		for _, cred := range creds {
			// The key and what names it, not the source's trust-group keys.
			copied := &webauthn.Credential{CredentialID: cred.CredentialID, IsResidentCredential: cred.IsResidentCredential, RpID: cred.RpID,
				PrivateKey: cred.PrivateKey, UserHandle: cred.UserHandle, SignCount: cred.SignCount,
				BackupEligibility: cred.BackupEligibility, BackupState: cred.BackupState}
			if _, err := cdp.Call(ctx, tg, webauthn.AddCredential, webauthn.AddCredentialParams{AuthenticatorID: id, Credential: copied}); err != nil {
				return err
			}
		}
		return nil
	})
	return id
}

// credentials are what an authenticator holds: a fresh browser gets a copy,
// as a synced passkey reaches the user's other devices.
func (c *chrome) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	c.t.Helper()
	var creds []*webauthn.Credential
	c.call(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		creds = res.Credentials
		return err
	})
	return creds
}

// addPasskey has the signed-in browser b add a passkey on the devices
// page, and returns the authenticator's credentials.
func addPasskey(t *testing.T, s *sitetest.Site, b *chrome) []*webauthn.Credential {
	t.Helper()
	id := b.authenticator()
	b.do(chromedp.Navigate(s.Base+"/.smsgate/devices"), chromedp.WaitVisible(chromedp.CSS(`ul.devices`)),
		chromedp.Click(chromedp.CSS(`form:has(input[name="action"][value="passkey"]) button`)), chromedp.WaitVisible(chromedp.CSS(`#passkey-create`)))
	b.shoot("passkey-add")
	b.do(chromedp.Click(chromedp.CSS(`#passkey-create`)))
	b.waitText(`body`, "Passkey 1")
	// Named "Passkey 1", its kind not said again beside it (walk38).
	if text := b.text(`ul.devices`); !strings.Contains(text, "Passkey 1") || strings.Contains(text, "passkey") {
		t.Fatalf("the devices page after adding a passkey: %q", text)
	}
	creds := b.credentials(id)
	if len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("the authenticator holds %d credentials (want one discoverable)", len(creds))
	}
	return creds
}

// TestPasskeyInARealBrowser: in Chromium with a virtual authenticator,
// alice (behind basic_auth) enrolls her phone, adds a passkey on the
// devices page, then signs in with it at the verify step of a fresh browser.
func TestPasskeyInARealBrowser(t *testing.T) {
	s, b := aliceEnrolled(t, `site_name "Example Wiki"`)
	creds := addPasskey(t, s, b)

	b.done()
	fresh := newChrome(t)
	fresh.basicAuth("alice")
	fresh.authenticator(creds...)
	fresh.do(chromedp.Navigate(s.Base+"/wiki/start"), chromedp.WaitVisible(chromedp.CSS(`#passkey-use`)))
	fresh.shoot("verify-passkey")
	fresh.do(chromedp.Click(chromedp.CSS(`#passkey-use`)))
	fresh.waitText(`body`, "Hello, alice!")
	noProblems(t, b, fresh)
}

// TestDiscoverablePasskey: with identity none, the login page's "Sign in
// with a passkey" names and verifies the user at once.
func TestDiscoverablePasskey(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	b := newChrome(t)
	b.do(chromedp.Navigate(s.Base+"/.smsgate/login"), chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "carol"), chromedp.Submit(chromedp.CSS(`#username`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#code`), s.LastCode()), chromedp.Submit(chromedp.CSS(`#code`)))
	b.waitText(`body`, "Hello, carol")
	creds := addPasskey(t, s, b)

	b.done()
	fresh := newChrome(t)
	fresh.authenticator(creds...)
	fresh.do(chromedp.Navigate(s.Base+"/.smsgate/login?rd="+url.QueryEscape("/")), chromedp.WaitVisible(chromedp.CSS(`#passkey-use`)))
	fresh.shoot("login-passkey")
	fresh.do(chromedp.Click(chromedp.CSS(`#passkey-use`)))
	fresh.waitText(`body`, "Hello, carol (hwk)") // bound to its authenticator: not backup-eligible
	noProblems(t, b, fresh)
}

func noProblems(t *testing.T, browsers ...*chrome) {
	t.Helper()
	for _, c := range browsers {
		c.mu.Lock()
		problems := c.problems
		c.mu.Unlock()
		if len(problems) > 0 {
			t.Fatalf("the browser reported: %q", problems)
		}
	}
}
