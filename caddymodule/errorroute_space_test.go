package caddymodule_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAGateOnAPathWithASpaceOrAPlaceholderHostIsChecked: the start check builds its probe
// request from the paths on the way to a gate as a request line, so a
// path matcher with a space (Caddy matches the decoded path: "/my docs/*")
// panicked the load (httptest.NewRequest: "malformed HTTP version") and
// the admin API's /load answered nothing (EOF); the same with a
// path_prefix holding a space, which pages.ValidPrefix now refuses first,
// and with a host matcher that is a placeholder ({system.hostname}: "{" in
// a URL's host). Now the probe's path is escaped and its host set apart:
// such a gate loads, and an error route to the app for its paths is
// refused as any other.
func TestAGateOnAPathWithASpaceOrAPlaceholderHostIsChecked(t *testing.T) {
	sitetest.Parallel(t)
	spaced := `{"path": ["/my docs/*"]}`
	json := func(errors string) string {
		return strings.NewReplacer("MATCH", `{"host": ["localhost"]}`, "INNER", gatedRoute(spaced), "ERRORS", errors, "NAMED", "").Replace(pathGate)
	}
	sitetest.AssertJSONLoadError(t, json(`{"match": [`+spaced+`], "handle": [`+toTheAppJSON+`]}`),
		"s: errors route 0 proxies to localhost:{HTTP_PORT}, the app's upstream", "path /my docs/smsgate-probe)")
	sitetest.AssertJSONLoadError(t, strings.NewReplacer("MATCH", `{"host": ["{system.hostname}"]}`, "INNER", gatedRoute(""), "ERRORS", `{"handle": [`+toTheAppJSON+`]}`, "NAMED", "").Replace(pathGate),
		"s: errors route 0 proxies to localhost:{HTTP_PORT}, the app's upstream", "host {system.hostname}, path /smsgate-probe)")
	c := sitetest.NewClient(t, "")
	c.Accept = "application/json"
	if st, body := sitetest.Admin(t, http.MethodPost, "/load", c.WithPorts(strings.ReplaceAll(json(""), "{DIR}", filepath.Join(t.TempDir(), "store")))); st != http.StatusOK {
		t.Fatalf("refused: %d %s", st, body)
	}
	if res := c.GetWith("/my%20docs/x", map[string]string{"Remote-User": "admin"}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a request the gate refuses: %d %s", res.StatusCode, res.Text)
	}
}
