package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnInviteTokenStaysOutOfTheAccessLog: an invite's token is in its
// link's query, and Caddy's access log writes the URI and the Referer.
// With the log filter README and SECURITY.md give, the log holds no
// token; the invite page asks browsers to send only the site's origin as
// the Referer of what follows it (attack26 F2: before, the POST and the
// pages after it carried the link whole in Referer).
func TestAnInviteTokenStaysOutOfTheAccessLog(t *testing.T) {
	sitetest.Parallel(t)
	logFile := filepath.Join(t.TempDir(), "access.log")
	sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	log {
		output file `+logFile+`
		format filter {
			request>uri query {
				delete token
			}
			request>headers>Referer regexp "token=[^&]*" "token=REDACTED"
		}
	}
	smsgate {
		identity none
		enrollment closed
		realm localhost
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
	st, body := sitetest.Admin(t, "POST", "/smsgate/invites", `{"realm":"localhost","user":"frank","ttl":"1h"}`)
	if st != http.StatusOK {
		t.Fatalf("invite: %d %s", st, body)
	}
	var inv struct{ Path string }
	_ = json.Unmarshal([]byte(body), &inv)
	token := strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")
	c := sitetest.NewClient(t, "")
	page := c.Get(inv.Path)
	sitetest.ExpectBody(t, page, "Add my phone")
	if p := page.Header.Get("Referrer-Policy"); p != "strict-origin" {
		t.Errorf("the invite page's Referrer-Policy is %q: its POST would send the token in Referer", p)
	}
	csrf := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	// A browser that did not honour it: the filter still takes the token.
	res := c.PostWith("/.smsgate/invite", url.Values{"token": {token}, "csrf": {csrf}},
		map[string]string{"Referer": c.Base() + inv.Path})
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/enroll")
	logged, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logged), `"uri":"/.smsgate/invite"`) {
		t.Errorf("the access log has no line of the invite page:\n%s", logged)
	}
	if strings.Contains(string(logged), token) {
		t.Errorf("the access log holds the invite's token %s…", token[:8])
	}
}
