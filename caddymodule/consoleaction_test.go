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
// its user. Then every section's form with every action, its fields
// missing or naming nobody: never a 5xx.
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
	// Every section, every action, with fields missing or naming nobody:
	// a 4xx or a page, never a 5xx.
	for _, to := range []string{"admin/", "admin/user", "admin/user?name=", "admin/user?name=nobody", "admin/user?name=%E2%80%AE", "admin/user?name=carol", "admin/events", "admin/costs"} {
		for _, action := range []string{"", "x", "remove", "reset", "revoke", "end", "end-unlisted", "invite"} {
			if to == "admin/user?name=carol" && (action == "reset" || action == "revoke" || action == "end-unlisted") {
				continue // carol's sign-ins are the next check's
			}
			for _, id := range []string{"", "nope"} {
				res := alice.PostWith("/.smsgate/"+to, url.Values{"csrf": {tok}, "action": {action}, "device": {id}, "session": {id}}, map[string]string{"Origin": s.Base})
				if res.StatusCode >= 500 {
					t.Errorf("POST %s action=%q id=%q: %d", to, action, id, res.StatusCode)
				}
			}
		}
	}
	// The console still works: carol's page, then a change.
	sitetest.Expect(t, alice.Get(console), http.StatusOK, "")
	res := alice.PostWith(console, url.Values{"csrf": {tok}, "action": {"revoke"}}, map[string]string{"Origin": s.Base})
	sitetest.Expect(t, res, http.StatusOK, "")
}
