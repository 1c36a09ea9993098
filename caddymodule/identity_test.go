package caddymodule_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// authService plays an SSO's verify endpoint: the token alice-token is
// alice (in Remote-User; alice-token-renamed: in X-Auth-User), anything
// else is refused.
func authService(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Token") {
		case "alice-token":
			w.Header().Set("Remote-User", "alice")
			return
		case "alice-token-renamed": // an SSO that names its own header
			w.Header().Set("X-Auth-User", "alice")
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// getWith sends a GET with extra headers.
func (c *client) getWith(path string, headers map[string]string) *response {
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

func (c *client) postWith(path string, form url.Values, headers map[string]string) *response {
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

// A header identity is believed only where a forward_auth in the route
// set it: a client that sends its own Remote-User where the forward_auth
// is skipped by a matcher names nobody. On main it was alice: it enrolled
// its own phone for her.
func TestAHeaderIdentityIsBelievedOnlyFromForwardAuth(t *testing.T) {
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	@sso not path /.smsgate/* /public/*
	forward_auth @sso `+authService(t)+` {
		uri /verify
		copy_headers Remote-User
	}
	smsgate {
		identity {http.request.header.Remote-User}
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	forged := map[string]string{"Remote-User": "alice"}
	mallory := newClient(t, "")
	for _, path := range []string{"/public/page", "/.smsgate/login", "/.smsgate/enroll"} {
		expect(t, mallory.getWith(path, forged), http.StatusUnauthorized, "")
	}
	res := mallory.postWith("/.smsgate/enroll", url.Values{"phone": {"+14155550100"}}, forged)
	expect(t, res, http.StatusUnauthorized, "")
	if s.sent() != 0 {
		t.Fatal("a forged Remote-User got a code sent")
	}
	if len(s.logEntries("identity header refused: no forward_auth in this route set it, and the request did not come from a trusted proxy")) == 0 {
		t.Error("the refusal was not logged")
	}

	// Where the forward_auth ran, what it copied is believed (and a
	// client's copy was replaced by it).
	alice := newClient(t, "")
	sso := map[string]string{"X-Token": "alice-token", "Remote-User": "mallory"}
	expect(t, alice.getWith("/", sso), http.StatusFound, "/.smsgate/login?rd=%2F")
}

// A forward_auth that renames the header (copy_headers X-Auth-User>
// Remote-User) is followed: the adapter notes the answer's header, and
// the gate believes Remote-User where it holds what that header said.
func TestARenamedForwardAuthHeaderIsFollowed(t *testing.T) {
	startSite(t, `http://localhost:{HTTP_PORT} {
	forward_auth `+authService(t)+` {
		uri /verify
		copy_headers X-Auth-User>Remote-User
	}
	smsgate {
		identity {http.request.header.Remote-User}
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	c := newClient(t, "")
	expect(t, c.getWith("/", map[string]string{"X-Token": "alice-token-renamed", "Remote-User": "mallory"}), http.StatusFound, "/.smsgate/login?rd=%2F")
	expect(t, c.getWith("/.smsgate/login", map[string]string{"X-Token": "alice-token-renamed"}), http.StatusSeeOther, "/.smsgate/enroll")
	expect(t, c.getWith("/", map[string]string{"Remote-User": "alice"}), http.StatusUnauthorized, "")
}

// Behind a proxy in trusted_proxies, the proxy's header is believed; from
// anyone else, the client's copy names nobody.
func TestAHeaderIdentityIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	const site = `http://localhost:{HTTP_PORT} {
	smsgate {
		identity {http.request.header.Remote-User}
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`
	startSiteWith(t, "servers {\n\t\ttrusted_proxies static 10.0.0.0/8\n\t}", site)
	c := newClient(t, "")
	expect(t, c.getWith("/", map[string]string{"Remote-User": "alice"}), http.StatusUnauthorized, "")
	expect(t, c.getWith("/.smsgate/login", map[string]string{"Remote-User": "alice"}), http.StatusUnauthorized, "")

	startSiteWith(t, "servers {\n\t\ttrusted_proxies static 127.0.0.1/32 ::1/128\n\t}", site)
	expect(t, c.getWith("/", map[string]string{"Remote-User": "alice"}), http.StatusFound, "/.smsgate/login?rd=%2F")
	expect(t, c.getWith("/.smsgate/login", map[string]string{"Remote-User": "alice"}), http.StatusSeeOther, "/.smsgate/enroll")
}

// An identity too long for a text, or with direction characters, signs
// nobody in (on main, a 4,000-character name made a 27-segment SMS).
func TestOddIdentitiesAreRefused(t *testing.T) {
	startSiteWith(t, "servers {\n\t\ttrusted_proxies static 127.0.0.1/32 ::1/128\n\t}", `http://localhost:{HTTP_PORT} {
	smsgate {
		identity {http.request.header.Remote-User}
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	c := newClient(t, "")
	for _, user := range []string{strings.Repeat("a", 4000), "ali\u202Ece"} {
		expect(t, c.getWith("/.smsgate/login", map[string]string{"Remote-User": user}), http.StatusUnauthorized, "")
	}
}

// Users choose their names where an SSO lets them: a name reaches a text
// only as words — no link, no number to call, no direction override —
// and a text stays short (on main the name was copied in as it was).
func TestANameCannotWriteTheText(t *testing.T) {
	s := startSiteWith(t, "servers {\n\t\ttrusted_proxies static 127.0.0.1/32 ::1/128\n\t}", `http://localhost:{HTTP_PORT} {
	smsgate {
		identity {http.request.header.Remote-User}
		message_template "Hi {{.User}}, your {{.Site}} code is {{.Code}}."
		voice_template "Hi {{.User}}. Your code is {{.Digits}}."
		channels sms voice
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	for i, name := range []string{
		"Your account is locked. Log in at http://evil.example/reset",
		"Call 1 900 555 0000",
		strings.Repeat("x", 250),
	} {
		c := newClient(t, "")
		as := map[string]string{"Remote-User": name}
		expect(t, c.getWith("/.smsgate/login", as), http.StatusSeeOther, "/.smsgate/enroll")
		tok := csrfField.FindStringSubmatch(c.getWith("/.smsgate/enroll", as).body)[1]
		expect(t, c.postWith("/.smsgate/enroll", url.Values{"phone": {"+1415555267" + strconv.Itoa(i)}, "csrf": {tok}}, as), http.StatusSeeOther, "/.smsgate/verify")
		msgs := s.logEntries("verification code")
		body := msgs[len(msgs)-1]["body"].(string)
		for _, bad := range []string{"http", "evil.example", "900", "555 0000", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"} {
			if strings.Contains(body, bad) {
				t.Errorf("the text for %.30q says %q: %q", name, bad, body)
			}
		}
		if len(body) > 160 {
			t.Errorf("the text for %.30q is %d characters: %q", name, len(body), body)
		}
	}
}
