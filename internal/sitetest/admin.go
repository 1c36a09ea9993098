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
	req, _ := http.NewRequest(method, at.withPorts("http://localhost:{ADMIN_PORT}")+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	res, err := adminClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}
