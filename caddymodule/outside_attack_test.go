package caddymodule_test

// The outside attack's findings, each replayed through a real Caddy as the
// attacker ran it. Every test here failed before its fix.

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/caddymodule"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

// hostClient is a client whose requests carry another Host header.
func (c *client) getHost(host, path string) *response {
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Host = host
	return c.do(req)
}

func (c *client) postHost(host, path string, form url.Values) *response {
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = host
	return c.do(req)
}

// A site that answers several names cannot take its realm from the
// request: it must say so at load, with the line, and never fall back to
// the Host header.
func TestRealmNeverComesFromTheHostHeader(t *testing.T) {
	for _, addr := range []string{"http://:{HTTP_PORT}", "http://*.localhost:{HTTP_PORT}", "http://localhost:{HTTP_PORT}, http://127.0.0.1:{HTTP_PORT}"} {
		cfg := "{\n\tadmin localhost:{ADMIN_PORT}\n}\n" + addr + " {\n\tsmsgate {\n\t\tprovider log\n\t}\n}\n"
		assertLoadError(t, cfg, "set realm")
		assertLoadError(t, cfg, "Caddyfile:5")
	}

	// With the realm set, every name the site answers is the same realm:
	// demo's phone, once enrolled, is the one any Host must verify with.
	s := startSite(t, `http://:{HTTP_PORT} {
	basic_auth {
		demo `+demoHash+`
	}
	smsgate {
		realm localhost
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	enroll(t, s, newClient(t, "demo"), "+14155552671")
	if body := s.logEntries("verification code")[0]["body"].(string); !strings.Contains(body, "@localhost #") {
		t.Fatalf("the WebOTP line does not name the configured host: %q", body)
	}
	for _, host := range []string{"attacker.invalid", "127.0.0.1:{HTTP_PORT}", "LOCALHOST.:{HTTP_PORT}"} {
		attacker := newClient(t, "demo") // has the password, not the phone
		expect(t, attacker.getHost(host, "/.smsgate/login"), http.StatusSeeOther, "/.smsgate/verify")
		res := attacker.getHost(host, "/.smsgate/enroll")
		expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
		page := attacker.getHost(host, "/.smsgate/verify")
		tok := csrfField.FindStringSubmatch(page.body)
		if tok == nil {
			t.Fatalf("Host %s: no verify form: %s", host, page.body)
		}
		before := s.sent()
		attacker.postHost(host, "/.smsgate/enroll", url.Values{"phone": {"+447911123456"}, "csrf": {tok[1]}})
		for _, m := range s.logEntries("verification code")[before:] {
			if m["to"] != "+1•••••••671" {
				t.Fatalf("Host %s: a code went to %v, not demo's phone", host, m["to"])
			}
		}
		if res := attacker.getHost(host, "/"); res.StatusCode == http.StatusOK {
			t.Fatalf("Host %s: in without demo's phone: %s", host, res.body)
		}
	}
}

// Two gates on one store with identity none: each admits only the users
// it names, inline and at the forward-auth check.
func TestGatesAdmitOnlyTheirUsers(t *testing.T) {
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	handle /admin/* {
		smsgate {
			identity none
			user root +14155552671
			path_prefix /admin/.smsgate/
			store badger {DIR}
			provider log
		}
		respond "admin {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity none
			user bob +447911123456
			store badger {DIR}
			provider log
		}
		respond "home {http.auth.user.id}"
	}
}`)
	signInAs := func(prefix, user string) *client {
		c := newClient(t, "")
		tok := c.csrf(prefix + "login")
		expect(t, c.post(prefix+"login", url.Values{"username": {user}, "csrf": {tok}}), http.StatusSeeOther, prefix+"verify")
		res := c.post(prefix+"verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s signs in: %d %s", user, res.StatusCode, res.body)
		}
		return c
	}
	bob := signInAs("/.smsgate/", "bob")
	expectBody(t, bob.get("/"), "home bob")
	if res := bob.get("/admin/panel"); res.StatusCode != http.StatusFound {
		t.Fatalf("bob's session opens root's gate: %d %s", res.StatusCode, res.body)
	}
	root := signInAs("/admin/.smsgate/", "root")
	expectBody(t, root.get("/admin/panel"), "admin root")
	if res := root.get("/"); res.StatusCode != http.StatusFound {
		t.Fatalf("root's session opens bob's gate: %d %s", res.StatusCode, res.body)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/.smsgate/auth?mode=status", nil)
	if res := root.do(req); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("root's session at bob's forward-auth check: %d", res.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, base+"/.smsgate/auth?mode=status", nil)
	if res := bob.do(req); res.StatusCode != http.StatusOK || res.Header.Get("Remote-User") != "bob" {
		t.Fatalf("bob at his own gate's check: %d %v", res.StatusCode, res.Header)
	}
}

// An identity assertion handed to the upstream is no session cookie, and
// never outlives the session it came from.
func TestAssertionIsNeverASession(t *testing.T) {
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		signing_alg EdDSA
		assertion_header X-Smsgate-Assertion
		session_lifetime 90s
		store badger {DIR}
		provider log
	}
	respond "assertion={http.request.header.X-Smsgate-Assertion}"
}`)
	c := newClient(t, "")
	signIn(t, s, c)
	assertion := strings.TrimPrefix(c.get("/").body, "assertion=")
	if strings.Count(assertion, ".") != 2 {
		t.Fatalf("no assertion reached the upstream: %q", assertion)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(assertion, ".")[0])
	if !strings.Contains(string(header), `"typ":"smsgate-assertion+jwt"`) {
		t.Fatalf("assertion header %s: want its own typ", header)
	}
	thief := newClient(t, "")
	thief.setCookie("smsgate_session", assertion)
	if res := thief.get("/"); res.StatusCode != http.StatusFound {
		t.Fatalf("an assertion passed as a session: %d %s", res.StatusCode, res.body)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/.smsgate/auth?mode=status", nil)
	if res := thief.do(req); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an assertion passed the forward-auth check: %d", res.StatusCode)
	}
	// Near the session's end, the assertion ends with it.
	caddymodule.Advance(70 * time.Second)
	late := strings.TrimPrefix(c.get("/").body, "assertion=")
	var sessionClaims, assertionClaims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(c.cookie("smsgate_session"), &sessionClaims); err != nil {
		t.Fatal(err)
	}
	if _, _, err := jwt.NewParser().ParseUnverified(late, &assertionClaims); err != nil {
		t.Fatal(err)
	}
	if assertionClaims.ExpiresAt.After(sessionClaims.ExpiresAt.Time) {
		t.Fatalf("the assertion (exp %v) outlives the session (exp %v)", assertionClaims.ExpiresAt, sessionClaims.ExpiresAt)
	}
	if len(assertionClaims.Audience) != 1 || assertionClaims.Audience[0] != "assertion:localhost" {
		t.Fatalf("assertion audience %v", assertionClaims.Audience)
	}
}

// The attacker, with the password, starts enrolling phone A; the victim
// enrolls B; the attacker's code for A must not add a second phone.
func TestLateEnrollmentAddsNoPhone(t *testing.T) {
	s := basicSite(t, "")
	attacker := newClient(t, "demo")
	atok := attacker.csrf("/.smsgate/enroll")
	expect(t, attacker.post("/.smsgate/enroll", url.Values{"phone": {"+447911123456"}, "csrf": {atok}}), http.StatusSeeOther, "/.smsgate/verify")
	attackerCode := s.lastCode()
	enroll(t, s, newClient(t, "demo"), "+14155552671")

	res := attacker.post("/.smsgate/verify", url.Values{"code": {attackerCode}, "csrf": {atok}})
	expect(t, res, http.StatusBadRequest, "")
	expectBody(t, res, "already enrolled")
	if attacker.cookie("smsgate_session") != "" {
		t.Fatal("the late enrollment got a session")
	}
	st, body := admin(t, "GET", "/smsgate/users?realm=localhost", "")
	if st != 200 || strings.Contains(body, "•456") || strings.Count(body, `"id"`) != 1 {
		t.Fatalf("demo's phones after the late enrollment: %s", body)
	}

	// An expired enrollment cannot be revived with "send again".
	other := newClient(t, "alice")
	otok := other.csrf("/.smsgate/enroll")
	expect(t, other.post("/.smsgate/enroll", url.Values{"phone": {"+447911123457"}, "csrf": {otok}}), http.StatusSeeOther, "/.smsgate/verify")
	caddymodule.Advance(6 * time.Minute)
	before := s.sent()
	other.post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {otok}})
	if s.sent() != before {
		t.Fatalf("an expired enrollment was resent: %v", s.logEntries("verification code")[before:])
	}
}

// Strangers who can name a user (identity none) cannot keep them out: 100
// wrong recovery codes from 10 IPs, or the user's whole send budget spent
// from elsewhere, leave the user's own sign-in working.
func TestStrangersCannotLockAUserOut(t *testing.T) {
	s := startSiteWith(t, trusted, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user alice +14155552671
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	login := func(c *client) (string, *response) {
		tok := c.csrf("/.smsgate/login")
		return tok, c.post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}})
	}
	// Alice signs in once: her browser is known from then on.
	alice := newClient(t, "").from("192.0.2.7")
	tok, res := login(alice)
	expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	expect(t, alice.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	alice.post("/.smsgate/logout", url.Values{"csrf": {alice.csrf("/.smsgate/logout")}})

	tried, throttled := 0, 0
	for i := 0; tried+throttled < 100; i++ {
		caddymodule.Advance(31 * time.Second) // past the login cooldown
		m := newClient(t, "").from(fmt.Sprintf("203.0.113.%d", i%10))
		mtok, res := login(m)
		if res.StatusCode != http.StatusSeeOther {
			break // the strangers spent the budget for alice's name
		}
		for range 5 {
			res := m.post("/.smsgate/verify", url.Values{"code": {"AAAAA-AAAAA"}, "csrf": {mtok}})
			switch res.StatusCode {
			case http.StatusBadRequest:
				tried++
			case http.StatusTooManyRequests:
				throttled++
			default:
				t.Fatalf("a wrong recovery code: %d %s", res.StatusCode, res.body)
			}
		}
	}
	if tried > 50 {
		t.Fatalf("%d recovery codes checked for one name in an hour", tried)
	}
	// Alice, from her own browser, still gets a code and gets in.
	caddymodule.Advance(31 * time.Second)
	tok, res = login(alice)
	expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	res = alice.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}})
	expect(t, res, http.StatusSeeOther, "/")
	expectBody(t, alice.get("/"), "Hello, alice!")

	// And a new browser of hers waits at most 15 minutes.
	caddymodule.Advance(16 * time.Minute)
	fresh := newClient(t, "").from("192.0.2.8")
	if tok, res = login(fresh); res.StatusCode == http.StatusSeeOther {
		res = fresh.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}})
		if res.StatusCode == http.StatusTooManyRequests && strings.Contains(res.body, "locked") {
			t.Fatalf("alice is locked out after the strangers: %s", res.body)
		}
	}
}

// Nothing a client sees tells a known user from an unknown one: the flow
// cookie is opaque, and the cooldowns answer alike.
func TestLoginTellsNothingAboutWhoExists(t *testing.T) {
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user known-user +14155552671
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
	statuses := func(name, number string) []int {
		c := newClient(t, "")
		tok := c.csrf("/.smsgate/login")
		var out []int
		for _, typed := range []string{name, number, name, number} {
			res := c.post("/.smsgate/login", url.Values{"username": {typed}, "csrf": {tok}})
			out = append(out, res.StatusCode)
			flow := c.cookie("smsgate_flow")
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
	caddymodule.Advance(time.Minute)
	unknown := statuses("nobody-here", "+14155552672")
	if fmt.Sprint(known) != fmt.Sprint(unknown) {
		t.Fatalf("a known user's logins answer %v, an unknown one's %v", known, unknown)
	}
	// A number typed as a name, even mistyped, is never logged whole.
	c := newClient(t, "")
	c.post("/.smsgate/login", url.Values{"username": {"415 555 2671 x"}, "csrf": {c.csrf("/.smsgate/login")}})
	raw, _ := os.ReadFile(s.logFile)
	if strings.Contains(strings.ReplaceAll(string(raw), " ", ""), "5552671x") {
		t.Fatal("a typed number reached the log whole")
	}
}

// The admin API acts on the store of the realm it was told, or refuses.
func TestAdminAPINeverGuessesTheStore(t *testing.T) {
	startSite(t, `http://a.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store badger {DIR}/a
		provider log
	}
	respond "a"
}
http://b.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store badger {DIR}/b
		provider log
	}
	respond "b"
}`)
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/smsgate/reset", `{"realm":"c.localhost","user":"x"}`, 404, "no smsgate handler serves realm c.localhost"},
		{"POST", "/smsgate/reset", `{"user":"x"}`, 400, "several realms"},
		{"GET", "/smsgate/export", "", 400, "several realms"},
		{"POST", "/smsgate/import", `[]`, 400, "several realms"},
	} {
		if st, body := admin(t, tc.method, tc.path, tc.body); st != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s %s: %d %s; want %d %q", tc.method, tc.path, tc.body, st, body, tc.status, tc.want)
		}
	}
	if st, body := admin(t, "POST", "/smsgate/users", `{"realm":"b.localhost","user":"bea","phone":"+14155552671"}`); st != 200 {
		t.Fatalf("add to b: %d %s", st, body)
	}
	_, exportA := admin(t, "GET", "/smsgate/export?realm=a.localhost", "")
	_, exportB := admin(t, "GET", "/smsgate/export?realm=b.localhost", "")
	if strings.Contains(exportA, "bea") || !strings.Contains(exportB, "bea") {
		t.Fatalf("b's user landed in the wrong store:\na: %s\nb: %s", exportA, exportB)
	}
	var records []map[string]any
	_ = json.Unmarshal([]byte(exportB), &records)
	for _, r := range records {
		if strings.HasPrefix(fmt.Sprint(r["key"]), "keys/") || strings.HasPrefix(fmt.Sprint(r["key"]), "b64:keys/") {
			t.Fatalf("an export without with_keys holds %v", r["key"])
		}
	}
	if st, body := admin(t, "POST", "/smsgate/import?realm=a.localhost", exportB); st != 200 {
		t.Fatalf("import into a: %d %s", st, body)
	}
	if _, exportA = admin(t, "GET", "/smsgate/export?realm=a.localhost", ""); !strings.Contains(exportA, "bea") {
		t.Fatalf("the import did not reach a's store: %s", exportA)
	}
}

// A provider outage does not spend the user's budget: after a dozen failed
// sends, the user still gets a code once the gateway is back.
func TestGatewayOutageSpendsNoBudget(t *testing.T) {
	hook := fakes.NewHook(t)
	t.Setenv("SMSGATE_TEST_HOOK", hook.URL)
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	basic_auth {
		demo `+demoHash+`
	}
	smsgate {
		store badger {DIR}
		provider webhook {env.SMSGATE_TEST_HOOK}
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	_ = s
	c := newClient(t, "demo")
	tok := c.csrf("/.smsgate/enroll")
	hook.Status = http.StatusInternalServerError
	for i := range 12 {
		if res := c.post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}); res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("send %d during the outage: %d %s", i, res.StatusCode, res.body)
		}
	}
	hook.Status = http.StatusOK
	expect(t, c.post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
}

// Small holes: satellite numbers, 10-digit codes taken for recovery codes,
// JSON with Origin: null.
func TestSmallHoles(t *testing.T) {
	s := basicSite(t, "code_length 10")
	c := newClient(t, "demo")
	tok := c.csrf("/.smsgate/enroll")
	res := c.post("/.smsgate/enroll", url.Values{"phone": {"+881631234567"}, "csrf": {tok}})
	expect(t, res, http.StatusBadRequest, "")
	expectBody(t, res, "Satellite and other non-geographic numbers")
	expect(t, c.post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	code := s.lastCode()
	wrong := "2345678923"
	if code == wrong {
		wrong = "2345678924"
	}
	res = c.post("/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {tok}})
	expect(t, res, http.StatusBadRequest, "")
	expectBody(t, res, "Wrong code; 4 tries left")
	expectEnrolled(t, c.post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), "/")

	j := newClient(t, "alice")
	req, _ := http.NewRequest(http.MethodPost, base+"/.smsgate/enroll", strings.NewReader(`{"phone":"+14155552671"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", "null")
	req.Header.Set("Referer", base+"/.smsgate/enroll")
	expect(t, j.do(req), http.StatusForbidden, "")
}

// What strangers can make the gate keep is bounded per IP, per IPv6 /48
// and in total, for decoy logins and passkey sign-ins alike; a browser
// that signed in before is no stranger. On main, logins were bounded only
// by the send limits' 20 an hour per /64 (65,536 /64s to a /48), and
// passkey sign-ins not at all.
func TestStrangersAreBounded(t *testing.T) {
	s := startSiteWith(t, trusted, `http://localhost:{HTTP_PORT} {
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
	login := func(c *client, name string) *response {
		if name == "nobody" { // a name of its own: no cooldown of another's
			n++
			name += strconv.Itoa(n)
		}
		return c.post("/.smsgate/login", url.Values{"username": {name}, "csrf": {c.csrf("/.smsgate/login")}})
	}
	from := func(ip string) *client { return newClient(t, "").from(ip) }
	passkey := func(ip string) *response {
		c := from(ip)
		c.csrf("/.smsgate/login")
		return c.postJSON("/.smsgate/passkey/login/begin", base, map[string]string{})
	}
	// Carol signs in: her browser is known from then on.
	carol := from("198.51.100.9")
	expect(t, login(carol, "carol"), http.StatusSeeOther, "/.smsgate/verify")
	expect(t, carol.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {carol.csrf("/.smsgate/verify")}}), http.StatusSeeOther, "/")
	// Per IP: three, whatever they are.
	expect(t, login(from("198.51.100.1"), "nobody-1"), http.StatusSeeOther, "/.smsgate/verify")
	expect(t, passkey("198.51.100.1"), http.StatusOK, "")
	expect(t, login(from("198.51.100.1"), "carol"), http.StatusSeeOther, "/.smsgate/verify")
	res := login(from("198.51.100.1"), "nobody-2")
	expect(t, res, http.StatusTooManyRequests, "")
	expectBody(t, res, "Too many sign-ins were started from your network")
	expect(t, passkey("198.51.100.1"), http.StatusTooManyRequests, "")
	// Per /48: five, from its /64s.
	for i := range 2 {
		expect(t, passkey(fmt.Sprintf("2001:db8:1:%x::1", i)), http.StatusOK, "")
		expect(t, login(from(fmt.Sprintf("2001:db8:1:%x::2", i)), "nobody"), http.StatusSeeOther, "/.smsgate/verify")
	}
	expect(t, login(from("2001:db8:1:ff::1"), "nobody"), http.StatusSeeOther, "/.smsgate/verify")
	expect(t, login(from("2001:db8:1:fe::1"), "nobody"), http.StatusTooManyRequests, "")
	// In total: twelve, from anywhere.
	for _, ip := range []string{"198.51.100.2", "198.51.100.3", "198.51.100.4"} {
		expect(t, login(from(ip), "nobody"), http.StatusSeeOther, "/.smsgate/verify")
	}
	res = login(from("198.51.100.5"), "nobody")
	expect(t, res, http.StatusTooManyRequests, "")
	expectBody(t, res, "Too many sign-ins were started on this site")
	expect(t, passkey("198.51.100.6"), http.StatusTooManyRequests, "")
	// Carol's own browser still signs her in.
	caddymodule.Advance(time.Minute) // past her code's cooldown
	sent := s.sent()
	expect(t, login(carol, "carol"), http.StatusSeeOther, "/.smsgate/verify")
	if s.sent() != sent+1 {
		t.Fatal("carol's known browser was refused with the strangers")
	}
}

// A form that trickles in is cut off: the gate waits for a POST's body no
// longer than a browser takes to send one (10 s; shortened here). On main
// a byte every few seconds held the connection as long as the client
// liked.
func TestSlowBodiesAreCutOff(t *testing.T) {
	carolSite(t, "")
	defer caddymodule.ShortenBodyTime(time.Second)()
	conn, err := net.Dial("tcp", withPorts("127.0.0.1:{HTTP_PORT}"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /.smsgate/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n", withPorts("localhost:{HTTP_PORT}"))
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
	basicSite(t, "site_origin http://localhost:{HTTP_PORT}\n\t\tlimit stranger_ip 2 1h")
	alice := newClient(t, "alice")
	alice.csrf("/.smsgate/enroll") // a flow
	for i := range 3 {
		res := alice.postJSON("/.smsgate/passkey/login/begin", base, map[string]string{})
		if i < 2 && res.StatusCode == http.StatusTooManyRequests || i == 2 && res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("passkey sign-in %d: %d %s", i+1, res.StatusCode, res.body)
		}
	}
}
