package caddymodule

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestADevicesChangeRoundTrips: a change on the devices page (a rename)
// on Redis costs seven round trips, as before its guard (live36): her
// known-browser cookie's check (one batch), the check that her session
// still lives (one batch: liveChange), the rename's atomic update (its
// GET, and the compare-and-set, which now checks in the same script that
// the records that check read still hold what they held: store.Guard),
// and the page drawn after it (her devices, her trusted browsers, her
// recovery codes: one batch). The guard adds none.
func TestADevicesChangeRoundTrips(t *testing.T) {
	t.Parallel()
	g, sent := redisGate(t, []string{redistest.Server(t)})
	id, err := signin.AddByAdmin(context.Background(), g.run.signin.Devices, "localhost", "erin", "+14155550111", "")
	if err != nil {
		t.Fatal(err)
	}
	jar := map[string]*http.Cookie{}
	keep := func(cs []*http.Cookie) []*http.Cookie {
		for _, c := range cs {
			jar[c.Name] = c
		}
		var all []*http.Cookie
		for _, c := range jar {
			if c.MaxAge >= 0 {
				all = append(all, c)
			}
		}
		return all
	}
	page := serveGate(g, "GET", "http://localhost/.smsgate/login", "127.0.0.3", nil, nil)
	csrf := harness.CSRF.FindStringSubmatch(page.Body.String())[1]
	res := serveGate(g, "POST", "http://localhost/.smsgate/login", "127.0.0.3", url.Values{"username": {"erin"}, "csrf": {csrf}}, keep(page.Result().Cookies()))
	res = serveGate(g, "POST", "http://localhost/.smsgate/verify", "127.0.0.3", url.Values{"code": {sent.last("+14155550111")}, "csrf": {csrf}}, keep(res.Result().Cookies()))
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/" {
		t.Fatalf("verify: %d %s", res.Code, res.Body)
	}
	cookies := keep(res.Result().Cookies())
	page = serveGate(g, "GET", "http://localhost/.smsgate/devices", "127.0.0.3", nil, cookies)
	m := harness.CSRF.FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatalf("devices: %d %s", page.Code, page.Body)
	}
	cookies = keep(page.Result().Cookies())
	count := &roundTrips{}
	g.run.store.(*store.Redis).Client().AddHook(count)
	res = serveGate(g, "POST", "http://localhost/.smsgate/devices", "127.0.0.3", url.Values{"action": {"rename"}, "device": {id}, "name": {"Work"}, "csrf": {m[1]}}, cookies)
	if res.Code != http.StatusOK {
		t.Fatalf("rename: %d %s", res.Code, res.Body)
	}
	if n := count.n.Load(); n != 7 {
		t.Errorf("a rename on the devices page took %d round trips, want 1 + 1 + 2 + 3", n)
	}
}
