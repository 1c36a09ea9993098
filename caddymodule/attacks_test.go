package caddymodule_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/caddymodule"
)

// TestBadInput: each bad input gets a clear answer and loses nothing.
func TestBadInput(t *testing.T) {
	s := basicSite(t, "")
	c := newClient(t, "alice")
	expect(t, c.get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/enroll")
	token := c.csrf("/.smsgate/enroll")

	t.Run("malformed and overlong phones", func(t *testing.T) {
		for in, msg := range map[string]string{
			"+1 415 555 267x":               "international format",
			"+1555":                         "not a valid phone number",
			"+1" + strings.Repeat("5", 100): "international format",
			"+19005550123":                  "cannot receive codes",
			"":                              "international format",
		} {
			res := c.post("/.smsgate/enroll", url.Values{"phone": {in}, "csrf": {token}})
			expect(t, res, http.StatusBadRequest, "")
			expectBody(t, res, msg)
		}
		if s.sent() != 0 {
			t.Fatal("a bad number was sent a code")
		}
	})

	t.Run("missing or wrong csrf", func(t *testing.T) {
		for _, tok := range []string{"", "WRONG", token + "x"} {
			res := c.post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}})
			expect(t, res, http.StatusForbidden, "")
			expectBody(t, res, "This form has expired")
		}
		// A csrf token with no flow cookie (another browser) is refused too.
		other := newClient(t, "alice")
		expect(t, other.post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {token}}), http.StatusForbidden, "")
		if s.sent() != 0 {
			t.Fatal("a forged form sent a code")
		}
	})

	t.Run("wrong codes", func(t *testing.T) {
		expect(t, c.post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.lastCode()
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		res := c.post("/.smsgate/verify", url.Values{"code": {"12ab56"}, "csrf": {token}})
		expect(t, res, http.StatusBadRequest, "")
		expectBody(t, res, "Enter the 6-digit code")
		for left := 4; left >= 1; left-- {
			res = c.post("/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {token}})
			expect(t, res, http.StatusBadRequest, "")
			expectBody(t, res, "Wrong code; "+map[int]string{4: "4 tries", 3: "3 tries", 2: "2 tries", 1: "1 try"}[left]+" left")
		}
		res = c.post("/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {token}})
		expectBody(t, res, "Too many wrong codes")
		// The sixth try, even with the right code, is refused.
		res = c.post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {token}})
		expect(t, res, http.StatusBadRequest, "")
		expectBody(t, res, "no longer valid")
		if c.cookie("smsgate_session") != "" {
			t.Fatal("a session after five wrong codes")
		}
	})

	t.Run("code for another number", func(t *testing.T) {
		caddymodule.Advance(time.Minute) // past the cooldown of the last code to this number
		expect(t, c.post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
		first := s.lastCode()
		expect(t, c.post("/.smsgate/enroll", url.Values{"phone": {"+447911123456"}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
		if first == s.lastCode() {
			t.Skip("both codes happen to be equal")
		}
		res := c.post("/.smsgate/verify", url.Values{"code": {first}, "csrf": {token}})
		expect(t, res, http.StatusBadRequest, "")
		expectBody(t, res, "44•••••••456")
	})

	t.Run("send again waits", func(t *testing.T) {
		res := c.post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {token}})
		expect(t, res, http.StatusTooManyRequests, "")
		expectBody(t, res, "Please wait")
		if res.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	})

	t.Run("reused code", func(t *testing.T) {
		code := s.lastCode()
		expectEnrolled(t, c.post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {token}}), "/")
		again := newClient(t, "alice")
		tok := again.csrf("/.smsgate/verify")
		res := again.post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		expect(t, res, http.StatusBadRequest, "")
		if again.cookie("smsgate_session") != "" {
			t.Fatal("a used code made a second session")
		}
	})

	t.Run("expired code", func(t *testing.T) {
		caddymodule.Advance(time.Minute)
		other := newClient(t, "bob")
		tok := other.csrf("/.smsgate/enroll")
		expect(t, other.post("/.smsgate/enroll", url.Values{"phone": {"+33612345678"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.lastCode()
		caddymodule.Advance(5*time.Minute + time.Second)
		res := other.post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		expect(t, res, http.StatusBadRequest, "")
		expectBody(t, res, "This code has expired")
	})
}

func TestOffSiteRedirectsAreRefused(t *testing.T) {
	s := basicSite(t, "redirect_hosts app.example.com")
	enroll(t, s, newClient(t, "alice"), "+14155552671")
	for rd, want := range map[string]string{
		"//evil.example":            "/",
		"/\\evil.example":           "/",
		"https:evil.example":        "/",
		"https://evil.example/x":    "/",
		"javascript:alert(1)":       "/",
		"http://app.example.com/x":  "/",
		"https://app.example.com/x": "https://app.example.com/x",
		"/dashboard?tab=2":          "/dashboard?tab=2",
	} {
		caddymodule.Advance(time.Minute)
		c := newClient(t, "alice")
		expect(t, c.get("/.smsgate/login?rd="+url.QueryEscape(rd)), http.StatusSeeOther, "/.smsgate/verify")
		tok := c.csrf("/.smsgate/verify")
		c.post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
		expect(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, want)
	}
}

func TestNonBrowsersGet401(t *testing.T) {
	s := basicSite(t, "")
	c := newClient(t, "alice")

	c.accept = "application/json"
	res := c.get("/api/things")
	expect(t, res, http.StatusUnauthorized, "")
	if res.Header.Get("X-Smsgate-Login") != "/.smsgate/login" {
		t.Fatalf("no login address in a 401: %v", res.Header)
	}

	c.accept = "*/*"
	expect(t, c.get("/api/things"), http.StatusUnauthorized, "")

	c.accept = "text/html"
	for _, method := range []string{http.MethodHead, http.MethodOptions, http.MethodPost} {
		req, _ := http.NewRequest(method, base+"/", nil)
		expect(t, c.do(req), http.StatusUnauthorized, "")
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/socket", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	expect(t, c.do(req), http.StatusUnauthorized, "")

	// Nor can a GET or a HEAD to the gate send a code.
	for _, p := range []string{"/.smsgate/enroll?phone=%2B14155552671", "/.smsgate/verify?action=send"} {
		c.get(p)
		req, _ := http.NewRequest(http.MethodHead, base+p, nil)
		c.do(req)
	}
	if s.sent() != 0 {
		t.Fatal("a GET sent a code")
	}
}

// TestHandleErrorsShapesRefusals: a refusal is Caddy's error, so the
// site's handle_errors decides what an API client reads.
func TestHandleErrorsShapesRefusals(t *testing.T) {
	startSite(t, `http://localhost:{HTTP_PORT} {
	basic_auth /api/* {
		alice `+demoHash+`
	}
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "hi"
	handle_errors 401 {
		header Content-Type application/json
		respond `+"`"+`{"error":"unauthenticated","status":{err.status_code},"message":"{err.message}","login":"{http.response.header.X-Smsgate-Login}"}`+"`"+`
	}
}`)
	c := newClient(t, "alice")
	c.accept = "application/json"
	res := c.get("/api/things")
	expect(t, res, http.StatusUnauthorized, "")
	expectBody(t, res, `"status":401,"message":"sign in with a code sent to your phone"`)
	// Without the first factor the gate refuses too, never lets through.
	anon := newClient(t, "")
	anon.accept = "application/json"
	res = anon.get("/elsewhere")
	expect(t, res, http.StatusUnauthorized, "")
	expectBody(t, res, `"message":"sign in first"`)
}

func TestForgedSessionCookies(t *testing.T) {
	s := basicSite(t, "")
	c := newClient(t, "alice")
	enroll(t, s, c, "+14155552671")
	good := c.cookie("smsgate_session")
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] ^= 1
		return string(b)
	}

	claims := jwt.MapClaims{"iss": "smsgate", "sub": "alice", "aud": []string{"localhost"}, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	guessed, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("a guessed key, 32 bytes long...."))
	expired := jwt.MapClaims{"iss": "smsgate", "sub": "alice", "aud": []string{"localhost"}, "exp": time.Now().Add(-time.Hour).Unix()}
	expiredTok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, expired).SignedString(jwt.UnsafeAllowNoneSignatureType)

	for name, tok := range map[string]string{
		"alg none":      none,
		"unsigned":      parts[0] + "." + parts[1] + ".",
		"tampered":      parts[0] + "." + b64([]byte(`{"iss":"smsgate","sub":"bob","aud":["localhost"],"exp":9999999999}`)) + "." + parts[2],
		"guessed key":   guessed,
		"expired, none": expiredTok,
		"truncated":     good[:len(good)-3],
		// Each ends like the genuine cookie, which is in the cache (the
		// gate verified it when it made it): the cache finds its entry by
		// that end, and must still not serve it to these.
		"a claim's byte":        parts[0] + "." + flip(parts[1], len(parts[1])/2) + "." + parts[2],
		"the header's byte":     flip(parts[0], 3) + "." + parts[1] + "." + parts[2],
		"the signature's start": parts[0] + "." + parts[1] + "." + flip(parts[2], 0),
		"a byte before":         "x" + good,
		"garbage":               "%%%",
		"flow as session":       c.cookie("smsgate_flow"),
	} {
		if tok == "" {
			continue
		}
		f := newClient(t, "alice")
		f.setCookie("smsgate_session", tok)
		if res := f.get("/"); res.StatusCode != http.StatusFound {
			t.Errorf("%s cookie: status %d, want a redirect to the gate", name, res.StatusCode)
		}
	}

	// A genuine cookie stops working when it expires, cached or not.
	late := newClient(t, "alice")
	late.setCookie("smsgate_session", good)
	expect(t, late.get("/"), http.StatusOK, "")
	caddymodule.Advance(12*time.Hour + time.Minute)
	expect(t, late.get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	caddymodule.Advance(-(12*time.Hour + time.Minute))

	// Alice's cookie does not make Bob's basic auth into a session.
	bob := newClient(t, "bob")
	bob.setCookie("smsgate_session", good)
	expect(t, bob.get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	// And it still works for Alice.
	a := newClient(t, "alice")
	a.setCookie("smsgate_session", good)
	expect(t, a.get("/"), http.StatusOK, "")
}

func TestEmptyIdentityFailsClosed(t *testing.T) {
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "secret"
}`)
	c := newClient(t, "")
	res := c.get("/")
	expect(t, res, http.StatusUnauthorized, "")
	if strings.Contains(res.body, "secret") {
		t.Fatal("the app answered without an identity")
	}
	expect(t, c.get("/.smsgate/enroll"), http.StatusUnauthorized, "")
	if s.sent() != 0 || len(s.logEntries("request without a first-factor identity refused; is basic_auth or forward_auth in front of smsgate for this path?")) == 0 {
		t.Fatal("no warning logged, or a code sent")
	}
}

func TestClosedEnrollment(t *testing.T) {
	s := basicSite(t, "enrollment closed\n\t\tuser alice +14155552671")
	bob := newClient(t, "bob")
	res := bob.get("/.smsgate/login")
	expect(t, res, http.StatusForbidden, "")
	expectBody(t, res, "No phone is enrolled")
	// Alice, provisioned, verifies with her number and never enrolls.
	alice := newClient(t, "alice")
	expect(t, alice.get("/.smsgate/enroll"), http.StatusSeeOther, "/.smsgate/verify")
	t2 := alice.csrf("/.smsgate/verify")
	alice.post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {t2}})
	expect(t, alice.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {t2}}), http.StatusSeeOther, "/")
	expectBody(t, alice.get("/"), "Hello, alice!")
}

// TestLogProviderRefusesPublicSites: the log provider writes codes to
// the log, so it sends only for a site whose configured name is
// localhost, never because of the Host a client sends. A public site with
// it does not load (on main it loaded, every send failed, and the
// failures used up the hour's global_new budget), with the provider's
// line; allow_public lets a test deployment load.
func TestLogProviderRefusesPublicSites(t *testing.T) {
	cfg := `{
	admin localhost:{ADMIN_PORT}
}
http://:{HTTP_PORT} {
	smsgate {
		realm public.example
		store badger {DIR}
		provider log
	}
}`
	assertLoadError(t, cfg, "provider log writes codes to Caddy's log, so it sends only for localhost sites, and this site is public.example")
	assertLoadError(t, cfg, "Caddyfile:8")
	s := startSite(t, `http://:{HTTP_PORT} {
	basic_auth {
		alice `+demoHash+`
	}
	smsgate {
		realm public.example
		store badger {DIR}
		provider log {
			allow_public
		}
	}
	respond "hi"
}`)
	c := newClient(t, "alice")
	req, _ := http.NewRequest(http.MethodGet, withPorts("http://public.example:{HTTP_PORT}/.smsgate/login"), nil)
	expect(t, c.do(req), http.StatusSeeOther, "/.smsgate/enroll")
	if len(s.logEntries("the log provider may write sign-in codes for public sites to the log; use it only for testing")) == 0 {
		t.Fatal("allow_public loaded without its warning")
	}
}

func TestJSONClients(t *testing.T) {
	s := basicSite(t, "")
	c := newClient(t, "alice")
	c.accept = "application/json"

	res := c.postJSON("/.smsgate/enroll", "", map[string]string{"phone": "+14155552671"})
	expect(t, res, http.StatusForbidden, "")
	expectBody(t, res, `"error":"bad_origin"`)
	res = c.postJSON("/.smsgate/enroll", "http://evil.example", map[string]string{"phone": "+14155552671"})
	expect(t, res, http.StatusForbidden, "")
	if s.sent() != 0 {
		t.Fatal("a cross-origin JSON request sent a code")
	}

	res = c.postJSON("/.smsgate/enroll", base, map[string]string{"phone": "+14155552671"})
	expect(t, res, http.StatusOK, "")
	expectBody(t, res, `"next":"/.smsgate/verify"`)
	res = c.get("/.smsgate/verify")
	expectBody(t, res, `"code_pending":true`)
	expectBody(t, res, `"phone":"+1•••••••671"`)

	res = c.postJSON("/.smsgate/verify", base, map[string]string{"code": "00000"})
	expect(t, res, http.StatusBadRequest, "")
	expectBody(t, res, `"error":"invalid"`)

	res = c.postJSON("/.smsgate/verify", base, map[string]string{"code": s.lastCode()})
	expect(t, res, http.StatusOK, "")
	expectBody(t, res, `"status":"verified"`)
	expect(t, c.get("/"), http.StatusOK, "")

	req, _ := http.NewRequest(http.MethodPost, base+"/.smsgate/verify", strings.NewReader(`{"code": [1,2,3]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	expect(t, c.do(req), http.StatusBadRequest, "")
	req, _ = http.NewRequest(http.MethodPost, base+"/.smsgate/verify", strings.NewReader(`{"code":"`+strings.Repeat("1", 64<<10)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	expect(t, c.do(req), http.StatusBadRequest, "")
}

func TestProvisionedLogin(t *testing.T) {
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		user dave +447911123456
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	// Carol by name.
	c := newClient(t, "")
	expect(t, c.get("/x"), http.StatusFound, "/.smsgate/login?rd=%2Fx")
	tok := c.csrf("/.smsgate/login?rd=%2Fx")
	expect(t, c.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	known := c.get("/.smsgate/verify")
	expectBody(t, known, "If this account exists")
	expect(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/x")
	expectBody(t, c.get("/x"), "Hello, carol!")

	// Dave by phone number.
	d := newClient(t, "")
	tok = d.csrf("/.smsgate/login")
	expect(t, d.post("/.smsgate/login", url.Values{"username": {"+44 7911 123456"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	expect(t, d.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	expectBody(t, d.get("/"), "Hello, dave!")

	// An unknown user sees the same pages and answers, and nothing is sent.
	sent := s.sent()
	m := newClient(t, "")
	tok = m.csrf("/.smsgate/login")
	expect(t, m.post("/.smsgate/login", url.Values{"username": {"mallory"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	unknown := m.get("/.smsgate/verify")
	if stripCSRF(unknown.body) != stripCSRF(known.body) {
		t.Fatalf("the verify page tells an unknown user from a known one:\n%s\n---\n%s", unknown.body, known.body)
	}
	res := m.post("/.smsgate/verify", url.Values{"code": {"123456"}, "csrf": {tok}})
	expect(t, res, http.StatusBadRequest, "")
	expectBody(t, res, "4 tries left")
	if s.sent() != sent {
		t.Fatal("a code was sent for an unknown user")
	}
}

func stripCSRF(body string) string { return csrfField.ReplaceAllString(body, "") }

// TestNoBombing: starting over does not skip the wait between codes, for a
// signed-in user or for a stranger naming someone at the login page.
func TestNoBombing(t *testing.T) {
	s := carolSite(t, "")
	for i := range 5 {
		c := newClient(t, "")
		tok := c.csrf("/.smsgate/login")
		res := c.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
		if i == 0 {
			expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
			continue
		}
		expect(t, res, http.StatusTooManyRequests, "")
		expectBody(t, res, "Please wait")
		// A stranger's name gets the same answer.
		res = c.post("/.smsgate/login", url.Values{"username": {"nobody"}, "csrf": {tok}})
		if i > 1 {
			expect(t, res, http.StatusTooManyRequests, "")
		}
	}
	if s.sent() != 1 {
		t.Fatalf("%d codes sent to one number by five logins within the cooldown; want 1", s.sent())
	}
	caddymodule.Advance(31 * time.Second)
	c := newClient(t, "")
	tok := c.csrf("/.smsgate/login")
	expect(t, c.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	for range 3 {
		c.post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
		c.post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {tok}})
	}
	if s.sent() != 2 {
		t.Fatalf("%d codes sent; want 2", s.sent())
	}
}

// TestAttackAppCodeGuessing: guessing an authenticator app's codes runs
// into the lockout texted codes have (10 wrong from one IP), and once
// locked out even the right code is refused; a code seen over a shoulder
// and replayed is refused too (TestAuthenticatorApp).
func TestAttackAppCodeGuessing(t *testing.T) {
	s := startSite(t, appSite)
	secret := addApp(t, s, newClient(t, ""))
	caddymodule.Advance(30 * time.Second)
	c := newClient(t, "")
	tok := c.csrf("/.smsgate/login")
	expect(t, c.post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	right := appCode(t, secret)
	guess := "000000"
	if guess == right {
		guess = "000001"
	}
	// The wrong first code of the app's setup was one: nine more lock.
	for i := 1; i <= 9; i++ {
		res := c.post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {guess}, "csrf": {tok}})
		want := http.StatusBadRequest
		if i == 9 {
			want = http.StatusTooManyRequests
		}
		if res.StatusCode != want || c.cookie("smsgate_session") != "" {
			t.Fatalf("guess %d: %d, want %d\n%s", i, res.StatusCode, want, res.body)
		}
	}
	if res := c.post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {right}, "csrf": {tok}}); res.StatusCode != http.StatusTooManyRequests || c.cookie("smsgate_session") != "" {
		t.Fatalf("the right code while locked out: %d\n%s", res.StatusCode, res.body)
	}
}
