package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAnInviteEndedByAResetSaysSo: an invite whose user the admin then
// resets is opened; the page says a reset (or a sign-out everywhere) ended
// it and to ask for a new one, in English and German, not "has expired or
// was already used" (walk33's 52: untrue). On Badger and on Redis, through
// a real Caddy.
func TestAnInviteEndedByAResetSaysSo(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := inviteOnlySite(t, storeLine, "")
		st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"ann","ttl":"1h"}`)
		if st != http.StatusOK {
			t.Fatalf("invite: %d %s", st, body)
		}
		var inv struct{ Path string }
		_ = json.Unmarshal([]byte(body), &inv)
		s.Advance(time.Second)
		if st, out := s.Admin("POST", "/smsgate/reset", fmt.Sprintf(`{"realm":"localhost","user":%q}`, "ann")); st != http.StatusOK {
			t.Fatalf("reset: %d %s", st, out)
		}
		s.Advance(time.Second)
		for lang, want := range map[string]string{
			"en": "This invite was ended by a reset or a sign-out everywhere of your account",
			"de": "Diese Einladung gilt nicht mehr: Ihr Konto wurde seitdem zurückgesetzt",
		} {
			c := sitetest.NewClient(t, "")
			c.Header = http.Header{"Accept-Language": {lang}}
			res := c.Get(inv.Path)
			if !strings.Contains(res.Text, want) || strings.Contains(res.Text, "expired or was already used") || strings.Contains(res.Text, "abgelaufen") {
				t.Errorf("%s: the invite after a reset: %d\n%s", lang, res.StatusCode, res.Text)
			}
		}
	})
}
