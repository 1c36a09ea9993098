package caddymodule_test

// Integration tests: the whole flow through a real Caddy, started in-process
// by caddytest. caddytest holds one Caddy per test binary, so every such
// test lives in this package and they run one after another. The ports are
// free ones picked at start (configs and URLs say {HTTP_PORT} and
// {ADMIN_PORT}, and withPorts puts the real ones in), so two copies of the repository can run
// their tests at once.

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddytest"

	_ "github.com/smsgate/caddy-smsgate"
	"github.com/smsgate/caddy-smsgate/caddymodule"
	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// demoHash is bcrypt("demo"), cost 10, for basic_auth users in tests.
const demoHash = "$2a$10$eAjqWKWtJzWGcoO86qpOTe3dpZRbaxiYEpCAQw/3wFkkdxgx/z4cK"

// The ports of this test binary's Caddy: free ones, picked in TestMain.
var httpPort, httpsPort, adminPort int

// base is the test site's origin.
var base string

// withPorts puts this binary's ports into a config or URL written with
// the placeholders {HTTP_PORT}, {HTTPS_PORT} and {ADMIN_PORT}.
func withPorts(s string) string {
	return strings.NewReplacer(
		"{HTTP_PORT}", strconv.Itoa(httpPort),
		"{HTTPS_PORT}", strconv.Itoa(httpsPort),
		"{ADMIN_PORT}", strconv.Itoa(adminPort),
	).Replace(s)
}

// assertLoadError loads cfg (with this binary's ports, and {DIR} a fresh
// folder: a config that loads further than expected must not write into
// the source tree) and expects want.
func assertLoadError(t *testing.T, cfg, want string) {
	t.Helper()
	cfg = strings.ReplaceAll(cfg, "{DIR}", filepath.Join(t.TempDir(), "store"))
	caddytest.AssertLoadError(t, withPorts(cfg), "caddyfile", want)
}

// site is a Caddy running one smsgate config, with its log file.
type site struct {
	t       *testing.T
	logFile string
	store   string
}

// root holds every test's store and log. It outlives the tests: Caddy
// closes a config's Badger database only when the next config is loaded,
// and a database whose folder is gone cannot flush on close.
var root string

func TestMain(m *testing.M) {
	httpPort, httpsPort = harness.FreePort(), harness.FreePort()
	base = fmt.Sprintf("http://localhost:%d", httpPort)
	// caddytest reaches Caddy's admin API here: a free port, never its
	// default 2999, so that two copies of the tests can run at once.
	caddytest.Default.AdminPort = harness.FreePort()
	adminPort = caddytest.Default.AdminPort
	var err error
	if root, err = os.MkdirTemp("", "smsgate-test-"); err != nil {
		panic(err)
	}
	// Caddy's data directory (where gates remember their stores) is the
	// tests' own, never the user's.
	if err := os.Setenv("XDG_DATA_HOME", filepath.Join(root, "data")); err != nil {
		panic(err)
	}
	code := m.Run()
	_ = caddy.Stop()
	_ = os.RemoveAll(root)
	os.Exit(code)
}

// startSite loads a config whose site block is body (with {DIR} replaced by
// a fresh store folder) behind the standard test globals.
func startSite(t *testing.T, body string) *site {
	t.Helper()
	return startSiteWith(t, "", body)
}

// startSiteWith is startSite with more global options.
func startSiteWith(t *testing.T, globals, body string) *site {
	t.Helper()
	dir, err := os.MkdirTemp(root, "site-")
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "caddy.log")
	cfg := fmt.Sprintf(`{
	skip_install_trust
	admin localhost:{ADMIN_PORT}
	http_port %d
	https_port %d
	grace_period 1ns
	log {
		output file %s
		format json
	}
	%s
}
%s`, httpPort, httpsPort, logFile, globals, strings.ReplaceAll(body, "{DIR}", filepath.Join(dir, "store")))
	caddytest.NewTester(t).InitServer(withPorts(cfg), "caddyfile")
	return &site{t: t, logFile: logFile, store: filepath.Join(dir, "store")}
}

// basicSite is the quickstart: basic_auth users alice, bob and demo
// (password demo), then smsgate with extra options, then a page that shows
// who got in and which cookies reached it.
func basicSite(t *testing.T, options string) *site {
	return startSite(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth {
		alice %[1]s
		bob %[1]s
		demo %[1]s
	}
	smsgate {
		store badger {DIR}
		provider log
		%[2]s
	}
	respond "Hello, {http.auth.user.id}! cookies=[{http.request.header.Cookie}]"
}`, demoHash, options))
}

// carolSite is a site where users name themselves (identity none) and
// carol is provisioned, behind the given global options.
func carolSite(t *testing.T, globals string) *site {
	t.Helper()
	return startSiteWith(t, globals, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "hi"
}`)
}

// logEntries returns the JSON log entries whose message is msg.
func (s *site) logEntries(msg ...string) []map[string]any {
	s.t.Helper()
	out, err := harness.Log(s.logFile).Entries(msg...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// sent returns how many messages (codes and notices) the log provider has written.
func (s *site) sent() int { return len(s.logEntries("verification code", "notice")) }

// lastCode returns the code of the last message, checking its number is masked.
func (s *site) lastCode() string {
	s.t.Helper()
	code, err := harness.Log(s.logFile).LastCode()
	if err != nil {
		s.t.Fatal(err)
	}
	return code
}

// client is one browser: its own cookies, a basic-auth identity (or none),
// and redirects left for the test to check.
type client struct {
	t    *testing.T
	http *http.Client
	user string
	// accept is the Accept header it sends.
	accept string
	// forwardedFor, if set, is sent as X-Forwarded-For.
	forwardedFor string
	// header is sent with every request that does not set its own
	// (Accept-Language, User-Agent).
	header http.Header
}

func newClient(t *testing.T, user string) *client {
	return &client{t: t, user: user, accept: "text/html,application/xhtml+xml", http: harness.Browser(caddytest.CreateTestingTransport())}
}

type response struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	if c.user != "" {
		req.SetBasicAuth(c.user, "demo")
	}
	req.URL.Host, req.Host = withPorts(req.URL.Host), withPorts(req.Host)
	for _, h := range []string{"Origin", "Referer"} {
		if v := req.Header.Get(h); v != "" {
			req.Header.Set(h, withPorts(v))
		}
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", c.accept)
	}
	if c.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", c.forwardedFor)
	}
	for k, v := range c.header {
		if req.Header.Get(k) == "" {
			req.Header[k] = v
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{res, string(b)}
}

func (c *client) get(path string) *response {
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	return c.do(req)
}

// from makes the client's requests come from ip, as a trusted proxy says.
func (c *client) from(ip string) *client {
	c.forwardedFor = ip
	return c
}

func (c *client) post(path string, form url.Values) *response {
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) postJSON(path, origin string, v any) *response {
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return c.do(req)
}

var csrfField = harness.CSRF

// csrf returns the csrf token of the form on page path.
func (c *client) csrf(path string) string {
	c.t.Helper()
	res := c.get(path)
	m := csrfField.FindStringSubmatch(res.body)
	if m == nil {
		c.t.Fatalf("GET %s: %d, no csrf field in\n%s", path, res.StatusCode, res.body)
	}
	return m[1]
}

func (c *client) cookie(name string) string {
	for _, site := range []string{base, "http://auth.sso.localhost:{HTTP_PORT}", "http://a.sso.localhost:{HTTP_PORT}"} {
		if v := c.cookieOf(site+"/.smsgate/", name); v != "" {
			return v
		}
	}
	return ""
}

func (c *client) cookieOf(site, name string) string {
	u, _ := url.Parse(withPorts(site))
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func (c *client) setCookie(name, value string) { c.setCookieFor(base+"/", name, value) }

func (c *client) setCookieFor(site, name, value string) {
	u, _ := url.Parse(withPorts(site))
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func expect(t *testing.T, res *response, status int, location string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", res.Request.Method, res.Request.URL, res.StatusCode, status, res.body)
	}
	if loc, location := res.Header.Get("Location"), withPorts(location); loc != location {
		t.Fatalf("%s %s: Location %q, want %q", res.Request.Method, res.Request.URL, loc, location)
	}
}

func expectBody(t *testing.T, res *response, substr string) {
	t.Helper()
	if substr = withPorts(substr); !strings.Contains(res.body, substr) {
		t.Fatalf("%s %s: body does not contain %q:\n%s", res.Request.Method, res.Request.URL, substr, res.body)
	}
}

// enroll takes a client from nothing to a session by enrolling num.
func enroll(t *testing.T, s *site, c *client, num string) {
	t.Helper()
	expect(t, c.get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	expect(t, c.get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
	token := c.csrf("/.smsgate/enroll")
	expect(t, c.post("/.smsgate/enroll", url.Values{"phone": {num}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
	expectEnrolled(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {token}}), "/")
}

var recoveryCode = regexp.MustCompile(`<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>`)

// expectEnrolled checks the answer to a first enrollment's code: the
// session, and the recovery codes shown once, with a link on to rd.
func expectEnrolled(t *testing.T, res *response, rd string) []string {
	t.Helper()
	expect(t, res, http.StatusOK, "")
	expectBody(t, res, `href="`+html.EscapeString(rd)+`"`)
	var codes []string
	for _, m := range recoveryCode.FindAllStringSubmatch(res.body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes on the page, want 10:\n%s", len(codes), res.body)
	}
	found := false
	for _, c := range res.Cookies() {
		found = found || (c.Name == "smsgate_session" && c.Value != "")
	}
	if !found {
		t.Fatal("no session after the enrollment")
	}
	return codes
}

func TestFlowEndToEnd(t *testing.T) {
	s := basicSite(t, "")
	c := newClient(t, "demo")

	// A visit without a session goes to the gate, keeping its target.
	expect(t, c.get("/app/page?x=1"), http.StatusFound, "/.smsgate/login?rd=%2Fapp%2Fpage%3Fx%3D1")
	expect(t, c.get("/.smsgate/login?rd=%2Fapp%2Fpage%3Fx%3D1"), http.StatusSeeOther, "/.smsgate/enroll")

	page := c.get("/.smsgate/enroll")
	expect(t, page, http.StatusOK, "")
	expectBody(t, page, `name="phone"`)
	token := csrfField.FindStringSubmatch(page.body)[1]
	if s.sent() != 0 {
		t.Fatal("a GET sent a code")
	}

	expect(t, c.post("/.smsgate/enroll", url.Values{"phone": {"+1 415 555 2671"}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
	if s.sent() != 1 {
		t.Fatalf("%d codes sent for one enrollment", s.sent())
	}
	verify := c.get("/.smsgate/verify")
	expectBody(t, verify, `autocomplete="one-time-code" inputmode="numeric"`)
	expectBody(t, verify, "1•••••••671")
	if strings.Contains(verify.body, "5552671") {
		t.Fatal("the verify page shows the full number")
	}

	res := c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {token}})
	expectEnrolled(t, res, "/app/page?x=1")
	var sessionCookie *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "smsgate_session" {
			sessionCookie = ck
		}
	}
	if sessionCookie == nil || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteLaxMode || strings.Count(sessionCookie.Value, ".") != 2 {
		t.Fatalf("session cookie %+v", sessionCookie)
	}

	// The app sees the user, and never the session cookie; other cookies pass.
	c.setCookie("app_pref", "dark")
	app := c.get("/app/page?x=1")
	expect(t, app, http.StatusOK, "")
	expectBody(t, app, "Hello, demo!")
	expectBody(t, app, "app_pref=dark")
	if strings.Contains(app.body, "smsgate_") {
		t.Fatalf("a smsgate cookie reached the upstream: %s", app.body)
	}

	// A new browser session: the phone is known, so verify, not enroll, and
	// the code is sent only when asked for by POST.
	c2 := newClient(t, "demo")
	expect(t, c2.get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/verify")
	page = c2.get("/.smsgate/verify")
	expectBody(t, page, `name="action" value="send"`)
	expectBody(t, page, "1•••••••671")
	token2 := csrfField.FindStringSubmatch(page.body)[1]
	if s.sent() != 1 {
		t.Fatal("visiting the verify page sent a code")
	}
	caddymodule.Advance(time.Minute) // past the cooldown of the enrollment code
	expect(t, c2.post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {token2}}), http.StatusSeeOther, "/.smsgate/verify")
	expect(t, c2.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {token2}}), http.StatusSeeOther, "/")
	expect(t, c2.get("/"), http.StatusOK, "")

	// Logout ends the session, and a saved copy of the cookie is refused.
	stolen := c2.cookie("smsgate_session")
	logout := c2.get("/.smsgate/logout")
	expectBody(t, logout, `action="/.smsgate/logout"`)
	token2 = csrfField.FindStringSubmatch(logout.body)[1]
	expect(t, c2.post("/.smsgate/logout", url.Values{"csrf": {token2}}), http.StatusOK, "")
	expect(t, c2.get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	c3 := newClient(t, "demo")
	c3.setCookie("smsgate_session", stolen)
	expect(t, c3.get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")

	// The first browser's session is another session, and still valid.
	expect(t, c.get("/"), http.StatusOK, "")

	// Audit events were logged with masked numbers only.
	for _, ev := range []string{"code_sent", "enrolled", "verified", "signed_out"} {
		if len(s.logEntries(ev)) == 0 {
			t.Errorf("no %s event in the log", ev)
		}
	}
	raw, _ := os.ReadFile(s.logFile)
	if strings.Contains(string(raw), "4155552671") {
		t.Error("the full phone number appears in the log")
	}
	if strings.Contains(string(raw), sessionCookie.Value) {
		t.Error("a session token appears in the log")
	}
}
