package caddymodule_test

// An attack of this round's own, in the spirit of the outside ones: two
// users, two gates (one that texts, one that requires an app) on one realm
// and store, identity none, and clients on many real loopback addresses
// (127.0.0.2…), with and without a forged X-Forwarded-For.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/caddymodule"
)

// onLoopback makes c's next requests come from 127.0.0.n (a new
// connection: the address is the peer's, not a header).
func (c *client) onLoopback(n int) *client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(n>>8), byte(n))}}
	c.http.Transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return d.DialContext(ctx, network, "127.0.0.1:"+port)
	}}
	return c
}

func TestOwnAttackTwoUsersTwoGates(t *testing.T) {
	s := startSite(t, strings.ReplaceAll(`http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			user carol +14155552671
			user dave +14155552672
			path_prefix /admin/.smsgate/
			require totp
			LIMITS
			store badger {DIR}
			provider log
		}
		respond "admin {http.auth.user.id} ({http.auth.user.amr})"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			user dave +14155552672
			LIMITS
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
	}
}`, "LIMITS", "max_failures 100\n\t\t\tlimit guesses 20 1d"))

	// carol adds an app (signed in by text at the main gate: her browser is
	// known from then on, to both gates). dave signs in as himself.
	carol := newClient(t, "").onLoopback(2)
	secret := addApp(t, s, carol)
	caddymodule.Advance(time.Minute)
	dave := newClient(t, "").onLoopback(3)
	tok := dave.csrf("/.smsgate/login")
	dave.post("/.smsgate/login", url.Values{"username": {"dave"}, "csrf": {tok}})
	expect(t, dave.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	// 1. A forged X-Forwarded-For from one address is ignored (no
	// trusted_proxies): the 10th wrong code locks that address out.
	spoof := newClient(t, "").onLoopback(4)
	tok = spoof.csrf("/admin/.smsgate/login")
	spoof.post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	wrong := 0
	for i := range 20 {
		spoof.forwardedFor = fmt.Sprintf("198.51.100.%d", i)
		res := spoof.post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {wrongCode(appCode(t, secret))}, "csrf": {tok}})
		if res.StatusCode != http.StatusBadRequest {
			break
		}
		wrong++
	}
	if wrong != 9 {
		t.Fatalf("one address with forged X-Forwarded-For: %d wrong codes answered before its lock; want 9 (the 10th locks it)", wrong)
	}

	// 2. dave, from his own known browser and then from address after
	// address, guesses carol's app codes at the gate that texts nothing.
	// Ten went already (the tenth locked that address, checked all the
	// same); ten more are checked, then none.
	tok = dave.csrf("/admin/.smsgate/login")
	dave.post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	checked, refused := 0, 0
	for n := 10; n < 60; n++ {
		dave.onLoopback(n)
		res := dave.post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {wrongCode(appCode(t, secret))}, "csrf": {tok}})
		switch res.StatusCode {
		case http.StatusBadRequest:
			checked++
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("guess from 127.0.0.%d: %d\n%s", n, res.StatusCode, res.body)
		}
	}
	if checked != 10 || refused != 40 {
		t.Fatalf("from 50 addresses: %d checked, %d refused; want the day's other 10, then 40 refused", checked, refused)
	}
	// Even the right code is not checked for a stranger now.
	stranger := newClient(t, "").onLoopback(200)
	tok = stranger.csrf("/admin/.smsgate/login")
	stranger.post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	if res := stranger.post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {appCode(t, secret)}, "csrf": {tok}}); res.StatusCode != http.StatusTooManyRequests || stranger.cookie("smsgate_session") != "" {
		t.Fatalf("the right code from a stranger with the window full: %d", res.StatusCode)
	}

	// 3. carol's own browser, known since her sign-in at the other gate,
	// signs in at the app-only gate with her app, from a new address.
	caddymodule.Advance(30 * time.Second)
	carol.onLoopback(201)
	tok = carol.csrf("/admin/.smsgate/login")
	carol.post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	if res := carol.post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {appCode(t, secret)}, "csrf": {tok}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("carol's known browser during the attack: %d\n%s", res.StatusCode, res.body)
	}
	expectBody(t, carol.get("/admin/x"), "admin carol (otp)")

	// 4. dave's account is his own: his window is untouched.
	if res := dave.get("/"); res.StatusCode != http.StatusOK || res.body != "Hello, dave (sms)" {
		t.Fatalf("dave's session after the attack: %d %q", res.StatusCode, res.body)
	}
	// 5. carol's phone heard of it once; the log names the account lock.
	waitFor(t, func() bool { return countIn(s.notices(), "someone is trying codes") == 1 })
	locks := 0
	for _, e := range s.logEntries("locked_out") {
		if e["account"] == true && e["user"] == "carol" {
			locks++
		}
	}
	if locks != 1 {
		t.Fatalf("%d account locks of carol in the log; want 1", locks)
	}
}
