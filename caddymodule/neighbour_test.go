package caddymodule_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// A site served over HTTPS (its cookies Secure, so prefixed), with a login
// form that signs in carol or mallory, whose app shows who got in and the
// cookies that reached it.
const (
	neighbourApp  = "https://app.example.com:{HTTPS_PORT}"
	neighbourSite = neighbourApp + ` {
	tls %s
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		user mallory +14155552672
		store %s
		provider log {
			allow_public
		}
		site_name %q
	}
	respond "Hello, {http.auth.user.id}! cookies=[{http.request.header.Cookie}]"
}`
)

// certificate writes a self-signed certificate for app.example.com and
// its key, and answers their files as the tls directive takes them (Caddy's
// internal issuer would obtain one in the background, after the site is up).
func certificate(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"app.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile + " " + keyFile
}

// signInOverTLS signs c in as user at the neighbour site's login form
// (remember: trusting the browser).
func signInOverTLS(t *testing.T, s *sitetest.Site, c *sitetest.Client, user string, remember ...string) {
	t.Helper()
	s.Advance(time.Minute) // past the last send's cooldown
	app := c.WithPorts(neighbourApp)
	page := c.GetURL(app + "/.smsgate/login")
	m := sitetest.CSRFField.FindStringSubmatch(page.Text)
	if m == nil {
		t.Fatalf("no login form: %d\n%s", page.StatusCode, page.Text)
	}
	sitetest.Expect(t, c.PostURL(app+"/.smsgate/login", url.Values{"username": {user}, "csrf": {m[1]}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.PostURL(app+"/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {m[1]}, "remember": remember}), http.StatusSeeOther, "/")
}

// hostSession is the session cookie c holds for the neighbour site.
func hostSession(c *sitetest.Client) string {
	return c.CookieOf(neighbourApp+"/", pages.HostPrefix+pages.SessionCookie)
}

// plant sets the cookies a neighbour host (evil.example.com) sets in c's
// browser for the whole registrable domain (Domain=example.com), with a
// longer Path, so that they are sent first: a session's old name, and its
// __Secure- name, which any host under the domain may set.
func plant(t *testing.T, c *sitetest.Client, token string) {
	t.Helper()
	evil, _ := url.Parse(c.WithPorts("https://evil.example.com:{HTTPS_PORT}/"))
	var planted []*http.Cookie
	for _, name := range []string{pages.SessionCookie, pages.SecurePrefix + pages.SessionCookie} {
		planted = append(planted, &http.Cookie{Name: name, Value: token, Domain: "example.com", Path: "/private/", Secure: true, HttpOnly: true})
	}
	c.HTTP.Jar.SetCookies(evil, planted)
	app, _ := url.Parse(c.WithPorts(neighbourApp + "/private/page"))
	if n := len(c.HTTP.Jar.Cookies(app)); n < len(planted) {
		t.Fatalf("the browser would send %d cookies to the app, want the %d planted", n, len(planted))
	}
}

// TestANeighboursPlantedSessionIsNotTaken: a host under the same
// registrable domain plants a session of its own user (mallory) in a
// visitor's browser, Domain=example.com with a longer Path, so that it is
// sent before the visitor's own. At a login form the gate took the first
// session cookie: the visitor was signed in as mallory (a login CSRF).
// Now the gate reads only its __Host- cookie, which no other host can set.
func TestANeighboursPlantedSessionIsNotTaken(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, fmt.Sprintf(neighbourSite, certificate(t), "badger {DIR}", "App"))
	planter, visitor, stranger := sitetest.NewClient(t, ""), sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	signInOverTLS(t, s, planter, "mallory")
	signInOverTLS(t, s, visitor, "carol")
	mallory := hostSession(planter)
	if mallory == "" || hostSession(visitor) == "" {
		t.Fatal("no session cookie under its __Host- name over HTTPS")
	}
	plant(t, visitor, mallory)
	plant(t, stranger, mallory)

	page := visitor.WithPorts(neighbourApp + "/private/page")
	res := visitor.GetURL(page)
	sitetest.ExpectBody(t, res, "Hello, carol!")
	if strings.Contains(res.Text, "smsgate") {
		t.Fatalf("a gate cookie reached the app: %s", res.Text)
	}
	if res := stranger.GetURL(page); res.StatusCode == http.StatusOK {
		t.Fatalf("a browser holding only a neighbour's planted session was let in: %s", res.Text)
	}
}

// neighbourOnRedis starts the neighbour site on a Redis of its own, at addr.
func neighbourOnRedis(t *testing.T) (s *sitetest.Site, addr string) {
	addr = redistest.Server(t)
	return sitetest.Start(t, fmt.Sprintf(neighbourSite, certificate(t), "redis "+addr, "App")), addr
}

// beforeRenaming is token, a session's (or with known a known-browser
// cookie's) of the neighbour site on the Redis at addr, as a release
// before the renaming signed it: the same claims without the mark this
// release's carry (session.Claims.Prefixed), with the secret in the store.
func beforeRenaming(t *testing.T, s *sitetest.Site, addr, token string, known bool) string {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	secret, err := rc.Get(context.Background(), "smsgate:keys/secret").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return unmarked(t, s, secret, token, known)
}

// unmarked is token (a session's, or with known a known-browser cookie's,
// of the neighbour site signed with secret) as a release before the mark
// signed it: the same claims without it (session.Claims.Prefixed).
func unmarked(t *testing.T, s *sitetest.Site, secret []byte, token string, known bool) string {
	t.Helper()
	keys := session.NewKeys(session.Derive(secret, "session"), s.Now)
	if known {
		d, err := session.NewDerived(secret, s.Now)
		if err != nil {
			t.Fatal(err)
		}
		keys = d.Known
	}
	var cl session.Claims
	if err := keys.Verify(token, "app.example.com", &cl); err != nil || cl.Unmarked() {
		t.Fatalf("not a token this release issued: %v", err)
	}
	cl.Prefixed = false
	token, err := keys.Sign(&cl)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestAnOldNameSessionOutlivesTheUpgradeOnly: a browser that signed in
// before the upgrade holds its session under the old name; it still
// works, and the answer renames it (the __Host- name written, the old
// expired). An old-name session issued since the upgrade (marked so in
// its token) can only have been planted: it is refused.
func TestAnOldNameSessionOutlivesTheUpgradeOnly(t *testing.T) {
	sitetest.Parallel(t)
	s, addr := neighbourOnRedis(t)
	before := sitetest.NewClient(t, "")
	signInOverTLS(t, s, before, "carol")
	if hostSession(before) == "" {
		t.Fatal("no session")
	}
	carol := beforeRenaming(t, s, addr, hostSession(before), false)

	// carol's browser, as the previous release left it.
	upgraded := sitetest.NewClient(t, "")
	app, _ := url.Parse(upgraded.WithPorts(neighbourApp + "/"))
	upgraded.HTTP.Jar.SetCookies(app, []*http.Cookie{{Name: pages.SessionCookie, Value: carol, Path: "/", Secure: true, HttpOnly: true}})
	res := upgraded.GetURL(app.String())
	sitetest.ExpectBody(t, res, "Hello, carol!")
	var renamed, expired bool
	for _, c := range res.Cookies() {
		renamed = renamed || c.Name == pages.HostPrefix+pages.SessionCookie && c.Value == carol && c.Path == "/" && c.Secure && c.Domain == "" && c.MaxAge > 0
		expired = expired || c.Name == pages.SessionCookie && c.MaxAge < 0
	}
	if !renamed || !expired {
		t.Fatalf("the old-name session was not renamed (renamed %v, old one expired %v): %v", renamed, expired, res.Header["Set-Cookie"])
	}
	if !slices.Contains(res.Header.Values("Cache-Control"), "private") {
		t.Fatalf("the app's answer carries the session token in Set-Cookie, and a shared cache may keep it: Cache-Control %q", res.Header.Values("Cache-Control"))
	}
	if hostSession(upgraded) != carol || upgraded.CookieOf(neighbourApp+"/", pages.SessionCookie) != "" {
		t.Fatal("the browser does not hold the session under its new name alone")
	}
	sitetest.ExpectBody(t, upgraded.GetURL(app.String()), "Hello, carol!")

	// Its known-browser cookie too, by the gate's pages.
	known := beforeRenaming(t, s, addr, before.CookieOf(neighbourApp+"/", pages.HostPrefix+pages.KnownCookie), true)
	upgraded.HTTP.Jar.SetCookies(app, []*http.Cookie{{Name: pages.KnownCookie, Value: known, Path: "/", Secure: true, HttpOnly: true}})
	res = upgraded.GetURL(upgraded.WithPorts(neighbourApp + "/.smsgate/login"))
	renamed, expired = false, false
	for _, c := range res.Cookies() {
		renamed = renamed || c.Name == pages.HostPrefix+pages.KnownCookie && c.Value == known && c.MaxAge > 0
		expired = expired || c.Name == pages.KnownCookie && c.MaxAge < 0
	}
	if !renamed || !expired {
		t.Fatalf("the old-name known-browser cookie was not renamed (renamed %v, old one expired %v): %v", renamed, expired, res.Header["Set-Cookie"])
	}

	// A session issued since, under the old name: planted.
	planter := sitetest.NewClient(t, "")
	signInOverTLS(t, s, planter, "mallory")
	visitor := sitetest.NewClient(t, "")
	visitor.HTTP.Jar.SetCookies(app, []*http.Cookie{{Name: pages.SessionCookie, Value: hostSession(planter), Path: "/", Secure: true}})
	if res := visitor.GetURL(app.String()); res.StatusCode == http.StatusOK {
		t.Fatalf("an old-name session issued after the upgrade was taken: %s", res.Text)
	}

	// A forward-auth check takes the one from before, not the other.
	for token, want := range map[string]int{carol: http.StatusOK, hostSession(planter): http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodGet, app.String()+".smsgate/auth?mode=status", nil)
		req.Header.Set("Cookie", pages.SessionCookie+"="+token)
		if got := sitetest.NewClient(t, "").Do(req).StatusCode; got != want {
			t.Errorf("a forward-auth check of an old-name session (from before the upgrade: %v) answered %d, want %d", token == carol, got, want)
		}
	}
}

// TestTheReleaseBetweensTokensCountNotUnderTheOldName: the release that
// first wrote the prefixed names (the release between) issued its tokens
// unmarked, and recorded when it first ran on the store
// ("cookies/renamed"); counting every unmarked token as one from before
// the renaming took a session or known-browser cookie of that release,
// planted under the old name by a neighbour host, and the visitor was
// signed in as mallory. Now the record is read (never written): an
// unmarked token counts under the old name only if issued before its
// instant; one from before it still does.
func TestTheReleaseBetweensTokensCountNotUnderTheOldName(t *testing.T) {
	sitetest.Parallel(t)
	s, addr := neighbourOnRedis(t)
	early := sitetest.NewClient(t, "")
	signInOverTLS(t, s, early, "carol")
	carol := beforeRenaming(t, s, addr, hostSession(early), false)
	s.Advance(time.Minute)
	renamed := s.Now()
	s.Advance(time.Minute)
	planter := sitetest.NewClient(t, "")
	signInOverTLS(t, s, planter, "mallory")
	mallory := beforeRenaming(t, s, addr, hostSession(planter), false)
	known := beforeRenaming(t, s, addr, planter.CookieOf(neighbourApp+"/", pages.HostPrefix+pages.KnownCookie), true)
	// The record the release between kept, and a reload that reads it.
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	if err := rc.Set(context.Background(), "smsgate:cookies/renamed", renamed.UTC().Format(time.RFC3339Nano), 0).Err(); err != nil {
		t.Fatal(err)
	}
	sitetest.Start(t, fmt.Sprintf(neighbourSite, certificate(t), "redis "+addr, "App, reloaded"))

	visitor := sitetest.NewClient(t, "")
	plant(t, visitor, mallory)
	if res := visitor.GetURL(visitor.WithPorts(neighbourApp + "/private/page")); res.StatusCode == http.StatusOK {
		t.Fatalf("an unmarked session issued after the store's record of the renaming, planted under the old name, was taken: %s", res.Text)
	}
	evil, _ := url.Parse(visitor.WithPorts("https://evil.example.com:{HTTPS_PORT}/"))
	visitor.HTTP.Jar.SetCookies(evil, []*http.Cookie{{Name: pages.KnownCookie, Value: known, Domain: "example.com", Path: "/", Secure: true, HttpOnly: true}})
	sitetest.Expect(t, visitor.GetURL(visitor.WithPorts(neighbourApp+"/.smsgate/login")), http.StatusOK, "")
	if visitor.CookieOf(neighbourApp+"/", pages.HostPrefix+pages.KnownCookie) != "" {
		t.Fatal("an unmarked known-browser cookie issued after the store's record of the renaming, planted under the old name, was taken (and renamed)")
	}

	// carol's, from before the record's instant, still counts.
	upgraded := sitetest.NewClient(t, "")
	app, _ := url.Parse(upgraded.WithPorts(neighbourApp + "/"))
	upgraded.HTTP.Jar.SetCookies(app, []*http.Cookie{{Name: pages.SessionCookie, Value: carol, Path: "/", Secure: true, HttpOnly: true}})
	sitetest.ExpectBody(t, upgraded.GetURL(app.String()), "Hello, carol!")
}

// TestANeighboursPlantedTrustSignsNobodyIn: the trust cookie lives under
// the gate's pages (Path=/.smsgate/), where no __Host- name is possible, so
// a neighbour host can plant its own user's (Domain=example.com, a longer
// Path): at a login form, a trusted browser is signed in without a code,
// so the visitor was signed in as mallory. Now a trust counts only in the
// browser that earned it, as its __Host- known-browser cookie names it;
// the one that did still signs in with it.
func TestANeighboursPlantedTrustSignsNobodyIn(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, fmt.Sprintf(neighbourSite, certificate(t), "badger {DIR}", "App"))
	planter := sitetest.NewClient(t, "")
	signInOverTLS(t, s, planter, "mallory", "1")
	pagesURL, _ := url.Parse(planter.WithPorts(neighbourApp + "/.smsgate/"))
	var trust, known *http.Cookie
	for _, c := range planter.HTTP.Jar.Cookies(pagesURL) {
		switch c.Name {
		case pages.TrustCookie:
			trust = c
		case pages.HostPrefix + pages.KnownCookie:
			known = c
		}
	}
	if trust == nil || known == nil {
		t.Fatal("no trust or known-browser cookie after a sign-in that asked for the trust")
	}
	login := planter.WithPorts(neighbourApp + "/.smsgate/login")

	visitor := sitetest.NewClient(t, "")
	evil, _ := url.Parse(visitor.WithPorts("https://evil.example.com:{HTTPS_PORT}/"))
	visitor.HTTP.Jar.SetCookies(evil, []*http.Cookie{{Name: pages.TrustCookie, Value: trust.Value, Domain: "example.com", Path: "/.smsgate/login", Secure: true, HttpOnly: true}})
	if res := visitor.GetURL(login); res.StatusCode != http.StatusOK || hostSession(visitor) != "" {
		t.Fatalf("a neighbour's planted trust signed the visitor in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// The browser that earned it (its session gone) is signed in by it.
	again := sitetest.NewClient(t, "")
	app, _ := url.Parse(again.WithPorts(neighbourApp + "/"))
	again.HTTP.Jar.SetCookies(app, []*http.Cookie{{Name: known.Name, Value: known.Value, Path: "/", Secure: true}})
	again.HTTP.Jar.SetCookies(pagesURL, []*http.Cookie{{Name: trust.Name, Value: trust.Value, Path: "/.smsgate/", Secure: true}})
	sitetest.Expect(t, again.GetURL(login), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, again.GetURL(app.String()), "Hello, mallory!")
}

// TestCookieDomainIsLowerCased: a host name is any case; cookie_domain
// SSO.Localhost is taken (the Caddyfile keeps it as written in the JSON,
// which Provision lower-cases) and the cookies are for sso.localhost.
func TestCookieDomainIsLowerCased(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://auth.sso.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		realm sso.localhost
		cookie_domain SSO.Localhost
		store badger {DIR}
		provider log
	}
	respond ok
}`)
	c := sitetest.NewClient(t, "")
	portal := c.WithPorts("http://auth.sso.localhost:{HTTP_PORT}/.smsgate/")
	m := sitetest.CSRFField.FindStringSubmatch(c.GetURL(portal + "login").Text)
	if m == nil {
		t.Fatal("no login form")
	}
	sitetest.Expect(t, c.PostURL(portal+"login", url.Values{"username": {"carol"}, "csrf": {m[1]}}), http.StatusSeeOther, "/.smsgate/verify")
	res := c.PostURL(portal+"verify", url.Values{"code": {s.LastCode()}, "csrf": {m[1]}})
	sitetest.Expect(t, res, http.StatusSeeOther, "/")
	for _, line := range res.Header["Set-Cookie"] {
		if strings.HasPrefix(line, pages.SessionCookie+"=") && strings.Contains(line, "; Domain=sso.localhost;") {
			return
		}
	}
	t.Fatalf("no session cookie for sso.localhost: %q", res.Header["Set-Cookie"])
}

// TestACheckAtLoopbackTakesNoPlantedOldName: a forward-auth check often
// reaches the gate over plain http at a loopback address (Traefik's
// forwardAuth and nginx's proxy_pass send the check's own address as its
// Host), where the gate's own answers would write the old cookie names;
// but the visitor's browser was at an HTTPS site, whose cookies are
// prefixed, so an old-name session there issued since the upgrade was
// planted. The check took it (200 for mallory's session planted in a
// visitor's browser, a login CSRF at the app); now the request the proxy
// asks about (X-Forwarded-Proto and -Host, X-Original-URL) says the
// cookie was named where it is Secure. Plain http at loopback all along
// still takes the old name.
func TestACheckAtLoopbackTakesNoPlantedOldName(t *testing.T) {
	sitetest.Parallel(t)
	// The portal as two sites of one realm: the HTTPS one the visitor
	// signs in at, and the check's address at loopback.
	site := strings.Replace(fmt.Sprintf(neighbourSite, certificate(t), "badger {DIR}", "App"),
		"\tsmsgate {\n", "\tsmsgate {\n\t\trealm app.example.com\n", 1)
	_, block, _ := strings.Cut(site, "\tsmsgate {")
	site += "\nhttp://127.0.0.1:{HTTP_PORT} {\n\tsmsgate {" + block
	for name, portal := range map[string]string{"pages at the site asked about": "", "pages at portal_url": "portal_url " + neighbourApp} {
		t.Run(name, func(t *testing.T) {
			checkAtLoopback(t, strings.ReplaceAll(site, "\tsmsgate {\n", "\tsmsgate {\n\t\t"+portal+"\n"))
		})
	}
}

// checkAtLoopback is TestACheckAtLoopbackTakesNoPlantedOldName at site:
// with portal_url (the pages at the HTTPS site) the proxy's headers need
// not say so.
func checkAtLoopback(t *testing.T, site string) {
	s := sitetest.Start(t, site)
	planter := sitetest.NewClient(t, "")
	signInOverTLS(t, s, planter, "mallory")
	mallory := hostSession(planter)
	if mallory == "" {
		t.Fatal("no session")
	}
	check := func(cookie string, headers map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, planter.WithPorts("http://127.0.0.1:{HTTP_PORT}/.smsgate/auth?mode=status"), nil)
		req.Header.Set("Cookie", cookie)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		return sitetest.NewClient(t, "").Do(req).StatusCode
	}
	for name, headers := range map[string]map[string]string{
		"Caddy's, Traefik's": {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.com", "X-Forwarded-Uri": "/"},
		"nginx's":            {"X-Original-URL": "https://app.example.com/", "X-Original-Method": "GET"},
		"an http site's":     {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "app.example.com"},
	} {
		if got := check(pages.SessionCookie+"="+mallory, headers); got != http.StatusUnauthorized {
			t.Errorf("%s check at loopback took an old-name session issued since the upgrade: %d", name, got)
		}
		if got := check(pages.HostPrefix+pages.SessionCookie+"="+mallory, headers); got != http.StatusOK {
			t.Errorf("%s check refused the session under its name: %d", name, got)
		}
	}
	if strings.Contains(site, "portal_url") {
		if got := check(pages.SessionCookie+"="+mallory, nil); got != http.StatusUnauthorized {
			t.Errorf("a check at loopback for a portal at an HTTPS site took an old-name session issued since the upgrade: %d", got)
		}
		return
	}
	// Plain http at loopback, where the gate writes the old name.
	if got := check(pages.SessionCookie+"="+mallory, map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Host": "127.0.0.1"}); got != http.StatusOK {
		t.Errorf("a check for plain http at loopback refused the session under the name written there: %d", got)
	}
}

// TestAKnownCookieFromBeforeTheUpgradeEarnsNoNewTrust: a neighbour plants
// its user's known-browser cookie from before the upgrade under the old
// name (it counts: issued before the renaming) in a visitor's browser, and
// the gate's pages renamed it to __Host-, the name that says which browser
// this is; then it plants a trust its user earned since, in the browser
// that cookie names. The visitor was signed in as mallory at the login
// page (a login CSRF for the known cookie's 400 days, not the upgrade's
// window). Now a trust earned since the renaming counts only where a
// known-browser cookie issued since names its browser: the one written
// with the trust (the browser that earned it signs in with it still).
func TestAKnownCookieFromBeforeTheUpgradeEarnsNoNewTrust(t *testing.T) {
	sitetest.Parallel(t)
	s, addr := neighbourOnRedis(t)
	planter := sitetest.NewClient(t, "")
	signInOverTLS(t, s, planter, "mallory")
	app, _ := url.Parse(planter.WithPorts(neighbourApp + "/"))
	known := planter.CookieOf(app.String(), pages.HostPrefix+pages.KnownCookie)
	if known == "" {
		t.Fatal("no known-browser cookie")
	}
	known = beforeRenaming(t, s, addr, known, true)
	// mallory's browser earns a trust since.
	trust, pagesURL := earnTrust(t, s, planter, "mallory")

	visitor := sitetest.NewClient(t, "")
	evil, _ := url.Parse(visitor.WithPorts("https://evil.example.com:{HTTPS_PORT}/"))
	visitor.HTTP.Jar.SetCookies(evil, []*http.Cookie{{Name: pages.KnownCookie, Value: known, Domain: "example.com", Path: "/", Secure: true, HttpOnly: true}})
	login := visitor.WithPorts(neighbourApp + "/.smsgate/login")
	sitetest.Expect(t, visitor.GetURL(login), http.StatusOK, "") // the old-name cookie renamed here
	if visitor.CookieOf(app.String(), pages.HostPrefix+pages.KnownCookie) != known {
		t.Fatal("the planted old-name known-browser cookie was not renamed: the test plants nothing")
	}
	visitor.HTTP.Jar.SetCookies(evil, []*http.Cookie{{Name: pages.TrustCookie, Value: trust, Domain: "example.com", Path: "/.smsgate/login", Secure: true, HttpOnly: true}})
	if res := visitor.GetURL(login); res.StatusCode != http.StatusOK || hostSession(visitor) != "" {
		t.Fatalf("a trust earned since the upgrade signed the visitor in by a known-browser cookie from before it: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// The browser that earned it (its session gone) is signed in by it.
	again := sitetest.NewClient(t, "")
	again.HTTP.Jar.SetCookies(app, []*http.Cookie{{Name: pages.HostPrefix + pages.KnownCookie, Value: planter.CookieOf(app.String(), pages.HostPrefix+pages.KnownCookie), Path: "/", Secure: true}})
	again.HTTP.Jar.SetCookies(pagesURL, []*http.Cookie{{Name: pages.TrustCookie, Value: trust, Path: "/.smsgate/", Secure: true}})
	sitetest.Expect(t, again.GetURL(login), http.StatusSeeOther, "/")
}

// earnTrust signs c in as user with a code, trusting its browser, and
// is the trust cookie's value, and the pages' URL it is kept for.
func earnTrust(t *testing.T, s *sitetest.Site, c *sitetest.Client, user string) (trust string, pagesURL *url.URL) {
	t.Helper()
	signInOverTLS(t, s, c, user, "1")
	pagesURL, _ = url.Parse(c.WithPorts(neighbourApp + "/.smsgate/"))
	for _, k := range c.HTTP.Jar.Cookies(pagesURL) {
		if k.Name == pages.TrustCookie {
			trust = k.Value
		}
	}
	if trust == "" {
		t.Fatal("no trust cookie")
	}
	return trust, pagesURL
}

// browserOf is the browser a known-browser token names (Claims.Browser).
func browserOf(t *testing.T, token string) string {
	t.Helper()
	var cl session.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &cl); err != nil {
		t.Fatal(err)
	}
	return cl.Browser
}

// TestAPlantedKnownCookieNamesNoVictimsBrowser: a neighbour plants its
// user's known-browser cookie from before the upgrade under the old name
// (it counts for who signed in here before), and the visitor signs in as
// herself: the gate took the browser ID from that cookie into her own
// (marked) known-browser cookie, so a trust mallory earned since, in the
// browser that ID names, planted later, passed as earned here: the
// visitor's login page answered "Hello, mallory!". Now a sign-in keeps
// the browser ID only of a known-browser cookie issued since the renaming
// (marked), else makes a new one.
func TestAPlantedKnownCookieNamesNoVictimsBrowser(t *testing.T) {
	sitetest.Parallel(t)
	s, addr := neighbourOnRedis(t)
	planter := sitetest.NewClient(t, "")
	signInOverTLS(t, s, planter, "mallory")
	app, _ := url.Parse(planter.WithPorts(neighbourApp + "/"))
	before := beforeRenaming(t, s, addr, planter.CookieOf(app.String(), pages.HostPrefix+pages.KnownCookie), true)
	trust, _ := earnTrust(t, s, planter, "mallory") // a trust earned since, in the browser before names

	victim := sitetest.NewClient(t, "")
	evil, _ := url.Parse(victim.WithPorts("https://evil.example.com:{HTTPS_PORT}/"))
	victim.HTTP.Jar.SetCookies(evil, []*http.Cookie{{Name: pages.KnownCookie, Value: before, Domain: "example.com", Path: "/", Secure: true, HttpOnly: true}})
	signInOverTLS(t, s, victim, "carol")
	if mine := victim.CookieOf(app.String(), pages.HostPrefix+pages.KnownCookie); browserOf(t, mine) == browserOf(t, before) {
		t.Errorf("carol's own known-browser cookie names the browser of mallory's planted one (%s)", browserOf(t, before))
	}

	s.Advance(13 * time.Hour) // carol's session over
	victim.HTTP.Jar.SetCookies(evil, []*http.Cookie{{Name: pages.KnownCookie, Value: "", Domain: "example.com", Path: "/", MaxAge: -1}})
	victim.HTTP.Jar.SetCookies(evil, []*http.Cookie{{Name: pages.TrustCookie, Value: trust, Domain: "example.com", Path: "/.smsgate/login", Secure: true, HttpOnly: true}})
	res := victim.GetURL(victim.WithPorts(neighbourApp + "/.smsgate/login"))
	for _, c := range res.Cookies() {
		if c.Name == pages.HostPrefix+pages.SessionCookie && c.MaxAge > 0 {
			t.Fatalf("mallory's planted trust signed carol's browser in: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
	}
	sitetest.Expect(t, res, http.StatusOK, "")
}
