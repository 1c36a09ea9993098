package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestASessionItsBrowserReplacedEnds (walk38): a sign-in in a browser that
// holds a session hands it a new one, and the old one ends then: a copy of
// the old cookie signs nobody in, and the user's list of sessions (the
// console's, the admin API's) shows the browser once. Carol adds a phone
// (its code is a sign-in: a session of the new phone), then, past
// step_up, another (the step-up's code is a sign-in too, and the new
// phone's after it); a copy of each cookie she held before is refused at
// once; and so is a copy of hers once dave signs in in her browser (a
// shared computer). Through a real Caddy on Badger and Redis. Before:
// every copy stayed signed in ("hi carol") until it expired, and her list
// held four sessions of one browser.
func TestASessionItsBrowserReplacedEnds(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := carolsSite(t, storeLine, "user dave +14155550142")
		carol := sitetest.NewClient(t, "")
		sitetest.SignIn(t, s, carol)
		copyOf := func() *sitetest.Client {
			c := sitetest.NewClient(t, "")
			c.SetCookie("smsgate_session", carol.Cookie("smsgate_session"))
			sitetest.ExpectBody(t, c.Get("/"), "hi carol")
			return c
		}
		refused := func(c *sitetest.Client, what string) {
			t.Helper()
			if res := c.Get("/"); res.StatusCode != http.StatusFound {
				t.Errorf("a copy of the cookie %s: %d %q, want it signed out", what, res.StatusCode, res.Text)
			}
		}
		add := func(phone string) {
			t.Helper()
			tok := carol.CSRF("/.smsgate/devices")
			sitetest.Expect(t, carol.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {phone}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		}
		code := func(to string) {
			t.Helper()
			tok := carol.CSRF("/.smsgate/verify")
			sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, to)
		}

		// A phone added within step_up: its code is the sign-in.
		before := copyOf()
		add("+14155550199")
		code("/.smsgate/devices")
		sitetest.ExpectBody(t, carol.Get("/"), "hi carol")
		refused(before, "from before a phone's adding")

		// Past step_up: the step-up's code, then the new phone's.
		s.Advance(6 * time.Minute)
		before, s1 := copyOf(), carol.Cookie("smsgate_session")
		add("+14155550188")
		tok := carol.CSRF("/.smsgate/verify")
		sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code("/.smsgate/devices")
		if carol.Cookie("smsgate_session") == s1 {
			t.Fatal("the step-up handed out no new session")
		}
		afterStepUp := copyOf()
		refused(before, "from before the step-up")
		sitetest.Expect(t, carol.Get("/.smsgate/devices"), http.StatusSeeOther, "/.smsgate/verify") // the change resumed: a code to the new phone
		code("/.smsgate/devices")
		sitetest.ExpectBody(t, carol.Get("/"), "hi carol")
		refused(afterStepUp, "of the step-up's session")

		_, out := s.Admin("GET", "/smsgate/sessions?realm=localhost&user=carol", "")
		var list []map[string]any
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
			t.Errorf("carol's sessions: %s (%v); want one, this browser's", out, err)
		}

		// Another name signed in in her browser (a shared computer): hers
		// ends with the cookie it replaced.
		before = copyOf()
		tok = carol.CSRF("/.smsgate/login")
		sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"dave"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code("/")
		sitetest.ExpectBody(t, carol.Get("/"), "hi dave")
		refused(before, "of carol's, once dave signed in in her browser")
	})
}
