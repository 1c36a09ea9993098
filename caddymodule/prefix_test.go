package caddymodule_test

import (
	"encoding/json"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestPathPrefixStaysOnThisSite: the path prefix is the start of every
// link and redirect the gate writes (to its login page, "Start again",
// the code step's "Try again"), so it must be a path of this site. One
// that a browser reads as another host — //evil.example/ (a doubled
// slash, perhaps a typo), or /\evil.example/ (browsers take a backslash
// for a slash) — made every redirect to the login page, and every link
// on the gate's pages, leave the site; and a ? or # cuts the path, so the
// gate's pages could never be reached. And the pages' links and cookies
// carry the prefix as written while the gate compares it with the path Go
// decodes: /%2esmsgate/ is /.smsgate/ to the gate, so its own links never
// reached it; a space is escaped by the browser (the cookies' Path then
// matches nothing), a .. segment resolved away (pages.TestAPrefixSurvivesTheRoundTrip
// has every byte). Each is refused at load, at its line in the Caddyfile,
// and in JSON.
func TestPathPrefixStaysOnThisSite(t *testing.T) {
	for _, prefix := range []string{`//evil.example/`, `/\evil.example/`, `/a?b/`, `/a#b/`, `/%2esmsgate/`, `/a b/`, `/a/../b/`} {
		sitetest.AssertLoadError(t, "{\n\tadmin localhost:{ADMIN_PORT}\n}\nhttp://localhost:{HTTP_PORT} {\n\tsmsgate {\n\t\tstore badger {DIR}\n\t\tprovider log\n\t\tpath_prefix `"+prefix+"`\n\t}\n}\n",
			"path_prefix must begin and end with '/'", "Caddyfile:8")
		quoted, _ := json.Marshal(prefix)
		sitetest.AssertJSONLoadError(t, `{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "{DIR}"}, "providers": [{"provider": "log"}], "path_prefix": `+string(quoted)+`}]}]}}}}}`,
			"path_prefix must begin and end with '/'")
	}
}
