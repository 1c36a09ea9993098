package pages_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// trusted makes Caddy take the client IP from X-Forwarded-For sent by
// the tests (from 127.0.0.1), so one test can be many clients.

func TestVerifyOnly(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, `verify_only "a phone-hashing key of 32 bytes or more"`)
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")

	// A new session asks for the number again.
	s.Advance(time.Minute)
	c := sitetest.NewClient(t, "alice")
	tok := c.CSRF("/.smsgate/verify")
	page := c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, `name="phone"`)
	if strings.Contains(page.Text, "•671") {
		t.Fatal("the page shows a number it should not know")
	}
	// A wrong number gets the same answer, and nothing is sent.
	sent := s.Sent()
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "phone": {"+14155550100"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectBody(t, c.Get("/.smsgate/verify"), "We sent a code to &#43;1•••••••100")
	if s.Sent() != sent {
		t.Fatal("a code went to a number that is not the user's")
	}
	for _, code := range []string{"000000", "123456"} {
		sitetest.ExpectBody(t, c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), "Wrong code")
	}
	// The right number gets a code.
	s.Advance(time.Minute)
	c = sitetest.NewClient(t, "alice")
	tok = c.CSRF("/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "phone": {"+1 415 555 2671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	// Bob cannot bind Alice's number, and is not told why.
	bob := sitetest.NewClient(t, "bob")
	sent = s.Sent()
	res, tok := sitetest.EnrollWith(t, bob, "+14155552671")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectBody(t, bob.Get("/.smsgate/verify"), "We sent a code to &#43;1•••••••671")
	if s.Sent() != sent {
		t.Fatal("a code went to a number bound to another user")
	}
	for range 3 {
		res = bob.Post("/.smsgate/verify", url.Values{"code": {"424242"}, "csrf": {tok}})
		sitetest.ExpectBody(t, res, "Wrong code")
	}

	// What is on disk: no number, in any record.
	sitetest.Start(t, "http://localhost:{HTTP_PORT} {\n\trespond ok\n}") // closes the store
	db, err := badger.Open(badger.DefaultOptions(s.Store).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	records := 0
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			records++
			v, _ := it.Item().ValueCopy(nil)
			if strings.Contains(string(it.Item().Key())+string(v), "5552671") {
				t.Errorf("record %s holds the number: %s", it.Item().Key(), v)
			}
		}
		return nil
	})
	if err != nil || records == 0 {
		t.Fatalf("scanning the store: %d records, %v", records, err)
	}
}

func TestBruteForceLocksTheAccountFromThatIP(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		lockout_after 10
		lockout 5m
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	attacker := sitetest.NewClient(t, "").From("203.0.113.66")
	tok := attacker.CSRF("/.smsgate/login")
	wrong := 0
	var res *sitetest.Response
	for wrong < 10 {
		s.Advance(time.Minute) // past the resend cooldown
		sitetest.Expect(t, attacker.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.LastCode()
		for range 5 {
			guess := "000000"
			if code == guess {
				guess = "000001"
			}
			res = attacker.Post("/.smsgate/verify", url.Values{"code": {guess}, "csrf": {tok}})
			if wrong++; wrong == 10 {
				break
			}
		}
	}
	sitetest.Expect(t, res, http.StatusTooManyRequests, "")
	sitetest.ExpectBody(t, res, "sign-in is locked for 5 minutes")
	// Locked: even the right code, and no new codes, from that IP.
	sent := s.Sent()
	res = attacker.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusTooManyRequests, "")
	if s.Sent() != sent {
		t.Fatal("a locked-out client got a code sent")
	}
	if len(s.LogEntries("locked_out")) != 1 {
		t.Fatal("no locked_out event")
	}
	// Carol, elsewhere, still signs in.
	s.Advance(time.Minute) // past the cooldown of the attacker's last code
	carol := sitetest.NewClient(t, "").From("198.51.100.20")
	tok = carol.CSRF("/.smsgate/login")
	sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

func TestBombingOneNumberFromManyIPs(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		limit number 4 1h
		limit user 100 1h
		resend_cooldown 1s
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	s.StartOfHour()
	for i := range 20 {
		s.Advance(31 * time.Second) // past the resend cooldown (1 s, doubling with each code: 16 s after the 4th)
		c := sitetest.NewClient(t, "").From(fmt.Sprintf("198.51.100.%d", i+1))
		tok := c.CSRF("/.smsgate/login")
		c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	}
	if s.Sent() != 4 {
		t.Fatalf("20 clients got %d codes sent to one number; the limit is 4", s.Sent())
	}
	hits := s.LogEntries("limit_hit")
	if len(hits) != 16 || hits[0]["limit"] != "number" {
		t.Fatalf("%d limit_hit events (first: %v); want 16 for the number limit", len(hits), hits[0])
	}
}

func TestPumpingManyNumbers(t *testing.T) {
	sitetest.Parallel(t)
	s := pumpingSite(t, []string{"alice", "bob"}, "limit ip 3 1h", "limit user 100 1h", "limit global_new 5 1h")
	pump := func(user, ip string, n, first int) {
		c := sitetest.NewClient(t, user).From(ip)
		for i := range n {
			tok := c.CSRF("/.smsgate/enroll")
			c.Post("/.smsgate/enroll", url.Values{"phone": {fmt.Sprintf("+1415555%04d", first+i)}, "csrf": {tok}})
		}
	}
	// One IP: its own limit holds.
	pump("alice", "203.0.113.1", 10, 1000)
	if s.Sent() != 3 {
		t.Fatalf("one IP pumped %d numbers; the limit is 3", s.Sent())
	}
	// Many IPs: the global budget for new numbers holds.
	for i := range 6 {
		pump("bob", fmt.Sprintf("203.0.113.%d", 10+i), 3, 2000+10*i)
	}
	if s.Sent() != 5 {
		t.Fatalf("many IPs pumped %d numbers; the new-number budget is 5", s.Sent())
	}
}

func TestPhonePolicyThroughTheGate(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "allowed_regions GB\n\t\tdeny_prefixes +44740")
	c := sitetest.NewClient(t, "alice")
	for num, msg := range map[string]string{
		"+14155552671":  "Numbers from this country are not accepted here.",
		"+447400123456": "This number is not accepted here.",
		"+448712345678": "cannot receive codes",
	} {
		res, _ := sitetest.EnrollWith(t, c, num)
		sitetest.Expect(t, res, http.StatusBadRequest, "")
		sitetest.ExpectBody(t, res, msg)
	}
	if s.Sent() != 0 {
		t.Fatal("a refused number was sent a code")
	}
	res, _ := sitetest.EnrollWith(t, c, "+447812345678")
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
}

func TestMetrics(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, c, "+14155552671")
	res, err := http.Get(s.WithPorts("http://localhost:{ADMIN_PORT}/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	body := string(raw)
	for _, want := range []string{
		`caddy_smsgate_sends_total{channel="sms",provider="log.1",result="delivered"}`,
		`caddy_smsgate_verifications_total{result="success"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "4155552671") || strings.Contains(body, `user="`) {
		t.Error("metrics carry a number or a user")
	}
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %s
	}
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "hi"
}`, sitetest.DemoHash))
	c := sitetest.NewClient(t, "alice")
	tok := c.CSRF("/.smsgate/enroll")
	post := func(header map[string]string) *sitetest.Response {
		req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/enroll", strings.NewReader(url.Values{"phone": {"+14155552671"}, "csrf": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return c.Do(req)
	}
	// A valid token is not enough from another origin.
	for _, h := range []map[string]string{
		{"Origin": "https://evil.example"},
		{"Origin": "http://localhost:9081"},
		{"Referer": "https://evil.example/page"},
		{"Origin": "http://localhost:{HTTP_PORT}", "X-Forwarded-Proto": "https"}, // behind TLS, the public origin is https
	} {
		sitetest.Expect(t, post(h), http.StatusForbidden, "")
	}
	if s.Sent() != 0 {
		t.Fatal("a cross-site form sent a code")
	}
	// The site itself, behind a TLS-terminating trusted proxy.
	sitetest.Expect(t, post(map[string]string{"Origin": "https://localhost:{HTTP_PORT}", "X-Forwarded-Proto": "https"}), http.StatusSeeOther, "/.smsgate/verify")
}

func TestUntrustedForwardedProtoIsIgnored(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "") // no trusted_proxies: X-Forwarded-Proto means nothing
	c := sitetest.NewClient(t, "alice")
	tok := c.CSRF("/.smsgate/enroll")
	req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/enroll", strings.NewReader(url.Values{"phone": {"+14155552671"}, "csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://localhost:{HTTP_PORT}")
	req.Header.Set("X-Forwarded-Proto", "https")
	sitetest.Expect(t, c.Do(req), http.StatusForbidden, "")
}
