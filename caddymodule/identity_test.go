package caddymodule_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
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

// A header identity is believed only where a forward_auth in the route
// set it: a client that sends its own Remote-User where the forward_auth
// is skipped by a matcher names nobody. On main it was alice: it enrolled
// its own phone for her.
func TestAHeaderIdentityIsBelievedOnlyFromForwardAuth(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
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
	mallory := sitetest.NewClient(t, "")
	for _, path := range []string{"/public/page", "/.smsgate/login", "/.smsgate/enroll"} {
		sitetest.Expect(t, mallory.GetWith(path, forged), http.StatusUnauthorized, "")
	}
	res := mallory.PostWith("/.smsgate/enroll", url.Values{"phone": {"+14155550100"}}, forged)
	sitetest.Expect(t, res, http.StatusUnauthorized, "")
	if s.Sent() != 0 {
		t.Fatal("a forged Remote-User got a code sent")
	}
	if len(s.LogEntries("identity header refused: no forward_auth in this route set it, and the request did not come from a trusted proxy")) == 0 {
		t.Error("the refusal was not logged")
	}

	// Where the forward_auth ran, what it copied is believed (and a
	// client's copy was replaced by it).
	alice := sitetest.NewClient(t, "")
	sso := map[string]string{"X-Token": "alice-token", "Remote-User": "mallory"}
	sitetest.Expect(t, alice.GetWith("/", sso), http.StatusFound, "/.smsgate/login?rd=%2F")
}

// A forward_auth that renames the header (copy_headers X-Auth-User>
// Remote-User) is followed: the adapter notes the answer's header, and
// the gate believes Remote-User where it holds what that header said.
func TestARenamedForwardAuthHeaderIsFollowed(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Start(t, `http://localhost:{HTTP_PORT} {
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
	c := sitetest.NewClient(t, "")
	sitetest.Expect(t, c.GetWith("/", map[string]string{"X-Token": "alice-token-renamed", "Remote-User": "mallory"}), http.StatusFound, "/.smsgate/login?rd=%2F")
	sitetest.Expect(t, c.GetWith("/.smsgate/login", map[string]string{"X-Token": "alice-token-renamed"}), http.StatusSeeOther, "/.smsgate/enroll")
	sitetest.Expect(t, c.GetWith("/", map[string]string{"Remote-User": "alice"}), http.StatusUnauthorized, "")
}

// Behind a proxy in trusted_proxies, the proxy's header is believed; from
// anyone else, the client's copy names nobody.
func TestAHeaderIdentityIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	sitetest.Parallel(t)
	const site = `http://localhost:{HTTP_PORT} {
	smsgate {
		identity {http.request.header.Remote-User}
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`
	sitetest.StartWith(t, "servers {\n\t\ttrusted_proxies static 10.0.0.0/8\n\t}", site)
	c := sitetest.NewClient(t, "")
	sitetest.Expect(t, c.GetWith("/", map[string]string{"Remote-User": "alice"}), http.StatusUnauthorized, "")
	sitetest.Expect(t, c.GetWith("/.smsgate/login", map[string]string{"Remote-User": "alice"}), http.StatusUnauthorized, "")

	sitetest.StartWith(t, "servers {\n\t\ttrusted_proxies static 127.0.0.1/32 ::1/128\n\t}", site)
	sitetest.Expect(t, c.GetWith("/", map[string]string{"Remote-User": "alice"}), http.StatusFound, "/.smsgate/login?rd=%2F")
	sitetest.Expect(t, c.GetWith("/.smsgate/login", map[string]string{"Remote-User": "alice"}), http.StatusSeeOther, "/.smsgate/enroll")
}

// An identity too long for a text, or with direction characters, signs
// nobody in (on main, a 4,000-character name made a 27-segment SMS).
func TestOddIdentitiesAreRefused(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.StartWith(t, "servers {\n\t\ttrusted_proxies static 127.0.0.1/32 ::1/128\n\t}", `http://localhost:{HTTP_PORT} {
	smsgate {
		identity {http.request.header.Remote-User}
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	c := sitetest.NewClient(t, "")
	for _, user := range []string{strings.Repeat("a", 4000), "ali\u202Ece"} {
		sitetest.Expect(t, c.GetWith("/.smsgate/login", map[string]string{"Remote-User": user}), http.StatusUnauthorized, "")
	}
}

// Users choose their names where an SSO lets them: a name reaches a text
// only as words — no link, no number to call, no direction override —
// and a text stays short (on main the name was copied in as it was).
func TestANameCannotWriteTheText(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, "servers {\n\t\ttrusted_proxies static 127.0.0.1/32 ::1/128\n\t}", `http://localhost:{HTTP_PORT} {
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
		c := sitetest.NewClient(t, "")
		as := map[string]string{"Remote-User": name}
		sitetest.Expect(t, c.GetWith("/.smsgate/login", as), http.StatusSeeOther, "/.smsgate/enroll")
		tok := sitetest.CSRFField.FindStringSubmatch(c.GetWith("/.smsgate/enroll", as).Text)[1]
		sitetest.Expect(t, c.PostWith("/.smsgate/enroll", url.Values{"phone": {"+1415555267" + strconv.Itoa(i)}, "csrf": {tok}}, as), http.StatusSeeOther, "/.smsgate/verify")
		msgs := s.LogEntries("verification code")
		body := msgs[len(msgs)-1]["body"].(string)
		// What the name wrote: the text before the code, a random number
		// that may hold "900" itself (CI drew 030900).
		named, _, _ := strings.Cut(body, " code is ")
		for _, bad := range []string{"http", "evil.example", "900", "555 0000", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"} {
			if strings.Contains(named, bad) {
				t.Errorf("the text for %.30q says %q: %q", name, bad, body)
			}
		}
		if len(body) > 160 {
			t.Errorf("the text for %.30q is %d characters: %q", name, len(body), body)
		}
	}
}
