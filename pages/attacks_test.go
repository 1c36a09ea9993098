package pages_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestBadInput: each bad input gets a clear answer and loses nothing.
func TestBadInput(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, c.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/enroll")
	token := c.CSRF("/.smsgate/enroll")

	t.Run("malformed and overlong phones", func(t *testing.T) {
		for in, msg := range map[string]string{
			"+1 415 555 267x":               "international format",
			"+1555":                         "not a valid phone number",
			"+1" + strings.Repeat("5", 100): "international format",
			"+19005550123":                  "cannot receive codes",
			"":                              "international format",
		} {
			res := c.Post("/.smsgate/enroll", url.Values{"phone": {in}, "csrf": {token}})
			sitetest.Expect(t, res, http.StatusBadRequest, "")
			sitetest.ExpectBody(t, res, msg)
		}
		if s.Sent() != 0 {
			t.Fatal("a bad number was sent a code")
		}
	})

	t.Run("missing or wrong csrf", func(t *testing.T) {
		for _, tok := range []string{"", "WRONG", token + "x"} {
			res := c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}})
			sitetest.Expect(t, res, http.StatusForbidden, "")
			sitetest.ExpectBody(t, res, "This form has expired")
		}
		// A csrf token with no flow cookie (another browser) is refused too.
		other := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, other.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {token}}), http.StatusForbidden, "")
		if s.Sent() != 0 {
			t.Fatal("a forged form sent a code")
		}
	})

	t.Run("wrong codes", func(t *testing.T) {
		sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.LastCode()
		wrong := sitetest.WrongCode(code)
		res := c.Post("/.smsgate/verify", url.Values{"code": {"12ab56"}, "csrf": {token}})
		sitetest.Expect(t, res, http.StatusBadRequest, "")
		sitetest.ExpectBody(t, res, "Enter the 6-digit code")
		for left := 4; left >= 1; left-- {
			res = c.Post("/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {token}})
			sitetest.Expect(t, res, http.StatusBadRequest, "")
			sitetest.ExpectBody(t, res, "Wrong code; "+map[int]string{4: "4 tries", 3: "3 tries", 2: "2 tries", 1: "1 try"}[left]+" left")
		}
		res = c.Post("/.smsgate/verify", url.Values{"code": {wrong}, "csrf": {token}})
		sitetest.ExpectBody(t, res, "Too many wrong codes")
		// The sixth try, even with the right code, is refused.
		res = c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {token}})
		sitetest.Expect(t, res, http.StatusBadRequest, "")
		sitetest.ExpectBody(t, res, "no longer valid")
		if c.Cookie("smsgate_session") != "" {
			t.Fatal("a session after five wrong codes")
		}
	})

	t.Run("code for another number", func(t *testing.T) {
		s.Advance(time.Minute) // past the cooldown of the last code to this number
		sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
		first := s.LastCode()
		sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+447911123456"}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
		for first == s.LastCode() { // one time in a million: a new code, past the cooldown
			s.Advance(time.Minute)
			sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+447911123456"}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
		}
		res := c.Post("/.smsgate/verify", url.Values{"code": {first}, "csrf": {token}})
		sitetest.Expect(t, res, http.StatusBadRequest, "")
		sitetest.ExpectBody(t, res, "44•••••••456")
	})

	t.Run("send again waits", func(t *testing.T) {
		res := c.Post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {token}})
		sitetest.Expect(t, res, http.StatusTooManyRequests, "")
		sitetest.ExpectBody(t, res, "Please wait")
		if res.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	})

	t.Run("reused code", func(t *testing.T) {
		code := s.LastCode()
		sitetest.ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {token}}), "/")
		again := sitetest.NewClient(t, "alice")
		tok := again.CSRF("/.smsgate/verify")
		res := again.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		sitetest.Expect(t, res, http.StatusBadRequest, "")
		if again.Cookie("smsgate_session") != "" {
			t.Fatal("a used code made a second session")
		}
	})

	t.Run("expired code", func(t *testing.T) {
		s.Advance(time.Minute)
		other := sitetest.NewClient(t, "bob")
		tok := other.CSRF("/.smsgate/enroll")
		sitetest.Expect(t, other.Post("/.smsgate/enroll", url.Values{"phone": {"+33612345678"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		code := s.LastCode()
		s.Advance(5*time.Minute + time.Second)
		res := other.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		sitetest.Expect(t, res, http.StatusBadRequest, "")
		sitetest.ExpectBody(t, res, "This code has expired")
	})
}

func TestOffSiteRedirectsAreRefused(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "redirect_hosts app.example.com *.corp.example dev.example.com:8443 *.lab.example:* www.example.net:443")
	sitetest.Enroll(t, s, sitetest.NewClient(t, "alice"), "+14155552671")
	for rd, want := range map[string]string{
		// Hosts that end like *.corp.example but are not browsers' hosts
		// (a fullwidth solidus, "a/c" in one character, an IPv6 zone, an
		// escape): each was taken, to be sent on in Location.
		"https://evil.example\uff0f.corp.example/": "/",
		"https://evil.example\u2100.corp.example/": "/",
		"https://[::1%25.corp.example]/":           "/",
		"https://evil.example%2Ecorp.example/":     "/",
		"https://xn--bcher-kva.corp.example/x":     "https://xn--bcher-kva.corp.example/x",
		"https://Wiki.Corp.Example/x":              "https://Wiki.Corp.Example/x",
		// A listed host is its scheme's default port unless the entry
		// names one (attack14): app.example.com took any port of the
		// host, another service than the one listed.
		"https://app.example.com:444/x":    "/",
		"https://wiki.corp.example:8443/x": "/",
		"https://app.example.com:443/x":    "https://app.example.com:443/x",
		"https://dev.example.com:8443/x":   "https://dev.example.com:8443/x",
		"https://dev.example.com/x":        "/",
		"https://dev.example.com:8444/x":   "/",
		"https://a.lab.example:9000/x":     "https://a.lab.example:9000/x",
		"https://a.lab.example/x":          "https://a.lab.example/x",
		// A trailing dot names another origin to browsers (the host's
		// cookies and CSP do not cover it): the site's root instead.
		"https://App.Example.com./x": "/",
		"//evil.example":             "/",
		"/\\evil.example":            "/",
		"https:evil.example":         "/",
		"https://evil.example/x":     "/",
		"javascript:alert(1)":        "/",
		"http://app.example.com/x":   "/",
		"https://app.example.com/x":  "https://app.example.com/x",
		"/dashboard?tab=2":           "/dashboard?tab=2",
	} {
		s.Advance(7 * time.Minute) // a code each: 10 an hour (limit user)
		c := sitetest.NewClient(t, "alice")
		sitetest.Expect(t, c.Get("/.smsgate/login?rd="+url.QueryEscape(rd)), http.StatusSeeOther, "/.smsgate/verify")
		tok := c.CSRF("/.smsgate/verify")
		c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, want)
	}
}

func TestNonBrowsersGet401(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")

	c.Accept = "application/json"
	res := c.Get("/api/things")
	sitetest.Expect(t, res, http.StatusUnauthorized, "")
	if res.Header.Get("X-Smsgate-Login") != "/.smsgate/login" {
		t.Fatalf("no login address in a 401: %v", res.Header)
	}

	c.Accept = "*/*"
	sitetest.Expect(t, c.Get("/api/things"), http.StatusUnauthorized, "")

	c.Accept = "text/html"
	for _, method := range []string{http.MethodHead, http.MethodOptions, http.MethodPost} {
		req, _ := http.NewRequest(method, s.Base+"/", nil)
		sitetest.Expect(t, c.Do(req), http.StatusUnauthorized, "")
	}
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/socket", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	sitetest.Expect(t, c.Do(req), http.StatusUnauthorized, "")

	// Nor can a GET or a HEAD to the gate send a code.
	for _, p := range []string{"/.smsgate/enroll?phone=%2B14155552671", "/.smsgate/verify?action=send"} {
		c.Get(p)
		req, _ := http.NewRequest(http.MethodHead, s.Base+p, nil)
		c.Do(req)
	}
	if s.Sent() != 0 {
		t.Fatal("a GET sent a code")
	}
}

// TestHandleErrorsShapesRefusals: a refusal is Caddy's error, so the
// site's handle_errors decides what an API client reads.
func TestHandleErrorsShapesRefusals(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	basic_auth /api/* argon2id {
		alice `+sitetest.DemoHash+`
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
	c := sitetest.NewClient(t, "alice")
	c.Accept = "application/json"
	res := c.Get("/api/things")
	sitetest.Expect(t, res, http.StatusUnauthorized, "")
	sitetest.ExpectBody(t, res, `"status":401,"message":"sign in with a code sent to your phone"`)
	// Without the first factor the gate refuses too, never lets through.
	anon := sitetest.NewClient(t, "")
	anon.Accept = "application/json"
	res = anon.Get("/elsewhere")
	sitetest.Expect(t, res, http.StatusUnauthorized, "")
	sitetest.ExpectBody(t, res, `"message":"sign in first"`)
}

func TestForgedSessionCookies(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, c, "+14155552671")
	good := c.Cookie("smsgate_session")
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
		"flow as session":       c.Cookie("smsgate_flow"),
	} {
		if tok == "" {
			continue
		}
		f := sitetest.NewClient(t, "alice")
		f.SetCookie("smsgate_session", tok)
		if res := f.Get("/"); res.StatusCode != http.StatusFound {
			t.Errorf("%s cookie: status %d, want a redirect to the gate", name, res.StatusCode)
		}
	}

	// A genuine cookie stops working when it expires, cached or not.
	late := sitetest.NewClient(t, "alice")
	late.SetCookie("smsgate_session", good)
	sitetest.Expect(t, late.Get("/"), http.StatusOK, "")
	s.Advance(12*time.Hour + time.Minute)
	sitetest.Expect(t, late.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	s.Advance(-(12*time.Hour + time.Minute))

	// Alice's cookie does not make Bob's basic auth into a session.
	bob := sitetest.NewClient(t, "bob")
	bob.SetCookie("smsgate_session", good)
	sitetest.Expect(t, bob.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	// And it still works for Alice.
	a := sitetest.NewClient(t, "alice")
	a.SetCookie("smsgate_session", good)
	sitetest.Expect(t, a.Get("/"), http.StatusOK, "")
}

func TestEmptyIdentityFailsClosed(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		store badger {DIR}
		provider log
	}
	respond "secret"
}`)
	c := sitetest.NewClient(t, "")
	res := c.Get("/")
	sitetest.Expect(t, res, http.StatusUnauthorized, "")
	if strings.Contains(res.Text, "secret") {
		t.Fatal("the app answered without an identity")
	}
	sitetest.Expect(t, c.Get("/.smsgate/enroll"), http.StatusUnauthorized, "")
	if s.Sent() != 0 || len(s.LogEntries("request without a first-factor identity refused; is basic_auth or forward_auth in front of smsgate for this path?")) == 0 {
		t.Fatal("no warning logged, or a code sent")
	}
}

func TestClosedEnrollment(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "enrollment closed\n\t\tuser alice +14155552671")
	bob := sitetest.NewClient(t, "bob")
	res := bob.Get("/.smsgate/login")
	sitetest.Expect(t, res, http.StatusForbidden, "")
	sitetest.ExpectBody(t, res, "No phone is enrolled")
	// Alice, provisioned, verifies with her number and never enrolls.
	alice := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, alice.Get("/.smsgate/enroll"), http.StatusSeeOther, "/.smsgate/verify")
	t2 := alice.CSRF("/.smsgate/verify")
	alice.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {t2}})
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {t2}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
}

// TestLogProviderRefusesPublicSites: the log provider writes codes to
// the log, so it sends only for a site whose configured name is
// localhost, never because of the Host a client sends. A public site with
// it does not load (on main it loaded, every send failed, and the
// failures used up the hour's global_new budget), with the provider's
// line; allow_public lets a test deployment load.
func TestLogProviderRefusesPublicSites(t *testing.T) {
	sitetest.Parallel(t)
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
	sitetest.AssertLoadError(t, cfg, "provider log writes codes to Caddy's log, so it sends only for localhost sites, and this site is public.example")
	sitetest.AssertLoadError(t, cfg, "Caddyfile:8")
	s := sitetest.Start(t, `http://:{HTTP_PORT} {
	basic_auth argon2id {
		alice `+sitetest.DemoHash+`
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
	c := sitetest.NewClient(t, "alice")
	req, _ := http.NewRequest(http.MethodGet, s.WithPorts("http://public.example:{HTTP_PORT}/.smsgate/login"), nil)
	sitetest.Expect(t, c.Do(req), http.StatusSeeOther, "/.smsgate/enroll")
	if len(s.LogEntries("the log provider may write sign-in codes for public sites to the log; use it only for testing")) == 0 {
		t.Fatal("allow_public loaded without its warning")
	}
}

func TestJSONClients(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")
	c.Accept = "application/json"

	res := c.PostJSON("/.smsgate/enroll", "", map[string]string{"phone": "+14155552671"})
	sitetest.Expect(t, res, http.StatusForbidden, "")
	sitetest.ExpectBody(t, res, `"error":"bad_origin"`)
	res = c.PostJSON("/.smsgate/enroll", "http://evil.example", map[string]string{"phone": "+14155552671"})
	sitetest.Expect(t, res, http.StatusForbidden, "")
	if s.Sent() != 0 {
		t.Fatal("a cross-origin JSON request sent a code")
	}

	res = c.PostJSON("/.smsgate/enroll", s.Base, map[string]string{"phone": "+14155552671"})
	sitetest.Expect(t, res, http.StatusOK, "")
	sitetest.ExpectBody(t, res, `"next":"/.smsgate/verify"`)
	res = c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, res, `"code_pending":true`)
	sitetest.ExpectBody(t, res, `"phone":"+1•••••••671"`)

	res = c.PostJSON("/.smsgate/verify", s.Base, map[string]string{"code": "00000"})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, `"error":"invalid"`)

	res = c.PostJSON("/.smsgate/verify", s.Base, map[string]string{"code": s.LastCode()})
	sitetest.Expect(t, res, http.StatusOK, "")
	sitetest.ExpectBody(t, res, `"status":"verified"`)
	sitetest.Expect(t, c.Get("/"), http.StatusOK, "")

	req, _ := http.NewRequest(http.MethodPost, s.Base+"/.smsgate/verify", strings.NewReader(`{"code": [1,2,3]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.Base)
	sitetest.Expect(t, c.Do(req), http.StatusBadRequest, "")
	req, _ = http.NewRequest(http.MethodPost, s.Base+"/.smsgate/verify", strings.NewReader(`{"code":"`+strings.Repeat("1", 64<<10)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.Base)
	sitetest.Expect(t, c.Do(req), http.StatusBadRequest, "")
}

func TestProvisionedLogin(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
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
	c := sitetest.NewClient(t, "")
	sitetest.Expect(t, c.Get("/x"), http.StatusFound, "/.smsgate/login?rd=%2Fx")
	tok := c.CSRF("/.smsgate/login?rd=%2Fx")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	known := c.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, known, "If this account exists")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/x")
	sitetest.ExpectBody(t, c.Get("/x"), "Hello, carol!")

	// Dave by phone number.
	d := sitetest.NewClient(t, "")
	tok = d.CSRF("/.smsgate/login")
	sitetest.Expect(t, d.Post("/.smsgate/login", url.Values{"username": {"+44 7911 123456"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, d.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, d.Get("/"), "Hello, dave!")

	// An unknown user sees the same pages and answers, and nothing is sent.
	sent := s.Sent()
	m := sitetest.NewClient(t, "")
	tok = m.CSRF("/.smsgate/login")
	sitetest.Expect(t, m.Post("/.smsgate/login", url.Values{"username": {"mallory"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	unknown := m.Get("/.smsgate/verify")
	if stripCSRF(unknown.Text) != stripCSRF(known.Text) {
		t.Fatalf("the verify page tells an unknown user from a known one:\n%s\n---\n%s", unknown.Text, known.Text)
	}
	res := m.Post("/.smsgate/verify", url.Values{"code": {"123456"}, "csrf": {tok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "4 more tries for this code") // its page asks for an app's code too: whichCode
	if s.Sent() != sent {
		t.Fatal("a code was sent for an unknown user")
	}
}

func stripCSRF(body string) string { return sitetest.CSRFField.ReplaceAllString(body, "") }

// TestNoBombing: starting over does not skip the wait between codes, for a
// signed-in user or for a stranger naming someone at the login page.
func TestNoBombing(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Carol(t, "")
	for i := range 5 {
		c := sitetest.NewClient(t, "")
		tok := c.CSRF("/.smsgate/login")
		res := c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
		if i == 0 {
			sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
			continue
		}
		sitetest.Expect(t, res, http.StatusTooManyRequests, "")
		sitetest.ExpectBody(t, res, "Please wait")
		// A stranger's name gets the same answer.
		res = c.Post("/.smsgate/login", url.Values{"username": {"nobody"}, "csrf": {tok}})
		if i > 1 {
			sitetest.Expect(t, res, http.StatusTooManyRequests, "")
		}
	}
	if s.Sent() != 1 {
		t.Fatalf("%d codes sent to one number by five logins within the cooldown; want 1", s.Sent())
	}
	s.Advance(31 * time.Second)
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	for range 3 {
		c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}})
		c.Post("/.smsgate/verify", url.Values{"action": {"resend"}, "csrf": {tok}})
	}
	if s.Sent() != 2 {
		t.Fatalf("%d codes sent; want 2", s.Sent())
	}
}

// TestAttackAppCodeGuessing: guessing an authenticator app's codes runs
// into the lockout texted codes have (10 wrong from one IP), and once
// locked out even the right code is refused; a code seen over a shoulder
// and replayed is refused too (TestAuthenticatorApp).
func TestAttackAppCodeGuessing(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	secret := addApp(t, s, sitetest.NewClient(t, ""))
	s.Advance(30 * time.Second)
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	right := sitetest.AppCode(t, secret)
	guess := "000000"
	if guess == right {
		guess = "000001"
	}
	// The wrong first code of the app's setup was carol's own browser's,
	// counted apart from a stranger's at the same address
	// (TestAStrangerAtTheOwnersAddressLocksOutOnlyHimself): ten lock.
	for i := 1; i <= 10; i++ {
		res := c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {guess}, "csrf": {tok}})
		want := http.StatusBadRequest
		if i == 10 {
			want = http.StatusTooManyRequests
		}
		if res.StatusCode != want || c.Cookie("smsgate_session") != "" {
			t.Fatalf("guess %d: %d, want %d\n%s", i, res.StatusCode, want, res.Text)
		}
	}
	if res := c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {right}, "csrf": {tok}}); res.StatusCode != http.StatusTooManyRequests || c.Cookie("smsgate_session") != "" {
		t.Fatalf("the right code while locked out: %d\n%s", res.StatusCode, res.Text)
	}
}
