package caddymodule_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
)

// TestAnOldNameKnownCookieRenamedLateLeavesTheTaggedOne: carol's browser
// held its known-browser cookie under the old name, as a release before
// both the renaming and the trust's claim wrote it (no tb: known no more,
// 0b08291). She signs in in one tab (the __Host- cookie written, naming
// its trust) while another tab's request, sent before that answer, still
// carries the old one alone: its answer renamed the old token to the
// __Host- name, over the new one, and carol's browser was a stranger's
// again; a stranger at her address who typed 25 made-up names kept her
// from a code (before: 429 at her login). An old-name cookie that names
// no trust is not renamed now (it would not count); the tagged one stays.
func TestAnOldNameKnownCookieRenamedLateLeavesTheTaggedOne(t *testing.T) {
	sitetest.Parallel(t)
	s, addr := neighbourOnRedis(t)
	carol := sitetest.NewClient(t, "")
	signInOverTLS(t, s, carol, "carol")
	tagged := carol.CookieOf(neighbourApp+"/", pages.HostPrefix+pages.KnownCookie)
	old := withoutTrust(t, s, addr, beforeRenaming(t, s, addr, tagged, true))

	// The other tab's request, with the browser's cookies as they were.
	req, _ := http.NewRequest(http.MethodGet, carol.WithPorts(neighbourApp+"/.smsgate/login"), nil)
	req.AddCookie(&http.Cookie{Name: pages.KnownCookie, Value: old})
	res := sitetest.NewClient(t, "").Do(req)
	app, _ := url.Parse(carol.WithPorts(neighbourApp + "/"))
	carol.HTTP.Jar.SetCookies(app, res.Cookies()) // its answer, last
	if got := carol.CookieOf(neighbourApp+"/", pages.HostPrefix+pages.KnownCookie); got != tagged {
		t.Errorf("the old-name cookie naming no trust was renamed over the tagged one (the same: %v)", got == old)
	}

	// What carol sees: a stranger at her address spends the strangers'
	// sends; her own browser still gets its code.
	s.Advance(time.Minute)
	sitetest.Expect(t, carol.PostURL(carol.WithPorts(neighbourApp+"/.smsgate/logout"), url.Values{"csrf": {csrfAt(t, carol, "/.smsgate/logout")}}), http.StatusOK, "")
	mallory := sitetest.NewClient(t, "")
	for i := range 25 {
		mallory.PostURL(mallory.WithPorts(neighbourApp+"/.smsgate/login"), url.Values{"username": {fmt.Sprintf("nobody%d", i)}, "csrf": {csrfAt(t, mallory, "/.smsgate/login")}})
	}
	tok := csrfAt(t, carol, "/.smsgate/login")
	if res := carol.PostURL(carol.WithPorts(neighbourApp+"/.smsgate/login"), url.Values{"username": {"carol"}, "csrf": {tok}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("carol's own browser after a stranger's names at her address: %d, want 303\n%s", res.StatusCode, res.Text)
	}
}

// csrfAt is the CSRF token of the neighbour site's form at path.
func csrfAt(t *testing.T, c *sitetest.Client, path string) string {
	t.Helper()
	page := c.GetURL(c.WithPorts(neighbourApp + path))
	m := sitetest.CSRFField.FindStringSubmatch(page.Text)
	if m == nil {
		t.Fatalf("no form at %s: %d\n%s", path, page.StatusCode, page.Text)
	}
	return m[1]
}

// withoutTrust is a known-browser token of the neighbour site on the
// Redis at addr without its trust claim (tb), as a release before the
// claim signed it.
func withoutTrust(t *testing.T, s *sitetest.Site, addr, token string) string {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	secret, err := rc.Get(context.Background(), "smsgate:keys/secret").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	d, err := session.NewDerived(secret, s.Now)
	if err != nil {
		t.Fatal(err)
	}
	var cl session.Claims
	if err := d.Known.Verify(token, "app.example.com", &cl); err != nil {
		t.Fatal(err)
	}
	cl.Trust = nil
	if token, err = d.Known.Sign(&cl); err != nil {
		t.Fatal(err)
	}
	return token
}
