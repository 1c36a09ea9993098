package caddymodule_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheTwinPageShowsHowTheNamesDiffer (walk34's 43): behind an SSO that
// passes the name as typed, "mary  smith" (two spaces) meets the twin
// page of "mary smith", which has a phone. The page says the names differ
// only in capital letters, spacing or invisible characters (RFC 4518's
// comparison), and shows her name in a <code class="name"> whose spaces
// the style sheet keeps (white-space: pre-wrap), in English and German,
// and its hint that the name comes from the site's login above Sign out.
// Before: "differs only in capital letters", of a name in lower case, and
// "You are signed in as mary smith." (HTML showed one space). On Badger
// and Redis, through a real Caddy.
func TestTheTwinPageShowsHowTheNamesDiffer(t *testing.T) {
	sitetest.Parallel(t) // the parts too
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if login := r.Header.Get("X-Login"); strings.EqualFold(rfc4518Prep(login), "mary smith") {
			w.Header().Set("Remote-User", login)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(sso.Close)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	route {
		forward_auth `+strings.TrimPrefix(sso.URL, "http://")+` {
			uri /check
			copy_headers Remote-User
		}
		smsgate {
			identity {http.request.header.Remote-User}
			`+storeLine+`
			provider log
		}
		respond "Hello {http.request.header.Remote-User}"
	}
}`)
		mary := sitetest.NewClient(t, "")
		mary.Header = http.Header{"X-Login": {"mary smith"}}
		sitetest.Enroll(t, s, mary, "+14155550103")
		for lang, want := range map[string][2]string{
			"en": {"differs only in capital letters, spacing or invisible characters", `You are signed in as <code class="name">mary  smith</code>.`},
			"de": {"nur in Groß- und Kleinschreibung, Leerzeichen oder unsichtbaren Zeichen", `Sie sind als <code class="name">mary  smith</code> angemeldet.`},
		} {
			twin := sitetest.NewClient(t, "")
			twin.Header = http.Header{"X-Login": {"mary  smith"}, "Accept-Language": {lang}}
			sitetest.Expect(t, twin.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
			res := twin.Get("/.smsgate/enroll")
			if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, want[0]) || !strings.Contains(res.Text, want[1]) {
				t.Errorf("%s: the twin page, want %q and %q:\n%s", lang, want[0], want[1], res.Text)
			}
			// The hint that the name comes from the site's own login is
			// read before its Sign out, not after (walk34).
			if hint, out := strings.Index(res.Text, `id="who-hint"`), strings.Index(res.Text, `action="/.smsgate/logout"`); hint < 0 || out < 0 || hint > out {
				t.Errorf("%s: the hint (at %d) is not above Sign out (at %d)", lang, hint, out)
			}
		}
		css := mary.Get("/.smsgate/assets/smsgate.css")
		if !strings.Contains(css.Text, "code.name { white-space: pre-wrap;") {
			t.Errorf("the style sheet keeps no spaces of a name: %d", css.StatusCode)
		}
	})
}
