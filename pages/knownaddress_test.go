package pages_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAStrangerAtTheOwnersAddressLocksOutOnlyHimself: a known browser has
// its own account lock and window of guesses, but the lock of wrong codes
// from one address (lockout_after, doubling up to a day) was the
// address's alone, whoever sent them: a stranger behind the owner's
// address (an office's or a household's NAT, a carrier's CGNAT, an IPv6
// /64) who named carol and sent lockout_after wrong codes locked carol's
// own browser out there too, round after round, for up to a day (before:
// 429 for her right code, from the browser she signs in with every day).
// Now the known browser's wrong codes from an address are counted and
// locked apart from strangers', as its account lock is.
func TestAStrangerAtTheOwnersAddressLocksOutOnlyHimself(t *testing.T) {
	sitetest.Parallel(t)
	s := guessSite(t, "max_failures 100\n\t\t\tlimit guesses 100 1d\n\t\t\tlockout_after 3\n\t\t\tlockout 1h")
	carol, secret := carolWithApp(t, s) // from 198.51.100.7: her browser is known now
	s.Advance(time.Minute)
	sitetest.Expect(t, carol.Post("/admin/.smsgate/logout", url.Values{"csrf": {carol.CSRF("/admin/.smsgate/logout")}}), http.StatusOK, "")

	mallory := sitetest.NewClient(t, "").From("198.51.100.7") // the same address
	tok := mallory.CSRF("/admin/.smsgate/login")
	sitetest.Expect(t, mallory.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	wrong := sitetest.WrongCode(sitetest.AppCode(t, secret))
	for range 3 {
		mallory.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {wrong}, "csrf": {tok}})
	}
	if res := mallory.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the stranger, past lockout_after: %d, want 429\n%s", res.StatusCode, res.Text)
	}

	s.Advance(30 * time.Second)
	tok = carol.CSRF("/admin/.smsgate/login")
	sitetest.Expect(t, carol.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	res := carol.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "/") {
		t.Fatalf("carol's own browser at her address, after a stranger's wrong codes there: %d, want 303 to /\n%s", res.StatusCode, res.Text)
	}
	// Her own wrong codes still lock her browser out there.
	s.Advance(30 * time.Second)
	sitetest.Expect(t, carol.Post("/admin/.smsgate/logout", url.Values{"csrf": {carol.CSRF("/admin/.smsgate/logout")}}), http.StatusOK, "")
	tok = carol.CSRF("/admin/.smsgate/login")
	sitetest.Expect(t, carol.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	for range 3 {
		carol.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.WrongCode(sitetest.AppCode(t, secret))}, "csrf": {tok}})
	}
	sitetest.Expect(t, carol.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusTooManyRequests, "")
}

// TestAStrangerAtTheOwnersAddressSpendsNotHerSends: the send limit of a
// client address (limit ip, 20 an hour) was the address's, whoever sent:
// a stranger behind carol's address (a NAT) who typed 19 made-up names at
// the login form (decoys: no text sent, nothing paid) used it up, and
// carol's own browser there got no code for an hour (before: 429 at her
// login). Now a known browser's sends from an address take a window of
// their own, as its user and number budgets do; the stranger's own
// window still holds him.
func TestAStrangerAtTheOwnersAddressSpendsNotHerSends(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, sitetest.AppSite)
	carol := sitetest.NewClient(t, "").From("198.51.100.7")
	sitetest.SignIn(t, s, carol)
	sitetest.Expect(t, carol.Post("/.smsgate/logout", url.Values{"csrf": {carol.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
	s.Advance(time.Minute)

	mallory := sitetest.NewClient(t, "").From("198.51.100.7")
	refused := 0
	for i := range 25 {
		tok := mallory.CSRF("/.smsgate/login")
		if res := mallory.Post("/.smsgate/login", url.Values{"username": {fmt.Sprintf("nobody%d", i)}, "csrf": {tok}}); res.StatusCode == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("25 names from one address in a minute: none refused by the address's send limit")
	}
	sent := s.Sent()
	tok := carol.CSRF("/.smsgate/login")
	res := carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	if res.StatusCode != http.StatusSeeOther || s.Sent() != sent+1 {
		t.Fatalf("carol's own browser at her address, after a stranger's names there: %d, %d texts sent; want 303 and one\n%s", res.StatusCode, s.Sent()-sent, res.Text)
	}
	sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

// TestAStrangerAtTheOwnersAddressSpendsNotHerRecoveryTries: the recovery
// code tries of a client address (10 an hour) were the address's, whoever
// tried: a stranger behind carol's address who named her twice and sent
// ten wrong recovery codes kept her own browser there from using hers for
// an hour (before: 429 for her right recovery code). Now a known
// browser's tries from an address are counted apart, as its sends are.
func TestAStrangerAtTheOwnersAddressSpendsNotHerRecoveryTries(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, sitetest.AppSite)
	carol := sitetest.NewClient(t, "").From("198.51.100.7")
	codes := recoveryCodesSignedOut(t, s, carol)
	refused := false
	for range 3 {
		s.Advance(time.Minute)
		mallory := sitetest.NewClient(t, "").From("198.51.100.7")
		tok := mallory.CSRF("/.smsgate/login")
		mallory.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
		for range 5 {
			res := mallory.Post("/.smsgate/verify", url.Values{"code": {"ABCDE-FGHJK"}, "csrf": {tok}})
			refused = refused || res.StatusCode == http.StatusTooManyRequests
		}
	}
	if !refused {
		t.Fatal("15 wrong recovery codes from one address: none refused")
	}
	s.Advance(time.Minute)
	tok := carol.CSRF("/.smsgate/login")
	sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if res := carol.Post("/.smsgate/verify", url.Values{"code": {codes[0][1]}, "csrf": {tok}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("carol's own browser at her address, her recovery code after a stranger's wrong ones there: %d %s, want 303 to /\n%s", res.StatusCode, res.Header.Get("Location"), res.Text)
	}
}

// recoveryCodesSignedOut signs carol in with a code at s's /.smsgate/, makes
// her ten recovery codes, and signs her out: the codes' submatches.
func recoveryCodesSignedOut(t *testing.T, s *sitetest.Site, carol *sitetest.Client) [][]string {
	t.Helper()
	sitetest.SignIn(t, s, carol)
	sitetest.Expect(t, carol.Post("/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {carol.CSRF("/.smsgate/devices")}}), http.StatusSeeOther, "/.smsgate/recovery")
	codes := sitetest.RecoveryCode.FindAllStringSubmatch(carol.Get("/.smsgate/recovery").Text, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	sitetest.Expect(t, carol.Post("/.smsgate/logout", url.Values{"csrf": {carol.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
	return codes
}

// passkeyBeginSite starts a site of carol (and the lines of users) with
// limit stranger_ip 2 1h, and begin: a passkey sign-in begun at its login
// form by a client, its answer's status.
func passkeyBeginSite(t *testing.T, users string) (*sitetest.Site, func(*sitetest.Client) int) {
	t.Helper()
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671`+users+`
		site_origin http://localhost:{HTTP_PORT}
		limit stranger_ip 2 1h
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	return s, func(c *sitetest.Client) int {
		c.CSRF("/.smsgate/login") // a flow
		return c.PostJSON("/.smsgate/passkey/login/begin", s.Base, map[string]string{}).StatusCode
	}
}

// twoBegunThenRefused checks that c's next three passkey sign-ins begun
// are answered 200, 200, 429 (stranger_ip 2); who names them in a failure.
func twoBegunThenRefused(t *testing.T, begin func(*sitetest.Client) int, c *sitetest.Client, who string) {
	t.Helper()
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
		if got := begin(c); got != want {
			t.Fatalf("%s %d: %d, want %d", who, i+1, got, want)
		}
	}
}

// TestAStrangerAtTheOwnersAddressSpendsNotHerPasskeySignIns: a passkey
// sign-in begun at the login form names nobody (the passkey names its
// user once answered), so one begun by carol's known browser counted in
// the address's stranger_ip, whoever began it: a stranger behind her
// address (a NAT) who began stranger_ip of them an hour kept her own
// browser there from beginning one (before: 429), and hers spent his
// window as well. Now a known browser's count in a tally of the known
// browsers at the address, apart from strangers', each held by its own.
func TestAStrangerAtTheOwnersAddressSpendsNotHerPasskeySignIns(t *testing.T) {
	sitetest.Parallel(t)
	s, begin := passkeyBeginSite(t, "")
	carol := sitetest.NewClient(t, "").From("198.51.100.9") // her login, a stranger's until then, counts there
	sitetest.SignIn(t, s, carol)                            // her browser is known from then on
	sitetest.Expect(t, carol.Post("/.smsgate/logout", url.Values{"csrf": {carol.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
	carol.From("198.51.100.7")

	mallory := sitetest.NewClient(t, "").From("198.51.100.7") // the same address
	twoBegunThenRefused(t, begin, mallory, "the stranger's passkey sign-in")
	twoBegunThenRefused(t, begin, carol, "carol's known browser at her address, after the stranger's, her passkey sign-in")

	// At another address, her own first: they leave the strangers'
	// window there whole.
	carol.From("198.51.100.8")
	for i := range 2 {
		if got := begin(carol); got != http.StatusOK {
			t.Fatalf("carol's passkey sign-in %d at 198.51.100.8: %d", i+1, got)
		}
	}
	stranger := sitetest.NewClient(t, "").From("198.51.100.8")
	twoBegunThenRefused(t, begin, stranger, "at an address where carol began two, a stranger's passkey sign-in")
}
