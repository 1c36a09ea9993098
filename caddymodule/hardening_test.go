package caddymodule_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/smsgate/caddy-smsgate/caddymodule"
)

// trusted makes Caddy take the client IP from X-Forwarded-For sent by
// the tests (from 127.0.0.1), so one test can be many clients.
const trusted = `servers {
		trusted_proxies static 127.0.0.1/32
	}`

func TestVerifyOnly(t *testing.T) {
	t.Setenv("SMSGATE_TEST_PHONE_KEY", "a phone-hashing key of 32 bytes or more")
	s := basicSite(t, "verify_only {env.SMSGATE_TEST_PHONE_KEY}")
	alice := newClient(t, "alice")
	enroll(t, s, alice, "+14155552671")

	// A new session asks for the number again.
	caddymodule.Advance(time.Minute)
	c := newClient(t, "alice")
	tok := c.csrf("/.smsgate/verify")
	page := c.get("/.smsgate/verify")
	expectBody(t, page, `name="phone"`)
	if strings.Contains(page.body, "•671") {
		t.Fatal("the page shows a number it should not know")
	}
	// A wrong number gets the same answer, and nothing is sent.
	sent := s.sent()
	expect(t, c.post("/.smsgate/verify", url.Values{"action": {"send"}, "phone": {"+14155550100"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	expectBody(t, c.get("/.smsgate/verify"), "We sent a code to &#43;1•••••••100")
	if s.sent() != sent {
		t.Fatal("a code went to a number that is not the user's")
	}
	for _, code := range []string{"000000", "123456"} {
		expectBody(t, c.post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), "Wrong code")
	}
	// The right number gets a code.
	caddymodule.Advance(time.Minute)
	c = newClient(t, "alice")
	tok = c.csrf("/.smsgate/verify")
	expect(t, c.post("/.smsgate/verify", url.Values{"action": {"send"}, "phone": {"+1 415 555 2671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	expect(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	// Bob cannot bind Alice's number, and is not told why.
	bob := newClient(t, "bob")
	sent = s.sent()
	res, tok := enrollWith(t, bob, "+14155552671")
	expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	expectBody(t, bob.get("/.smsgate/verify"), "We sent a code to &#43;1•••••••671")
	if s.sent() != sent {
		t.Fatal("a code went to a number bound to another user")
	}
	for range 3 {
		res = bob.post("/.smsgate/verify", url.Values{"code": {"424242"}, "csrf": {tok}})
		expectBody(t, res, "Wrong code")
	}

	// What is on disk: no number, in any record.
	startSite(t, "http://localhost:{HTTP_PORT} {\n\trespond ok\n}") // closes the store
	db, err := badger.Open(badger.DefaultOptions(s.store).WithLogger(nil))
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
	s := startSiteWith(t, trusted, `http://localhost:{HTTP_PORT} {
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
	attacker := newClient(t, "").from("203.0.113.66")
	tok := attacker.csrf("/.smsgate/login")
	wrong := 0
	var res *response
	for wrong < 10 {
		caddymodule.Advance(time.Minute) // past the resend cooldown
		expect(t, attacker.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.lastCode()
		for range 5 {
			guess := "000000"
			if code == guess {
				guess = "000001"
			}
			res = attacker.post("/.smsgate/verify", url.Values{"code": {guess}, "csrf": {tok}})
			if wrong++; wrong == 10 {
				break
			}
		}
	}
	expect(t, res, http.StatusTooManyRequests, "")
	expectBody(t, res, "sign-in is locked for 5 minutes")
	// Locked: even the right code, and no new codes, from that IP.
	sent := s.sent()
	res = attacker.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	expect(t, res, http.StatusTooManyRequests, "")
	if s.sent() != sent {
		t.Fatal("a locked-out client got a code sent")
	}
	if len(s.logEntries("locked_out")) != 1 {
		t.Fatal("no locked_out event")
	}
	// Carol, elsewhere, still signs in.
	caddymodule.Advance(time.Minute) // past the cooldown of the attacker's last code
	carol := newClient(t, "").from("198.51.100.20")
	tok = carol.csrf("/.smsgate/login")
	expect(t, carol.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	expect(t, carol.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

func TestBombingOneNumberFromManyIPs(t *testing.T) {
	s := startSiteWith(t, trusted, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		limit number 4 1h
		limit user 100 1h
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	caddymodule.StartOfHour()
	for i := range 20 {
		caddymodule.Advance(31 * time.Second) // past the resend cooldown
		c := newClient(t, "").from(fmt.Sprintf("198.51.100.%d", i+1))
		tok := c.csrf("/.smsgate/login")
		c.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
	}
	if s.sent() != 4 {
		t.Fatalf("20 clients got %d codes sent to one number; the limit is 4", s.sent())
	}
	hits := s.logEntries("limit_hit")
	if len(hits) != 16 || hits[0]["limit"] != "number" {
		t.Fatalf("%d limit_hit events (first: %v); want 16 for the number limit", len(hits), hits[0])
	}
}

func TestPumpingManyNumbers(t *testing.T) {
	s := startSiteWith(t, trusted, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth {
		alice %[1]s
		bob %[1]s
	}
	smsgate {
		limit ip 3 1h
		limit user 100 1h
		limit global_new 5 1h
		store badger {DIR}
		provider log
	}
	respond "hi"
}`, demoHash))
	caddymodule.StartOfHour()
	pump := func(user, ip string, n, first int) {
		c := newClient(t, user).from(ip)
		for i := range n {
			tok := c.csrf("/.smsgate/enroll")
			c.post("/.smsgate/enroll", url.Values{"phone": {fmt.Sprintf("+1415555%04d", first+i)}, "csrf": {tok}})
		}
	}
	// One IP: its own limit holds.
	pump("alice", "203.0.113.1", 10, 1000)
	if s.sent() != 3 {
		t.Fatalf("one IP pumped %d numbers; the limit is 3", s.sent())
	}
	// Many IPs: the global budget for new numbers holds.
	for i := range 6 {
		pump("bob", fmt.Sprintf("203.0.113.%d", 10+i), 3, 2000+10*i)
	}
	if s.sent() != 5 {
		t.Fatalf("many IPs pumped %d numbers; the new-number budget is 5", s.sent())
	}
}

func TestPhonePolicyThroughTheGate(t *testing.T) {
	s := basicSite(t, "allowed_regions GB\n\t\tdeny_prefixes +44740")
	c := newClient(t, "alice")
	for num, msg := range map[string]string{
		"+14155552671":  "Numbers from this country are not accepted here.",
		"+447400123456": "This number is not accepted here.",
		"+448712345678": "cannot receive codes",
	} {
		res, _ := enrollWith(t, c, num)
		expect(t, res, http.StatusBadRequest, "")
		expectBody(t, res, msg)
	}
	if s.sent() != 0 {
		t.Fatal("a refused number was sent a code")
	}
	res, _ := enrollWith(t, c, "+447812345678")
	expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
}

func TestMetrics(t *testing.T) {
	s := basicSite(t, "")
	c := newClient(t, "alice")
	enroll(t, s, c, "+14155552671")
	res, err := http.Get(withPorts("http://localhost:{ADMIN_PORT}/metrics"))
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
	s := startSiteWith(t, trusted, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth {
		alice %s
	}
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "hi"
}`, demoHash))
	c := newClient(t, "alice")
	tok := c.csrf("/.smsgate/enroll")
	post := func(header map[string]string) *response {
		req, _ := http.NewRequest(http.MethodPost, base+"/.smsgate/enroll", strings.NewReader(url.Values{"phone": {"+14155552671"}, "csrf": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return c.do(req)
	}
	// A valid token is not enough from another origin.
	for _, h := range []map[string]string{
		{"Origin": "https://evil.example"},
		{"Origin": "http://localhost:9081"},
		{"Referer": "https://evil.example/page"},
		{"Origin": "http://localhost:{HTTP_PORT}", "X-Forwarded-Proto": "https"}, // behind TLS, the public origin is https
	} {
		expect(t, post(h), http.StatusForbidden, "")
	}
	if s.sent() != 0 {
		t.Fatal("a cross-site form sent a code")
	}
	// The site itself, behind a TLS-terminating trusted proxy.
	expect(t, post(map[string]string{"Origin": "https://localhost:{HTTP_PORT}", "X-Forwarded-Proto": "https"}), http.StatusSeeOther, "/.smsgate/verify")
}

func TestUntrustedForwardedProtoIsIgnored(t *testing.T) {
	basicSite(t, "") // no trusted_proxies: X-Forwarded-Proto means nothing
	c := newClient(t, "alice")
	tok := c.csrf("/.smsgate/enroll")
	req, _ := http.NewRequest(http.MethodPost, base+"/.smsgate/enroll", strings.NewReader(url.Values{"phone": {"+14155552671"}, "csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://localhost:{HTTP_PORT}")
	req.Header.Set("X-Forwarded-Proto", "https")
	expect(t, c.do(req), http.StatusForbidden, "")
}
