package caddymodule_test

// The outside attack's findings, each replayed through a real Caddy as the
// attacker ran it. Every test here failed before its fix. (The findings on
// the pages are in pages/outside_attack_test.go.)

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// A site that answers several names cannot take its realm from the
// request: it must say so at load, with the line, and never fall back to
// the Host header.
func TestRealmNeverComesFromTheHostHeader(t *testing.T) {
	sitetest.Parallel(t)
	for _, addr := range []string{"http://:{HTTP_PORT}", "http://*.localhost:{HTTP_PORT}", "http://localhost:{HTTP_PORT}, http://127.0.0.1:{HTTP_PORT}"} {
		cfg := "{\n\tadmin localhost:{ADMIN_PORT}\n}\n" + addr + " {\n\tsmsgate {\n\t\tprovider log\n\t}\n}\n"
		sitetest.AssertLoadError(t, cfg, "set realm")
		sitetest.AssertLoadError(t, cfg, "Caddyfile:5")
	}

	// With the realm set, every name the site answers is the same realm:
	// demo's phone, once enrolled, is the one any Host must verify with.
	s := sitetest.Start(t, `http://:{HTTP_PORT} {
	basic_auth argon2id {
		demo `+sitetest.DemoHash+`
	}
	smsgate {
		realm localhost
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	sitetest.Enroll(t, s, sitetest.NewClient(t, "demo"), "+14155552671")
	if body := s.LogEntries("verification code")[0]["body"].(string); !strings.Contains(body, "@localhost #") {
		t.Fatalf("the WebOTP line does not name the configured host: %q", body)
	}
	for _, host := range []string{"attacker.invalid", "127.0.0.1:{HTTP_PORT}", "LOCALHOST.:{HTTP_PORT}"} {
		attacker := sitetest.NewClient(t, "demo") // has the password, not the phone
		sitetest.Expect(t, attacker.GetHost(host, "/.smsgate/login"), http.StatusSeeOther, "/.smsgate/verify")
		res := attacker.GetHost(host, "/.smsgate/enroll")
		sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
		page := attacker.GetHost(host, "/.smsgate/verify")
		tok := sitetest.CSRFField.FindStringSubmatch(page.Text)
		if tok == nil {
			t.Fatalf("Host %s: no verify form: %s", host, page.Text)
		}
		before := s.Sent()
		attacker.PostHost(host, "/.smsgate/enroll", url.Values{"phone": {"+447911123456"}, "csrf": {tok[1]}})
		for _, m := range s.LogEntries("verification code")[before:] {
			if m["to"] != "+1•••••••671" {
				t.Fatalf("Host %s: a code went to %v, not demo's phone", host, m["to"])
			}
		}
		if res := attacker.GetHost(host, "/"); res.StatusCode == http.StatusOK {
			t.Fatalf("Host %s: in without demo's phone: %s", host, res.Text)
		}
	}
}

// Two gates on one store with identity none: each admits only the users
// it names, inline and at the forward-auth check.
func TestGatesAdmitOnlyTheirUsers(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
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
	signInAs := func(prefix, user string) *sitetest.Client {
		c := sitetest.NewClient(t, "")
		tok := c.CSRF(prefix + "login")
		sitetest.Expect(t, c.Post(prefix+"login", url.Values{"username": {user}, "csrf": {tok}}), http.StatusSeeOther, prefix+"verify")
		res := c.Post(prefix+"verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s signs in: %d %s", user, res.StatusCode, res.Text)
		}
		return c
	}
	bob := signInAs("/.smsgate/", "bob")
	sitetest.ExpectBody(t, bob.Get("/"), "home bob")
	if res := bob.Get("/admin/panel"); res.StatusCode != http.StatusFound {
		t.Fatalf("bob's session opens root's gate: %d %s", res.StatusCode, res.Text)
	}
	root := signInAs("/admin/.smsgate/", "root")
	sitetest.ExpectBody(t, root.Get("/admin/panel"), "admin root")
	if res := root.Get("/"); res.StatusCode != http.StatusFound {
		t.Fatalf("root's session opens bob's gate: %d %s", res.StatusCode, res.Text)
	}
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/.smsgate/auth?mode=status", nil)
	if res := root.Do(req); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("root's session at bob's forward-auth check: %d", res.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, s.Base+"/.smsgate/auth?mode=status", nil)
	if res := bob.Do(req); res.StatusCode != http.StatusOK || res.Header.Get("Remote-User") != "bob" {
		t.Fatalf("bob at his own gate's check: %d %v", res.StatusCode, res.Header)
	}
}

// An identity assertion handed to the upstream is no session cookie, and
// never outlives the session it came from.
func TestAssertionIsNeverASession(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
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
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	assertion := strings.TrimPrefix(c.Get("/").Text, "assertion=")
	if strings.Count(assertion, ".") != 2 {
		t.Fatalf("no assertion reached the upstream: %q", assertion)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(assertion, ".")[0])
	if !strings.Contains(string(header), `"typ":"smsgate-assertion+jwt"`) {
		t.Fatalf("assertion header %s: want its own typ", header)
	}
	thief := sitetest.NewClient(t, "")
	thief.SetCookie("smsgate_session", assertion)
	if res := thief.Get("/"); res.StatusCode != http.StatusFound {
		t.Fatalf("an assertion passed as a session: %d %s", res.StatusCode, res.Text)
	}
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/.smsgate/auth?mode=status", nil)
	if res := thief.Do(req); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an assertion passed the forward-auth check: %d", res.StatusCode)
	}
	// Near the session's end, the assertion ends with it.
	s.Advance(70 * time.Second)
	late := strings.TrimPrefix(c.Get("/").Text, "assertion=")
	var sessionClaims, assertionClaims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(c.Cookie("smsgate_session"), &sessionClaims); err != nil {
		t.Fatal(err)
	}
	if _, _, err := jwt.NewParser().ParseUnverified(late, &assertionClaims); err != nil {
		t.Fatal(err)
	}
	if assertionClaims.ExpiresAt.After(sessionClaims.ExpiresAt.Time) {
		t.Fatalf("the assertion (exp %v) outlives the session (exp %v)", assertionClaims.ExpiresAt, sessionClaims.ExpiresAt)
	}
	// The realm's, and the app's host (TestAnAssertionNamesItsApp).
	if len(assertionClaims.Audience) != 2 || assertionClaims.Audience[0] != "assertion:localhost" || assertionClaims.Audience[1] != "assertion:localhost/localhost" {
		t.Fatalf("assertion audience %v", assertionClaims.Audience)
	}
}

// The admin API acts on the store of the realm it was told, or refuses.
func TestAdminAPINeverGuessesTheStore(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Start(t, `http://a.localhost:{HTTP_PORT} {
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
		if st, body := sitetest.Admin(t, tc.method, tc.path, tc.body); st != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s %s: %d %s; want %d %q", tc.method, tc.path, tc.body, st, body, tc.status, tc.want)
		}
	}
	if st, body := sitetest.Admin(t, "POST", "/smsgate/users", `{"realm":"b.localhost","user":"bea","phone":"+14155552671"}`); st != 200 {
		t.Fatalf("add to b: %d %s", st, body)
	}
	_, exportA := sitetest.Admin(t, "GET", "/smsgate/export?realm=a.localhost", "")
	_, exportB := sitetest.Admin(t, "GET", "/smsgate/export?realm=b.localhost", "")
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
	// bea moved to realm a: the import lands in a's store (an export holds
	// its own realm's records only, so a's tells).
	if st, body := sitetest.Admin(t, "POST", "/smsgate/import?realm=a.localhost", strings.ReplaceAll(exportB, "/b.localhost/", "/a.localhost/")); st != 200 {
		t.Fatalf("import into a: %d %s", st, body)
	}
	if _, exportA = sitetest.Admin(t, "GET", "/smsgate/export?realm=a.localhost", ""); !strings.Contains(exportA, "bea") {
		t.Fatalf("the import did not reach a's store: %s", exportA)
	}
}
