package pages_test

// The outside attack's findings, each replayed through a real Caddy as the
// attacker ran it. Every test here failed before its fix. (The findings on
// the module are in caddymodule/outside_attack_test.go.)

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// The attacker, with the password, starts enrolling phone A; the victim
// enrolls B; the attacker's code for A must not add a second phone.
func TestLateEnrollmentAddsNoPhone(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	attacker := sitetest.NewClient(t, "demo")
	atok := attacker.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, attacker.Post("/.smsgate/enroll", url.Values{"phone": {"+447911123456"}, "csrf": {atok}}), http.StatusSeeOther, "/.smsgate/verify")
	attackerCode := s.LastCode()
	sitetest.Enroll(t, s, sitetest.NewClient(t, "demo"), "+14155552671")

	res := attacker.Post("/.smsgate/verify", url.Values{"code": {attackerCode}, "csrf": {atok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "already enrolled")
	if attacker.Cookie("smsgate_session") != "" {
		t.Fatal("the late enrollment got a session")
	}
	st, body := sitetest.Admin(t, "GET", "/smsgate/users?realm=localhost", "")
	if st != 200 || strings.Contains(body, "•456") || strings.Count(body, `"id"`) != 1 {
		t.Fatalf("demo's phones after the late enrollment: %s", body)
	}

	// An expired enrollment cannot be revived with "send again".
	other := sitetest.NewClient(t, "alice")
	otok := other.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, other.Post("/.smsgate/enroll", url.Values{"phone": {"+447911123457"}, "csrf": {otok}}), http.StatusSeeOther, "/.smsgate/verify")
	s.Advance(6 * time.Minute)
	before := s.Sent()
	other.Post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {otok}})
	if s.Sent() != before {
		t.Fatalf("an expired enrollment was resent: %v", s.LogEntries("verification code")[before:])
	}
}

// Strangers who can name a user (identity none) cannot keep them out: 100
// wrong recovery codes from 10 IPs, or the user's whole send budget spent
// from elsewhere, leave the user's own sign-in working.
func TestStrangersCannotLockAUserOut(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user alice +14155552671
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	login := func(c *sitetest.Client) (string, *sitetest.Response) {
		tok := c.CSRF("/.smsgate/login")
		return tok, c.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}})
	}
	// Alice signs in once: her browser is known from then on.
	alice := sitetest.NewClient(t, "").From("192.0.2.7")
	tok, res := login(alice)
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	alice.Post("/.smsgate/logout", url.Values{"csrf": {alice.CSRF("/.smsgate/logout")}})

	tried, throttled := 0, 0
	for i := 0; tried+throttled < 100; i++ {
		s.Advance(31 * time.Second) // past the login cooldown
		m := sitetest.NewClient(t, "").From(fmt.Sprintf("203.0.113.%d", i%10))
		mtok, res := login(m)
		if res.StatusCode != http.StatusSeeOther {
			break // the strangers spent the budget for alice's name
		}
		for range 5 {
			res := m.Post("/.smsgate/verify", url.Values{"code": {"AAAAA-AAAAA"}, "csrf": {mtok}})
			switch res.StatusCode {
			case http.StatusBadRequest:
				tried++
			case http.StatusTooManyRequests:
				throttled++
			default:
				t.Fatalf("a wrong recovery code: %d %s", res.StatusCode, res.Text)
			}
		}
	}
	if tried > 50 {
		t.Fatalf("%d recovery codes checked for one name in an hour", tried)
	}
	// Alice, from her own browser, still gets a code and gets in.
	s.Advance(31 * time.Second)
	tok, res = login(alice)
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	res = alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")

	// And a new browser of hers waits at most 15 minutes.
	s.Advance(16 * time.Minute)
	fresh := sitetest.NewClient(t, "").From("192.0.2.8")
	if tok, res = login(fresh); res.StatusCode == http.StatusSeeOther {
		res = fresh.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
		if res.StatusCode == http.StatusTooManyRequests && strings.Contains(res.Text, "locked") {
			t.Fatalf("alice is locked out after the strangers: %s", res.Text)
		}
	}
}

// Nothing a client sees tells a known user from an unknown one: the flow
// cookie is opaque, and the cooldowns answer alike.
func TestLoginTellsNothingAboutWhoExists(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user known-user +14155552671
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	statuses := func(name, number string) []int {
		c := sitetest.NewClient(t, "")
		tok := c.CSRF("/.smsgate/login")
		var out []int
		for _, typed := range []string{name, number, name, number} {
			res := c.Post("/.smsgate/login", url.Values{"username": {typed}, "csrf": {tok}})
			out = append(out, res.StatusCode)
			flow := c.Cookie("smsgate_flow")
			raw, _ := base64.RawURLEncoding.DecodeString(flow)
			// Sealed: no JWT to decode, no name in it (the names are long
			// enough not to turn up in random bytes by chance).
			if strings.HasPrefix(flow, "eyJ") || strings.Count(flow, ".") == 2 {
				t.Fatalf("the flow cookie is a readable JWT: %s", flow)
			}
			for _, leak := range []string{typed, "unknown +1"} {
				if strings.Contains(flow, leak) || strings.Contains(string(raw), leak) {
					t.Fatalf("the flow cookie shows %q: %s", leak, flow)
				}
			}
		}
		return out
	}
	known := statuses("known-user", "+14155552671")
	s.Advance(time.Minute)
	unknown := statuses("nobody-here", "+14155552672")
	if fmt.Sprint(known) != fmt.Sprint(unknown) {
		t.Fatalf("a known user's logins answer %v, an unknown one's %v", known, unknown)
	}
	// A number typed as a name, even mistyped, is never logged whole.
	c := sitetest.NewClient(t, "")
	c.Post("/.smsgate/login", url.Values{"username": {"415 555 2671 x"}, "csrf": {c.CSRF("/.smsgate/login")}})
	raw, _ := os.ReadFile(s.LogFile)
	if strings.Contains(strings.ReplaceAll(string(raw), " ", ""), "5552671x") {
		t.Fatal("a typed number reached the log whole")
	}
}

// A provider outage that sends nothing (the gateway refuses every
// message: a 4xx, or no connection) gives back the code's wait and the
// number's window: each retry goes at once, and once the gateway is back
// the user gets a code. The user's and the IP's windows keep the refused
// sends, as they keep sends (a refusal is what an attacker brings about
// with the numbers it types: TestARefusedNumberCountsInTheUsersWindows),
// so the retries stop at `limit user`. (One that may have sent, a 5xx,
// keeps the wait and the budget spent: TestAnUnconfirmedTextCountsAsSent.)
func TestGatewayOutageGivesTheWaitBack(t *testing.T) {
	sitetest.Parallel(t)
	hook := fakes.NewHook(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		demo `+sitetest.DemoHash+`
	}
	smsgate {
		store badger {DIR}
		provider webhook `+hook.URL+`
		limit number 3 1h
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	c := sitetest.NewClient(t, "demo")
	tok := c.CSRF("/.smsgate/enroll")
	hook.Status = http.StatusTooManyRequests
	for i := range 9 {
		if res := c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}); res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("send %d during the outage: %d %s", i, res.StatusCode, res.Text)
		}
	}
	hook.Status = http.StatusOK
	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	s.Advance(2 * time.Minute) // past the code's wait
	tok = c.CSRF("/.smsgate/enroll")
	res := c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552672"}, "csrf": {tok}})
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(res.Text, "You have requested too many codes") {
		t.Fatalf("an eleventh send from the user within the hour: %d %s, want 429 (limit user 10)", res.StatusCode, res.Text)
	}
}

// Small holes: satellite numbers, 10-digit codes taken for recovery codes,
// JSON with Origin: null.
func TestSmallHoles(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "code_length 10")
	c := sitetest.NewClient(t, "demo")
	tok := c.CSRF("/.smsgate/enroll")
	res := c.Post("/.smsgate/enroll", url.Values{"phone": {"+881631234567"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "Satellite and other non-geographic numbers")
	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	code := s.LastCode()
	wrong := "2345678923"
	if code == wrong {
		wrong = "2345678924"
	}
	res = c.Post("/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "Wrong code; 4 tries left")
	sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), "/")

	j := sitetest.NewClient(t, "alice")
	req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/enroll", strings.NewReader(`{"phone":"+14155552671"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", "null")
	req.Header.Set("Referer", s.Base+"/.smsgate/enroll")
	sitetest.Expect(t, j.Do(req), http.StatusForbidden, "")
}

// What strangers can make the gate keep is bounded per IP, per IPv6 /48
// and in total, for decoy logins and passkey sign-ins alike; a browser
// that signed in before is no stranger. On main, logins were bounded only
// by the send limits' 20 an hour per /64 (65,536 /64s to a /48), and
// passkey sign-ins not at all.
func TestStrangersAreBounded(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		site_origin http://localhost:{HTTP_PORT}
		limit stranger_ip 3 1h
		limit stranger_net 5 1h
		limit strangers 12 1h
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	n := 0
	login := func(c *sitetest.Client, name string) *sitetest.Response {
		if name == "nobody" { // a name of its own: no cooldown of another's
			n++
			name += strconv.Itoa(n)
		}
		return c.Post("/.smsgate/login", url.Values{"username": {name}, "csrf": {c.CSRF("/.smsgate/login")}})
	}
	from := func(ip string) *sitetest.Client { return sitetest.NewClient(t, "").From(ip) }
	passkey := func(ip string) *sitetest.Response {
		c := from(ip)
		c.CSRF("/.smsgate/login")
		return c.PostJSON("/.smsgate/passkey/login/begin", s.Base, map[string]string{})
	}
	// Carol signs in: her browser is known from then on.
	carol := from("198.51.100.9")
	sitetest.Expect(t, login(carol, "carol"), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, carol.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {carol.CSRF("/.smsgate/verify")}}), http.StatusSeeOther, "/")
	// Per IP: three, whatever they are.
	sitetest.Expect(t, login(from("198.51.100.1"), "nobody-1"), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, passkey("198.51.100.1"), http.StatusOK, "")
	sitetest.Expect(t, login(from("198.51.100.1"), "carol"), http.StatusSeeOther, "/.smsgate/verify")
	res := login(from("198.51.100.1"), "nobody-2")
	sitetest.Expect(t, res, http.StatusTooManyRequests, "")
	sitetest.ExpectBody(t, res, "Too many sign-ins were started from your network")
	sitetest.Expect(t, passkey("198.51.100.1"), http.StatusTooManyRequests, "")
	// Per /48: five, from its /64s.
	for i := range 2 {
		sitetest.Expect(t, passkey(fmt.Sprintf("2001:db8:1:%x::1", i)), http.StatusOK, "")
		sitetest.Expect(t, login(from(fmt.Sprintf("2001:db8:1:%x::2", i)), "nobody"), http.StatusSeeOther, "/.smsgate/verify")
	}
	sitetest.Expect(t, login(from("2001:db8:1:ff::1"), "nobody"), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, login(from("2001:db8:1:fe::1"), "nobody"), http.StatusTooManyRequests, "")
	// In total: twelve, from anywhere.
	for _, ip := range []string{"198.51.100.2", "198.51.100.3", "198.51.100.4"} {
		sitetest.Expect(t, login(from(ip), "nobody"), http.StatusSeeOther, "/.smsgate/verify")
	}
	res = login(from("198.51.100.5"), "nobody")
	sitetest.Expect(t, res, http.StatusTooManyRequests, "")
	sitetest.ExpectBody(t, res, "Too many sign-ins were started on this site")
	sitetest.Expect(t, passkey("198.51.100.6"), http.StatusTooManyRequests, "")
	// Carol's own browser still signs her in.
	s.Advance(time.Minute) // past her code's cooldown
	sent := s.Sent()
	sitetest.Expect(t, login(carol, "carol"), http.StatusSeeOther, "/.smsgate/verify")
	if s.Sent() != sent+1 {
		t.Fatal("carol's known browser was refused with the strangers")
	}
}

// A form that trickles in is cut off: the gate waits for a POST's body no
// longer than a browser takes to send one (10 s; shortened here). On main
// a byte every few seconds held the connection as long as the client
// liked.
func TestSlowBodiesAreCutOff(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Carol(t, "")
	s.Set("body-time", "1s")
	conn, err := net.Dial("tcp", s.WithPorts("127.0.0.1:{HTTP_PORT}"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /.smsgate/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n", s.WithPorts("localhost:{HTTP_PORT}"))
	answered := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		answered <- line
	}()
	start := time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case line := <-answered:
			if !strings.HasPrefix(line, "HTTP/1.1 408") {
				t.Fatalf("a slow body got %q", line)
			}
			if took := time.Since(start); took > 4*time.Second {
				t.Fatalf("answered after %s", took)
			}
			return
		case <-tick.C:
			if time.Since(start) > 6*time.Second {
				t.Fatal("the gate still waits for a body sent a byte every 200 ms")
			}
			_, _ = conn.Write([]byte("u"))
		}
	}
}

// Passkey sign-ins begun behind a first factor are capped too: each keeps
// a ceremony (on main, 10,000 from one IP took 4.2 s and nothing refused).
func TestPasskeySignInsAreCapped(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "site_origin http://localhost:{HTTP_PORT}\n\t\tlimit stranger_ip 2 1h")
	alice := sitetest.NewClient(t, "alice")
	alice.CSRF("/.smsgate/enroll") // a flow
	for i := range 3 {
		res := alice.PostJSON("/.smsgate/passkey/login/begin", s.Base, map[string]string{})
		if i < 2 && res.StatusCode == http.StatusTooManyRequests || i == 2 && res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("passkey sign-in %d: %d %s", i+1, res.StatusCode, res.Text)
		}
	}
}
