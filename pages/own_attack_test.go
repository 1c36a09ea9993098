package pages_test

// An attack of this round's own, in the spirit of the outside ones: two
// users, two gates (one that texts, one that requires an app) on one realm
// and store, identity none, and clients on many real loopback addresses
// (127.0.0.2…), with and without a forged X-Forwarded-For.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

func TestOwnAttackTwoUsersTwoGates(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, strings.ReplaceAll(`http://localhost:{HTTP_PORT} {
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
	carol := sitetest.NewClient(t, "").OnLoopback(2)
	secret := addApp(t, s, carol)
	s.Advance(time.Minute)
	dave := sitetest.NewClient(t, "").OnLoopback(3)
	tok := dave.CSRF("/.smsgate/login")
	dave.Post("/.smsgate/login", url.Values{"username": {"dave"}, "csrf": {tok}})
	sitetest.Expect(t, dave.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	// 1. A forged X-Forwarded-For from one address is ignored (no
	// trusted_proxies): the 10th wrong code locks that address out.
	spoof := sitetest.NewClient(t, "").OnLoopback(4)
	tok = spoof.CSRF("/admin/.smsgate/login")
	spoof.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	wrong := 0
	for i := range 20 {
		spoof.ForwardedFor = fmt.Sprintf("198.51.100.%d", i)
		res := spoof.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.WrongCode(sitetest.AppCode(t, secret))}, "csrf": {tok}})
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
	tok = dave.CSRF("/admin/.smsgate/login")
	dave.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	checked, refused := 0, 0
	for n := 10; n < 60; n++ {
		dave.OnLoopback(n)
		res := dave.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.WrongCode(sitetest.AppCode(t, secret))}, "csrf": {tok}})
		switch res.StatusCode {
		case http.StatusBadRequest:
			checked++
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("guess from 127.0.0.%d: %d\n%s", n, res.StatusCode, res.Text)
		}
	}
	if checked != 10 || refused != 40 {
		t.Fatalf("from 50 addresses: %d checked, %d refused; want the day's other 10, then 40 refused", checked, refused)
	}
	// Even the right code is not checked for a stranger now.
	stranger := sitetest.NewClient(t, "").OnLoopback(200)
	tok = stranger.CSRF("/admin/.smsgate/login")
	stranger.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	if res := stranger.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}); res.StatusCode != http.StatusTooManyRequests || stranger.Cookie("smsgate_session") != "" {
		t.Fatalf("the right code from a stranger with the window full: %d", res.StatusCode)
	}

	// 3. carol's own browser, known since her sign-in at the other gate,
	// signs in at the app-only gate with her app, from a new address.
	s.Advance(30 * time.Second)
	carol.OnLoopback(201)
	tok = carol.CSRF("/admin/.smsgate/login")
	carol.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	if res := carol.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("carol's known browser during the attack: %d\n%s", res.StatusCode, res.Text)
	}
	sitetest.ExpectBody(t, carol.Get("/admin/x"), "admin carol (otp)")

	// 4. dave's account is his own: his window is untouched.
	if res := dave.Get("/"); res.StatusCode != http.StatusOK || res.Text != "Hello, dave (sms)" {
		t.Fatalf("dave's session after the attack: %d %q", res.StatusCode, res.Text)
	}
	// 5. carol's phone heard of it once; the log names the account lock.
	waitFor(t, func() bool { return countIn(s.Notices(), "someone is trying codes") == 1 })
	locks := 0
	for _, e := range s.LogEntries("locked_out") {
		if e["account"] == true && e["user"] == "carol" {
			locks++
		}
	}
	if locks != 1 {
		t.Fatalf("%d account locks of carol in the log; want 1", locks)
	}
}
