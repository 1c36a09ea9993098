package caddymodule_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAMapOrVarsNamedLikeTheFirstFactorsUserIsRefused (review40): an
// identity {http.auth.user.*} is believed as a first factor set it, but a
// map whose output is named {http.auth.user.id} answers that placeholder
// where no authentication handler set it, and vars sets it outright (by
// that name, or a name the request chooses): on a site without one, the
// client chose the identity (before: `GET /?u=alice` was taken for alice,
// 302 to her sign-in, where `GET /` was 401; enrollment open let him enroll
// his phone as her). Now a server holding such a gate with such a map or
// vars is refused at load: a Caddyfile at the line (siteblock), any
// config when the smsgate app starts (admin's checkIdentitySetters: the
// JSON case); a map with another output loads.
func TestAMapOrVarsNamedLikeTheFirstFactorsUserIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	site := func(before string) string {
		return "{\n\tadmin localhost:{ADMIN_PORT}\n}\nhttp://localhost:{HTTP_PORT} {\n\t" + before + "\n\tsmsgate {\n\t\tenrollment open\n\t\tstore badger {DIR}\n\t\tprovider log\n\t}\n\trespond \"hi {smsgate.user}\"\n}\n"
	}
	for _, tc := range []struct {
		name, before, token string
		line                int
	}{
		{"a map output", "map {query.u} {http.auth.user.id} {\n\t\tdefault {query.u}\n\t}", "{http.auth.user.id}", 5},
		{"a vars by that name", "vars http.auth.user.id {query.u}", "http.auth.user.id", 5},
		{"a vars block", "vars {\n\t\tother 1\n\t\thttp.auth.user.id {query.u}\n\t}", "http.auth.user.id", 7},
		{"a vars named by the request", "vars {query.k} {query.v}", "{http.request.uri.query.k}", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sitetest.AssertLoadError(t, site(tc.before), tc.token+" writes a placeholder the gate's identity {http.auth.user.id} is read from", "Caddyfile:"+strconv.Itoa(tc.line))
		})
	}
	t.Run("json", func(t *testing.T) {
		sitetest.AssertJSONLoadError(t, `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "map", "source": "{http.request.uri.query.u}", "destinations": ["{http.auth.user.id}"], "defaults": ["{http.request.uri.query.u}"]},
	{"handler": "smsgate", "realm": "localhost", "identity": "{http.auth.user.id}", "enrollment": "open", "store": {"module": "badger", "path": "`+t.TempDir()+`"}, "providers": [{"provider": "log"}]}]}]}}}}}`, "a map's output is {http.auth.user.id}")
	})
	t.Run("another output loads", func(t *testing.T) {
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	map {query.u} {who} {
		default {query.u}
	}
	smsgate {
		enrollment open
		store badger {DIR}
		provider log
	}
	respond "hi {smsgate.user}"
}`)
		if res := sitetest.NewClient(t, "").Get("/?u=alice"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("/?u=alice without an authentication handler: %d, want 401", res.StatusCode)
		}
		_ = s
	})
}

// TestAMapIntoTheTrustedHopsAnswerIsRefused (attack40c): a header identity
// is believed where the forward_auth the gate trusts answered the same
// value (siteblock.Copied reads {http.reverse_proxy.header.*}); a map of
// the client's own header into that placeholder answered the check with
// the client's value, so with no forward_auth at all a stranger's X-User:
// alice was taken for alice (before: 302 to her sign-in, 303 to enroll as
// her; without the map, 401). A map or vars writing any placeholder a gate
// reads or checks by ({http.auth.*}, {http.reverse_proxy.*},
// {http.request.*}) is refused on a server with a gate: at the Caddyfile's
// line, and in any config when the smsgate app starts.
func TestAMapIntoTheTrustedHopsAnswerIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	t.Run("caddyfile", func(t *testing.T) {
		sitetest.AssertLoadError(t, "{\n\tadmin localhost:{ADMIN_PORT}\n}\nhttp://localhost:{HTTP_PORT} {\n\tmap {header.X-User} {http.reverse_proxy.header.X-User} {\n\t\tdefault {header.X-User}\n\t}\n\tsmsgate {\n\t\tidentity {header.X-User}\n\t\tenrollment open\n\t\tstore badger {DIR}\n\t\tprovider log\n\t}\n\trespond \"hi {smsgate.user}\"\n}\n",
			"{http.reverse_proxy.header.X-User} writes a placeholder the gate's identity", "Caddyfile:5")
	})
	for _, dest := range []string{"{http.reverse_proxy.header.X-User}", "{http.request.tls.client.made_up}"} {
		t.Run("json "+dest, func(t *testing.T) {
			sitetest.AssertJSONLoadError(t, `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "map", "source": "{http.request.header.X-User}", "destinations": ["`+dest+`"], "defaults": ["{http.request.header.X-User}"]},
	{"handler": "smsgate", "realm": "localhost", "identity": "{http.request.header.X-User}", "enrollment": "open", "store": {"module": "badger", "path": "`+t.TempDir()+`"}, "providers": [{"provider": "log"}]}]}]}}}}}`, "a map's output is "+dest)
		})
	}
}
