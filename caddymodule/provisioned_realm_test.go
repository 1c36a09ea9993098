package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// realmsGiving is a config of three gates on one store: a and b of realm
// sso.localhost, which give carol one number each (aPhone, bPhone), and
// o of realm other.localhost, which gives her aPhone.
func realmsGiving(storeLine, aPhone, bPhone string) string {
	gate := func(realm, phone string) string {
		return "smsgate {\n\t\tidentity none\n\t\tuser carol " + phone + "\n\t\trealm " + realm +
			"\n\t\tcookie_domain " + realm + "\n\t\t" + storeLine + "\n\t\tprovider log\n\t}"
	}
	site := func(host, realm, phone string) string {
		return "http://" + host + ":{HTTP_PORT} {\n\t" + gate(realm, phone) + "\n\trespond \"" + host + " {http.auth.user.id}\"\n}\n"
	}
	return site("a.sso.localhost", "sso.localhost", aPhone) + site("b.sso.localhost", "sso.localhost", bPhone) +
		site("o.other.localhost", "other.localhost", aPhone)
}

// carolAt signs c in as carol at the gate of host (a login form), with
// the code of the number that gate gives her.
func carolAt(t *testing.T, s *sitetest.Site, c *sitetest.Client, host string) {
	t.Helper()
	at := func(p string) string { return absolute(s, host, p) }
	tok := sitetest.CSRFField.FindStringSubmatch(c.GetURL(at("/.smsgate/login")).Text)[1]
	c.PostURL(at("/.smsgate/login"), url.Values{"username": {"carol"}, "csrf": {tok}})
	c.PostURL(at("/.smsgate/verify"), url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	sitetest.ExpectBody(t, c.GetURL(at("/")), host+" carol")
}

// TestTwoGatesOfARealmGivingTwoNumbersEndNothingAtAReload: two gates of
// one realm give carol a number each (her two phones), a third gate, of
// another realm, gives her one of them; all on one store. Reloading the
// same config must end none of her sessions: the numbers kept are the
// realm's, both gates'. Through a real Caddy's reloads. (Before, each gate
// compared the store's record with its own one number and wrote it: the
// second gate found the first's number, took it for a changed phone, and
// ended her sessions at every load.)
func TestTwoGatesOfARealmGivingTwoNumbersEndNothingAtAReload(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, realmsGiving("store badger {DIR}", "+14155552671", "+447400123456"))
	same := realmsGiving("store badger "+s.Store, "+14155552671", "+447400123456")
	carol := sitetest.NewClient(t, "")
	carolAt(t, s, carol, "a.sso.localhost")
	carolAt(t, s, carol, "o.other.localhost")
	for i := range 2 {
		sitetest.Start(t, same)
		carol.HTTP.CloseIdleConnections()
		for _, host := range []string{"a.sso.localhost", "b.sso.localhost", "o.other.localhost"} {
			if res := carol.GetURL(absolute(s, host, "/")); !strings.Contains(res.Text, host+" carol") {
				t.Errorf("reload %d of the same config ended carol's session at %s: %d %s", i+1, host, res.StatusCode, res.Text)
			}
		}
	}
	// b's number taken away (a lost phone): her sessions of the realm end,
	// the other realm's stay.
	sitetest.Start(t, realmsGiving("store badger "+s.Store, "+14155552671", "+447400999999"))
	carol.HTTP.CloseIdleConnections()
	if res := carol.GetURL(absolute(s, "a.sso.localhost", "/")); res.StatusCode == http.StatusOK {
		t.Errorf("a number of the realm taken away left carol's session: %s", res.Text)
	}
	sitetest.ExpectBody(t, carol.GetURL(absolute(s, "o.other.localhost", "/")), "o.other.localhost carol")
}
