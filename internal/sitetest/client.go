package sitetest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// Client is one browser: its own cookies, a basic-auth identity (or none),
// and redirects left for the test to check.
type Client struct {
	t    *testing.T
	HTTP *http.Client
	User string
	// Accept is the Accept header it sends.
	Accept string
	// ForwardedFor, if set, is sent as X-Forwarded-For.
	ForwardedFor string
	// Header is sent with every request that does not set its own
	// (Accept-Language, User-Agent).
	Header http.Header
}

// NewClient is a browser signing in through basic_auth as user (none: ""),
// to t's Caddy.
func NewClient(t *testing.T, user string) *Client {
	return &Client{t: t, User: user, Accept: "text/html,application/xhtml+xml", HTTP: harness.Browser(&loopback{})}
}

// shared is the clients' transport for plain HTTP, the sites' scheme: one
// pool of kept-alive connections for every client of the binary. With a
// transport a client, each dialled its own: caddymodule's run dialled 2,147
// connections, 1,100 now (about one and a half a site started: a reload
// closes them); the CPU that saves was below the runs' noise (speed41a,
// docs/TESTING.md). A connection carries no state of a browser (its
// cookies are its jar's, its identity each request's
// header); OnLoopback, whose address is the connection's, has a transport
// of its own, as does HTTPS (HTTP/2 puts every request to a host on one
// connection: a server's GOAWAY, at a reload, would reach every client of
// the test at once).
var shared = func() *http.Transport {
	tr := harness.Loopback(nil)
	// Up to four parallel tests, each with many browsers at once.
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 64
	return tr
}()

// loopback is a client's transport: shared for http, its own for https.
type loopback struct {
	mu  sync.Mutex
	own *http.Transport
}

func (l *loopback) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		return shared.RoundTrip(req)
	}
	l.mu.Lock()
	if l.own == nil {
		l.own = harness.Loopback(nil)
	}
	own := l.own
	l.mu.Unlock()
	return own.RoundTrip(req)
}

// CloseIdleConnections closes the client's idle connections, and the
// shared pool's: a test closes them after its Caddy replaced its servers
// (those connections are gone), or before it counts the goroutines that
// serve them; another test's next request dials again.
func (l *loopback) CloseIdleConnections() {
	shared.CloseIdleConnections()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.own != nil {
		l.own.CloseIdleConnections()
	}
}

// ports are those of the client's test's Caddy.
func (c *Client) ports() ports { return portsOf(c.t) }

// Base is the origin of the client's test's site.
func (c *Client) Base() string { return c.ports().base() }

// WithPorts puts the client's test's Caddy's ports into s.
func (c *Client) WithPorts(s string) string { return c.ports().withPorts(s) }

// Response is an answer with its body read.
type Response struct {
	*http.Response
	Text string
	// client is the browser that got it.
	client *Client
}

// Do sends req as the browser does: its identity, its Accept header, and
// its Caddy's ports in the URL, Host, Origin and Referer.
func (c *Client) Do(req *http.Request) *Response {
	c.t.Helper()
	if c.User != "" {
		req.SetBasicAuth(c.User, "demo")
	}
	at := c.ports()
	req.URL.Host, req.Host = at.withPorts(req.URL.Host), at.withPorts(req.Host)
	for _, h := range []string{"Origin", "Referer"} {
		if v := req.Header.Get(h); v != "" {
			req.Header.Set(h, at.withPorts(v))
		}
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", c.Accept)
	}
	if c.ForwardedFor != "" {
		req.Header.Set("X-Forwarded-For", c.ForwardedFor)
	}
	for k, v := range c.Header {
		if req.Header.Get(k) == "" {
			req.Header[k] = v
		}
	}
	res, err := c.HTTP.Do(req)
	if swapped(err) && (req.Body == nil || req.GetBody != nil) {
		// Asked again, once (see swapped), a form too: the replaced
		// server's last Accept may take a connection the test dials after
		// the load, and close it unanswered (CI: `Post ".../verify": EOF`).
		if req.GetBody != nil {
			req.Body, _ = req.GetBody()
		}
		res, err = c.HTTP.Do(req)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &Response{res, string(b), c}
}

// Get fetches path on the test site.
func (c *Client) Get(path string) *Response { return c.GetURL(c.Base() + path) }

// GetURL fetches an absolute URL.
func (c *Client) GetURL(u string) *Response {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return c.Do(req)
}

// GetWith sends a GET with extra headers.
func (c *Client) GetWith(path string, headers map[string]string) *Response {
	req, _ := http.NewRequest(http.MethodGet, c.Base()+path, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.Do(req)
}

// GetHost sends a GET whose Host header is host.
func (c *Client) GetHost(host, path string) *Response {
	req, _ := http.NewRequest(http.MethodGet, c.Base()+path, nil)
	req.Host = host
	return c.Do(req)
}

// From makes the client's requests come from ip, as a trusted proxy says.
func (c *Client) From(ip string) *Client {
	c.ForwardedFor = ip
	return c
}

// OnLoopback makes c's next requests come from 127.0.0.n (a new
// connection: the address is the peer's, not a header).
func (c *Client) OnLoopback(n int) *Client {
	c.HTTP.Transport = harness.Loopback(net.IPv4(127, 0, byte(n>>8), byte(n)))
	return c
}

// Post submits form to path on the test site.
func (c *Client) Post(path string, form url.Values) *Response {
	return c.PostWith(path, form, nil)
}

// PostURL submits form to an absolute URL.
func (c *Client) PostURL(u string, form url.Values) *Response {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// PostWith submits form with extra headers.
func (c *Client) PostWith(path string, form url.Values, headers map[string]string) *Response {
	req, _ := http.NewRequest(http.MethodPost, c.Base()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.Do(req)
}

// PostHost submits form with host as the Host header.
func (c *Client) PostHost(host, path string, form url.Values) *Response {
	req, _ := http.NewRequest(http.MethodPost, c.Base()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = host
	return c.Do(req)
}

// PostJSON posts v as JSON, asking for JSON, from origin ("" for none).
func (c *Client) PostJSON(path, origin string, v any) *Response {
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, c.Base()+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return c.Do(req)
}

// CSRFField finds the csrf token of a form.
var CSRFField = harness.CSRF

// CSRF returns the csrf token of the form on page path.
func (c *Client) CSRF(path string) string {
	c.t.Helper()
	res := c.Get(path)
	m := CSRFField.FindStringSubmatch(res.Text)
	if m == nil {
		c.t.Fatalf("GET %s: %d, no csrf field in\n%s", path, res.StatusCode, res.Text)
	}
	return m[1]
}

// Cookie is the browser's cookie name for the gate's pages, on the test
// site or the forward-auth tests' portal and app.
func (c *Client) Cookie(name string) string {
	for _, site := range []string{c.Base(), "http://auth.sso.localhost:{HTTP_PORT}", "http://a.sso.localhost:{HTTP_PORT}"} {
		if v := c.CookieOf(site+"/.smsgate/", name); v != "" {
			return v
		}
	}
	return ""
}

// CookieOf is the browser's cookie name for the URL site.
func (c *Client) CookieOf(site, name string) string {
	u, _ := url.Parse(c.WithPorts(site))
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SetCookie sets a cookie for the whole test site.
func (c *Client) SetCookie(name, value string) { c.SetCookieFor(c.Base()+"/", name, value) }

// SetCookieFor sets a cookie for the URL site.
func (c *Client) SetCookieFor(site, name, value string) {
	u, _ := url.Parse(c.WithPorts(site))
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Expect checks an answer's status and Location ("" for none).
func Expect(t *testing.T, res *Response, status int, location string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", res.Request.Method, res.Request.URL, res.StatusCode, status, res.Text)
	}
	if loc, location := res.Header.Get("Location"), res.client.WithPorts(location); loc != location {
		t.Fatalf("%s %s: Location %q, want %q", res.Request.Method, res.Request.URL, loc, location)
	}
}

// ConsoleDone checks that a console change answered 303 to the user's
// console page (Post/Redirect/Get; action, what it did, is carried by the
// flow, not the address), and follows it: the page, which says it once.
func ConsoleDone(t *testing.T, res *Response, action string) *Response {
	t.Helper()
	loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || err != nil || !strings.HasSuffix(loc.Path, "admin/user") || loc.Query().Has("done") {
		t.Fatalf("%s %s: %d to %q, want 303 to admin/user (%s done)\n%s", res.Request.Method, res.Request.URL, res.StatusCode, res.Header.Get("Location"), action, res.Text)
	}
	if name := res.Request.URL.Query().Get("name"); loc.Query().Get("name") != name {
		t.Fatalf("a console change for %q sent to %s", name, loc)
	}
	return res.client.GetURL(loc.String())
}

// ExpectBody checks that an answer's body holds substr.
func ExpectBody(t *testing.T, res *Response, substr string) {
	t.Helper()
	if substr = res.client.WithPorts(substr); !strings.Contains(res.Text, substr) {
		t.Fatalf("%s %s: body does not contain %q:\n%s", res.Request.Method, res.Request.URL, substr, res.Text)
	}
}

// Enroll takes a client from nothing to a session by enrolling num.
func Enroll(t *testing.T, s *Site, c *Client, num string) {
	t.Helper()
	Expect(t, c.Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
	token := c.CSRF("/.smsgate/enroll")
	Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {num}, "csrf": {token}}), http.StatusSeeOther, "/.smsgate/verify")
	ExpectEnrolled(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {token}}), "/")
}

// EnrollWith posts num to the enroll page, and returns the answer and the
// form's csrf token.
func EnrollWith(t *testing.T, c *Client, num string) (*Response, string) {
	t.Helper()
	tok := c.CSRF("/.smsgate/enroll")
	return c.Post("/.smsgate/enroll", url.Values{"phone": {num}, "csrf": {tok}}), tok
}

// SignIn signs carol in through a login form (Carol's site, or any with
// carol provisioned and identity none).
func SignIn(t *testing.T, s *Site, c *Client) {
	t.Helper()
	tok := c.CSRF("/.smsgate/login")
	Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

// RecoveryCode finds the recovery codes a page shows.
var RecoveryCode = regexp.MustCompile(`<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>`)

// ExpectEnrolled checks the answer to a first enrollment's code: the
// session, and the recovery codes on their page until they are saved,
// then on to rd.
func ExpectEnrolled(t *testing.T, res *Response, rd string) []string {
	t.Helper()
	Expect(t, res, http.StatusSeeOther, "/.smsgate/recovery")
	page := res.client.Get("/.smsgate/recovery")
	var codes []string
	for _, m := range RecoveryCode.FindAllStringSubmatch(page.Text, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes on the page, want 10:\n%s", len(codes), page.Text)
	}
	tok := CSRFField.FindStringSubmatch(page.Text)
	if tok == nil {
		t.Fatalf("no form to say the codes are saved:\n%s", page.Text)
	}
	Expect(t, res.client.Post("/.smsgate/recovery", url.Values{"saved": {"1"}, "csrf": {tok[1]}}), http.StatusSeeOther, rd)
	found := false
	for _, c := range res.Cookies() {
		found = found || (c.Name == "smsgate_session" && c.Value != "")
	}
	if !found {
		t.Fatal("no session after the enrollment")
	}
	return codes
}
