package caddymodule_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/caddymodule"
)

// admin calls the admin API on caddytest's admin endpoint.
func admin(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, withPorts("http://localhost:{ADMIN_PORT}")+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestInvitesAndAdminAPI(t *testing.T) {
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		realm localhost
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	st, body := admin(t, "POST", "/smsgate/invites", `{"realm":"localhost","user":"frank","ttl":"1h"}`)
	if st != 200 {
		t.Fatalf("invite: %d %s", st, body)
	}
	var inv struct{ Path string }
	_ = json.Unmarshal([]byte(body), &inv)

	// A link scanner's GET does not burn it.
	scanner := newClient(t, "")
	expectBody(t, scanner.get(inv.Path), "Add my phone")
	c := newClient(t, "")
	page := c.get(inv.Path)
	tok := csrfField.FindStringSubmatch(page.body)[1]
	token := strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")
	expect(t, c.post("/.smsgate/invite", url.Values{"token": {token}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
	expect(t, c.post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	expectEnrolled(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), "/")
	expectBody(t, c.get("/"), "Hello, frank!")

	// Used once: the link is dead.
	again := newClient(t, "")
	res := again.get(inv.Path)
	expect(t, res, http.StatusBadRequest, "")
	expectBody(t, res, "expired or was already used")

	// An expired link is refused too.
	_, body = admin(t, "POST", "/smsgate/invites", `{"realm":"localhost","user":"gina","ttl":"10m"}`)
	_ = json.Unmarshal([]byte(body), &inv)
	caddymodule.Advance(11 * time.Minute)
	expect(t, newClient(t, "").get(inv.Path), http.StatusBadRequest, "")

	// The admin lists users (numbers masked), provisions and revokes.
	st, body = admin(t, "GET", "/smsgate/users?realm=localhost", "")
	if st != 200 || !strings.Contains(body, `"user":"frank"`) || !strings.Contains(body, "+1•••••••671") || strings.Contains(body, "5552671") {
		t.Fatalf("users: %d %s", st, body)
	}
	if st, body = admin(t, "POST", "/smsgate/users", `{"realm":"localhost","user":"hank","phone":"+447400123456","name":"Mobile"}`); st != 200 {
		t.Fatalf("add: %d %s", st, body)
	}
	h := newClient(t, "")
	htok := h.csrf("/.smsgate/login")
	expect(t, h.post("/.smsgate/login", url.Values{"username": {"hank"}, "csrf": {htok}}), http.StatusSeeOther, "/.smsgate/verify")
	if st, body = admin(t, "POST", "/smsgate/revoke", `{"realm":"localhost","user":"frank"}`); st != 200 {
		t.Fatalf("revoke: %d %s", st, body)
	}
	caddymodule.Advance(3 * time.Second) // the revocation bound
	expect(t, c.get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")

	// Bad requests get clear errors.
	if st, body = admin(t, "POST", "/smsgate/users", `{"realm":"localhost","user":"x","phone":"123"}`); st != 400 || !strings.Contains(body, "international format") {
		t.Fatalf("bad phone: %d %s", st, body)
	}
	if st, _ = admin(t, "POST", "/smsgate/reset", `{"realm":"localhost"}`); st != 400 {
		t.Fatalf("missing user: %d", st)
	}
}

// TestAdminAPIRefusesARealmOnTwoStores: one realm served by gates on two
// stores is refused, never one of them at random. (Caddy drops a module's
// raw config once it is loaded, so the gates keep their store's identity.)
func TestAdminAPIRefusesARealmOnTwoStores(t *testing.T) {
	startSite(t, `http://a.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm shared.localhost
		store badger {DIR}/a
		provider log
	}
	respond "a"
}
http://b.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm shared.localhost
		store badger {DIR}/b
		provider log
	}
	respond "b"
}`)
	if st, body := admin(t, "GET", "/smsgate/users?realm=shared.localhost", ""); st != http.StatusConflict || !strings.Contains(body, "different stores") {
		t.Fatalf("a realm on two stores: %d %s", st, body)
	}
}
