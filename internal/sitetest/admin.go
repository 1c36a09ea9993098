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
	req, _ := http.NewRequest(method, at.withPorts("http://localhost:{ADMIN_PORT}")+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := adminClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}
