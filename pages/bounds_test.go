package pages_test

// Every factor held to the same bounds (outside attack, round ten): an
// app's code checked against several apps, and a recovery code at a route
// that requires a kind of device.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// wrongForAll is a six-digit code that none of the apps' secrets accepts
// now (their step, or the one on either side).
func wrongForAll(t *testing.T, secrets ...string) string {
	t.Helper()
	right := map[string]bool{}
	for _, secret := range secrets {
		secret = strings.ReplaceAll(secret, " ", "")
		for d := -1; d <= 1; d++ {
			code, err := totp.GenerateCodeCustom(secret, sitetest.NowOf(t).Add(time.Duration(d)*30*time.Second),
				totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				t.Fatal(err)
			}
			right[code] = true
		}
	}
	for n := 0; ; n++ {
		if code := fmt.Sprintf("%06d", n); !right[code] {
			return code
		}
	}
}

// TestEveryAppComparedIsAGuess: a code typed for a user with two apps is
// compared with both apps' codes (six accepted, not three), so it is two
// guesses: strangers get half as many codes checked in the window. Before,
// a check took one slot whatever the number of apps, and a user with ten
// apps (MaxDevices) gave strangers 30 accepted codes a guess: 8.6% in 30
// days at the defaults, where the window promises at most 1%.
func TestEveryAppComparedIsAGuess(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, func(t *testing.T, storeLine string) { everyAppComparedIsAGuess(t, storeLine) })
}

// onBothStores runs test on Badger and on a real Redis, each with a Caddy
// of its own.
func onBothStores(t *testing.T, test func(t *testing.T, storeLine string)) {
	onBothStoresAs(t, "", test)
}

// onBothStoresAs is onBothStores with its parts named name+kind
// (sitetest.OnEachStoreAs): a test's several cases, all parts of it.
func onBothStoresAs(t *testing.T, name string, test func(t *testing.T, storeLine string)) {
	sitetest.OnEachStoreAs(t, name, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) { test(t, storeLine) })
}

func everyAppComparedIsAGuess(t *testing.T, storeLine string) {
	const window = 20
	s := guessSiteOn(t, storeLine, fmt.Sprintf("max_failures 100\n\t\t\tlimit guesses %d 1d", window))
	carol := sitetest.NewClient(t, "").From("198.51.100.7")
	first := addApp(t, s, carol)
	s.Advance(30 * time.Second)
	second := addAnotherApp(t, s, carol, first)
	s.Advance(time.Minute)

	a := newGuesser(t)
	checked := 0
	for {
		res := a.guess(wrongForAll(t, first, second))
		if res.StatusCode == http.StatusBadRequest && strings.Contains(res.Text, "Wrong code") {
			checked++
			continue
		}
		sitetest.Expect(t, res, http.StatusTooManyRequests, "")
		break
	}
	if checked != window/2 {
		t.Fatalf("%d codes checked against carol's two apps with a window of %d guesses; want %d (two guesses each)", checked, window, window/2)
	}
	// carol's own browser still signs in with either app.
	s.Advance(30 * time.Second)
	tok := carol.CSRF("/admin/.smsgate/login")
	carol.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, carol.Post("/admin/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, second)}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

// requireSMSSite guards /admin* with a gate that requires a texted code.
const requireSMSSite = `http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			user carol +14155552671
			path_prefix /admin/.smsgate/
			require sms
			store badger {DIR}
			provider log
		}
		respond "admin {http.auth.user.id} ({http.auth.user.amr})"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id}"
	}
}`

// TestNoRecoveryCodeWhereAKindIsRequired: a route that requires texted
// codes checks no recovery code, whatever action the form names. Before,
// only a form with no action was refused: any other action (one the page
// never sends, "verify") fell through to the code check, which took the
// recovery code and signed the stranger in as carol.
func TestNoRecoveryCodeWhereAKindIsRequired(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, requireSMSSite)
	carol := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, carol)
	sitetest.Expect(t, carol.Post("/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {carol.CSRF("/.smsgate/devices")}}), http.StatusSeeOther, "/.smsgate/recovery")
	codes := sitetest.RecoveryCode.FindAllStringSubmatch(carol.Get("/.smsgate/recovery").Text, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}

	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/admin/.smsgate/login")
	sitetest.Expect(t, c.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	for _, action := range []string{"", "verify", "check", "recovery"} {
		res := c.Post("/admin/.smsgate/verify", url.Values{"action": {action}, "code": {codes[0][1]}, "csrf": {tok}})
		if res.StatusCode != http.StatusBadRequest || c.Cookie("smsgate_session") != "" {
			t.Fatalf("a recovery code at the route that requires texts, action %q: %d %s", action, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// The code was never checked there: it still signs carol in where
	// recovery codes are taken.
	s.Advance(time.Minute) // the login's text to carol cooled down
	r := sitetest.NewClient(t, "")
	rtok := r.CSRF("/.smsgate/login")
	sitetest.Expect(t, r.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {rtok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, r.Post("/.smsgate/verify", url.Values{"code": {codes[0][1]}, "csrf": {rtok}}), http.StatusSeeOther, "/")
}

// TestNoCallWhereTextsAreRequired: a route that requires texted codes
// (sms) places no call, though the gate's channels include voice: the
// verify page offers no "call me instead", and a stranger who posts it
// anyway is refused before anything is paid for. Before, the call went
// out (a call costs more than a text), and its code signed carol in with
// amr tel, which the route then refused.
func TestNoCallWhereTextsAreRequired(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, strings.Replace(requireSMSSite, "require sms", "require sms\n\t\t\tchannels sms voice", 1))
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/admin/.smsgate/login")
	sitetest.Expect(t, c.Post("/admin/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	sent := s.Sent()
	if page := c.Get("/admin/.smsgate/verify"); strings.Contains(page.Text, "Call me instead") {
		t.Fatalf("the route that requires texts offers a call:\n%s", page.Text)
	}
	s.Advance(time.Minute) // past the text's cooldown
	if res := c.Post("/admin/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a call asked for at the route that requires texts: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if n := s.Sent() - sent; n != 0 {
		t.Fatalf("the route that requires texts placed %d calls", n)
	}
	// A text again is what it takes.
	sitetest.Expect(t, c.Post("/admin/.smsgate/verify", url.Values{"action": {"sms"}, "csrf": {tok}}), http.StatusSeeOther, "/admin/.smsgate/verify")
	sitetest.Expect(t, c.Post("/admin/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, c.Get("/admin"), "admin carol (sms)")
}

// TestRecoveryTriesPerSignInHoldAtOnce: of recovery codes sent at once in
// one sign-in, each from another IP, at most five are checked — as at
// most five of a texted code's tries are (its challenge counts a try
// before it checks it). Before, a sign-in's tries were counted after the
// check, so every try sent at once passed the count: 20 of 20 checked.
func TestRecoveryTriesPerSignInHoldAtOnce(t *testing.T) {
	sitetest.Parallel(t)
	onBothStores(t, recoveryTriesPerSignInHoldAtOnce)
}

func recoveryTriesPerSignInHoldAtOnce(t *testing.T, storeLine string) {
	guessSiteOn(t, storeLine, "max_failures 100")
	c := sitetest.NewClient(t, "").From("192.0.2.10")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	flow := c.Cookie("smsgate_flow")
	const tries = 20
	answers := make(chan *sitetest.Response, tries)
	start := make(chan struct{})
	for i := range tries {
		a := sitetest.NewClient(t, "").From(fmt.Sprintf("10.9.0.%d", i+1))
		a.SetCookie("smsgate_flow", flow)
		code := "ABCDE-FGHJ" + string("KLMNPQRSTUVWXYZ23456789"[i])
		go func() {
			<-start
			answers <- a.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		}()
	}
	close(start)
	checked := 0
	for range tries {
		if res := <-answers; strings.Contains(res.Text, "This recovery code is not valid") {
			checked++
		}
	}
	if checked != 5 {
		t.Fatalf("%d of %d recovery codes sent at once in one sign-in were checked; want 5", checked, tries)
	}
}

// TestFactorsLeavingSMSOutSendNoText: a gate whose factors are voice and
// totp takes no texted code, though its channels have sms (first): the
// login calls, the code signs in with amr tel, and "text me instead" is
// refused. Before, the login texted (the first channel) and the texted
// code signed carol in with amr sms at a gate that does not take sms.
func TestFactorsLeavingSMSOutSendNoText(t *testing.T) {
	sitetest.Parallel(t)
	s, c, tok := carolAtTheCode(t, "factors voice totp")
	if page := c.Get("/.smsgate/verify"); strings.Contains(page.Text, "Text me instead") || strings.Contains(page.Text, "Send me a text") {
		t.Fatalf("a gate that takes no texts offers one:\n%s", page.Text)
	}
	s.Advance(time.Minute)
	sent := s.Sent()
	if res := c.Post("/.smsgate/verify", url.Values{"action": {"sms"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest || s.Sent() != sent {
		t.Fatalf("a text asked for at a gate that takes none: %d, %d sent", res.StatusCode, s.Sent()-sent)
	}
	signsInByOneCall(t, s, c, tok)
}

// TestEveryOtherCodeDoublesTheCooldown: within one sign-in, "send me a
// code" again, "call me instead" and "text me instead" are resends as
// "send again" is: each doubles the wait before the next (30 s, 60 s,
// 120 s). Before, only "send again" doubled it; the others started over at
// 30 s, so alternating them sent a code every 30 s for as long as the code
// lived.
func TestEveryOtherCodeDoublesTheCooldown(t *testing.T) {
	sitetest.Parallel(t)
	s, c, tok := carolAtTheCode(t, "")
	wait := 30 * time.Second
	s.Advance(wait + time.Second) // past the login's code's cooldown
	for i, action := range []string{"send", "call", "sms"} {
		sent := s.Sent()
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {action}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		if s.Sent() != sent+1 {
			t.Fatalf("%s after the cooldown sent %d codes, want 1", action, s.Sent()-sent)
		}
		wait *= 2
		// Past the wait before it, not past its own: no way to another
		// code sends one.
		s.Advance(wait/2 + time.Second)
		for _, again := range []string{"send", "call", "sms", "resend"} {
			if res := c.Post("/.smsgate/verify", url.Values{"action": {again}, "csrf": {tok}}); res.StatusCode != http.StatusTooManyRequests || s.Sent() != sent+1 {
				t.Fatalf("code %d by %s: %s %s later was answered %d and sent %d codes; want 429 and none",
					i+2, action, again, wait/2+time.Second, res.StatusCode, s.Sent()-sent-1)
			}
		}
		s.Advance(wait / 2) // past its own
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, c.Get("/"), "Hello, carol (sms)")
}

// TestRequiredChannelGoesFirst: a route that requires voice, on a gate
// whose channels put sms first, calls: the login's code comes by the
// channel the route requires, and its session passes. Before, the login
// texted (the first channel), and the texted code's session was sent back
// to the sign-in, where no text is taken: no way in but asking for a call.
func TestRequiredChannelGoesFirst(t *testing.T) {
	sitetest.Parallel(t)
	s, c, tok := carolAtTheCode(t, "require voice")
	signsInByOneCall(t, s, c, tok)
}

// TestNoFirstPhoneWhereAStrongerKindIsRequired: the only gate of a site
// requires an app, so a newcomer behind basic_auth cannot begin there (a
// first device is a phone, and the route takes no phone's code). The
// enroll step says so, in the reader's language, offers no form, and a
// POST sends nothing. Before, it took the number, texted it a code (paid
// for) and refused that code with "This page asks for a sign-in with an
// authenticator app": a dead end with no reason given.
func TestNoFirstPhoneWhereAStrongerKindIsRequired(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		require totp
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash))
	alice := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, alice.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/enroll")
	page := alice.Get("/.smsgate/enroll")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Text, "your first device must be a phone, which cannot be added here") ||
		!strings.Contains(page.Text, "an authenticator app") || strings.Contains(page.Text, `name="phone"`) {
		t.Fatalf("the enroll step where no phone can be added: %d\n%s", page.StatusCode, page.Text)
	}
	if res := alice.PostJSON("/.smsgate/enroll", alice.Base(), map[string]string{"phone": "+14155552671"}); res.StatusCode != http.StatusBadRequest || s.Sent() != 0 {
		t.Fatalf("a first phone posted where none can be added: %d, %d codes sent", res.StatusCode, s.Sent())
	}
	german := sitetest.NewClient(t, "alice")
	german.Header = http.Header{"Accept-Language": {"de"}}
	if page := german.Get("/.smsgate/enroll"); !strings.Contains(page.Text, "Ihr erstes Gerät muss aber ein Telefon sein") {
		t.Fatalf("the German page:\n%s", page.Text)
	}
}

// signsInByOneCall: the login's code went by one call, and it signs carol
// in (amr tel).
func signsInByOneCall(t *testing.T, s *sitetest.Site, c *sitetest.Client, tok string) {
	t.Helper()
	msgs := s.LogEntries("verification code")
	if len(msgs) != 1 || msgs[0]["channel"] != "voice" {
		t.Fatalf("the login's code went %v, want one call", msgs)
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {lastCodeIn(msgs)}, "csrf": {tok}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, c.Get("/"), "Hello, carol (tel)")
}

// carolAtTheCode starts a site where carol (identity none, channels sms
// voice, and option) has asked for a code at the login: the site, her
// browser, and its CSRF token.
func carolAtTheCode(t *testing.T, option string) (*sitetest.Site, *sitetest.Client, string) {
	t.Helper()
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		channels sms voice
		`+option+`
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`)
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	return s, c, tok
}
