package caddymodule_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// twinsRealm is the realm whose scans of devices the hold store holds.
const twinsRealm = "twins"

// TestTwinsCompletingAtOnceThroughCaddyEnrollOne: behind a case-blind SSO
// (alice's password typed as ALICE passes as ALICE) with enrollment open,
// alice and ALICE, neither enrolled, each begin a first enrollment (a code
// sent to each); alice's completion is held once its fresh scan found no
// twin, before her phone is written, while ALICE's completes: one is
// enrolled (303 to the recovery codes) and the other refused with the
// page (403), and only one of them holds a phone. On Badger and Redis,
// through a real Caddy. Before, the scan and the write were two steps:
// both were enrolled (review23's F5).
func TestTwinsCompletingAtOnceThroughCaddyEnrollOne(t *testing.T) {
	sitetest.Parallel(t)
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if login := r.Header.Get("X-Login"); strings.EqualFold(login, "alice") {
			w.Header().Set("Remote-User", login)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(sso.Close)
	onEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	route {
		forward_auth `+strings.TrimPrefix(sso.URL, "http://")+` {
			uri /check
			copy_headers Remote-User
		}
		smsgate {
			identity {http.request.header.Remote-User}
			realm `+twinsRealm+`
			`+strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1)+`
			provider log {
				allow_public
			}
		}
		respond "Hello {http.request.header.Remote-User}"
	}
}`)
		begin := func(name, num string) (c *sitetest.Client, code, tok string) {
			c = sitetest.NewClient(t, "")
			c.Header = http.Header{"X-Login": {name}}
			sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/enroll")
			res, tok := sitetest.EnrollWith(t, c, num)
			sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
			return c, s.LastCode(), tok
		}
		alice, aliceCode, aliceTok := begin("alice", "+14155550101")
		thief, thiefCode, thiefTok := begin("ALICE", "+14155550199")
		held := sitetest.Park(t, dir, func() *sitetest.Response {
			return alice.Post("/.smsgate/verify", url.Values{"code": {aliceCode}, "csrf": {aliceTok}})
		})
		theirs := thief.Post("/.smsgate/verify", url.Values{"code": {thiefCode}, "csrf": {thiefTok}})
		hers := held.Release(t)
		answers := map[int]int{hers.StatusCode: 1}
		answers[theirs.StatusCode]++
		if answers[http.StatusSeeOther] != 1 || answers[http.StatusForbidden] != 1 {
			t.Fatalf("alice's completion %d, ALICE's %d: want one 303 and one 403", hers.StatusCode, theirs.StatusCode)
		}
		for _, res := range []*sitetest.Response{hers, theirs} {
			if res.StatusCode == http.StatusForbidden && !strings.Contains(res.Text, caseTwinPage) {
				t.Fatalf("the refusal is not the page:\n%s", res.Text)
			}
			if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") != "/.smsgate/recovery" {
				t.Fatalf("the enrollment: 303 to %q", res.Header.Get("Location"))
			}
		}
		st, out := s.Admin("GET", "/smsgate/users?realm="+twinsRealm, "")
		if st != http.StatusOK || strings.Count(out, `"user":`) != 1 {
			t.Fatalf("users: %d %s, want one", st, out)
		}
	})
}
