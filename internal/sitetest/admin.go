package sitetest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Admin calls the admin API of the site's Caddy, and returns its status
// and body.
func (s *Site) Admin(method, path, body string) (int, string) {
	s.t.Helper()
	return admin(s.t, s.ports, method, path, body)
}

func admin(t *testing.T, at ports, method, path, body string) (int, string) {
	t.Helper()
	st, _, out := adminWithHeader(t, at, method, path, body)
	return st, out
}

// AdminWithHeader is Admin with the answer's header too.
func (s *Site) AdminWithHeader(method, path, body string) (int, http.Header, string) {
	s.t.Helper()
	return adminWithHeader(s.t, s.ports, method, path, body)
}

func adminWithHeader(t *testing.T, at ports, method, path, body string) (int, http.Header, string) {
	t.Helper()
	return adminAs(t, at, "application/json", method, path, body)
}

// LoadCaddyfile posts the Caddyfile cfg to t's Caddy's /load (as
// text/caddyfile: Caddy adapts it without a file to read again), its
// ports filled in, and returns the status and body.
func LoadCaddyfile(t *testing.T, cfg string) (int, string) {
	t.Helper()
	if p := bindingOf(t); p != nil {
		stopsFirst(t, p.process(t))
	}
	at := portsOf(t)
	st, _, out := adminAs(t, at, "text/caddyfile", http.MethodPost, "/load", at.withPorts(cfg))
	return st, out
}

func adminAs(t *testing.T, at ports, contentType, method, path, body string) (int, http.Header, string) {
	t.Helper()
	do := func() (*http.Response, error) {
		req, _ := http.NewRequest(method, at.withPorts("http://localhost:{ADMIN_PORT}")+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return adminClient.Do(req)
	}
	res, err := do()
	if swapped(err) {
		// The admin server a load just replaced (the site's start, the
		// line before) took the connection and closed it unread, as post
		// says: asked again, once (speed41a's run: the first addUser
		// after a start, `read: connection reset by peer`). A request it
		// read it answers: Caddy shuts it down gracefully.
		res, err = do()
	}
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}
