package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAConsoleFormWithoutAnActionIsRefusedWith400 (attack22): the user
// page's POST with no action, or one it does not know, is the admin's
// mistake, answered 400 on the user's page. Before: 500 ("rendering page …
// nil pointer evaluating *pages.personView.User"), the page drawn without
// its user.
func TestAConsoleFormWithoutAnActionIsRefusedWith400(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.NamedUsersSite)
	alice := sitetest.NewClient(t, "")
	sitetest.SignInAs(t, s, alice, "alice")
	const console = "/.smsgate/admin/user?name=carol"
	page := alice.Get(console)
	sitetest.Expect(t, page, http.StatusOK, "")
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	for _, action := range []string{"", "rename", "x"} {
		form := url.Values{"csrf": {tok}}
		if action != "" {
			form.Set("action", action)
		}
		res := alice.PostWith(console, form, map[string]string{"Origin": s.Base})
		sitetest.Expect(t, res, http.StatusBadRequest, "")
		sitetest.ExpectBody(t, res, "carol")
	}
	// The console still works: carol's page, then a change.
	sitetest.Expect(t, alice.Get(console), http.StatusOK, "")
	res := alice.PostWith(console, url.Values{"csrf": {tok}, "action": {"revoke"}}, map[string]string{"Origin": s.Base})
	sitetest.Expect(t, res, http.StatusOK, "")
}
