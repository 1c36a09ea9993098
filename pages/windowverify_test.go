package pages_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/store"
)

// TestARevocationAroundAPhonesAddingUndoesIt (guard38): a phone is added
// by the code it got, on the verify page, a sign-in step whose POST
// carries no guard (signInSteps): only the re-check after the write
// (signin.Service.keptAdding) stands between a session ended meanwhile and
// the phone. Her revocation (another instance's sign-out everywhere) is
// written while the POST is held just before her device list's write (its
// read, "update") and just after it ("write"): either way the phone is
// not hers after the answer, nobody is told of it (no device_added, no
// notice), and she is sent to sign in again. Without the re-check (tried:
// keptAdding returning nil), the phone stays in both orders. A revocation
// after the re-check's read comes after the change, which stands, as any
// change made before a revocation does. On Badger and on Redis.
func TestARevocationAroundAPhonesAddingUndoesIt(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s := startWindowSite(t, kind, "", [2]string{"vicupdate", "+14155550171"}, [2]string{"vicwrite", "+14155550173"})
			for _, at := range []string{"update", "write"} {
				user := "vic" + at // a rule of her own each
				sitetest.AddHold(t, s.dir, sitetest.Hold{Of: user, Op: at, Key: store.Key("device", "localhost", user)})
				c := s.signIn(t, user)
				tok := c.CSRF("/.smsgate/devices")
				sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155550172"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
				before, told := s.users(), len(s.LogEntries("notice"))
				c.SetCookie(pages.KnownCookie, "none") // no known-browser check, which reads her revocation first
				code := s.LastCode()
				held := sitetest.Park(t, s.dir, func() *sitetest.Response {
					return c.PostWith("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}, map[string]string{"Origin": c.Base()})
				})
				listed := strings.Contains(s.users(), "•172\"")
				if listed != (at == "write") {
					t.Fatalf("held at her list's %s: the new phone listed %v", at, listed)
				}
				s.revoke(t, user, s.Now().Add(time.Second))
				res := held.Release(t)
				s.Advance(time.Minute) // the next site's sign-in is not born ended
				if after := s.users(); after != before || strings.Contains(after, "•172\"") {
					t.Errorf("a phone's adding, her session revoked at its list's %s: %d %s, and her phones changed:\nbefore %s\nafter  %s",
						at, res.StatusCode, res.Header.Get("Location"), before, after)
				}
				added := slices.DeleteFunc(s.LogEntries("device_added"), func(e map[string]any) bool { return e["user"] != user })
				if len(added) > 0 || len(s.LogEntries("notice")) != told {
					t.Errorf("a phone's adding, her session revoked at its list's %s, was told: %v", at, added)
				}
				if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/.smsgate/devices" {
					t.Errorf("a phone's adding, her session revoked at its list's %s: answered as added (303 to the devices page)", at)
				}
			}
		})
	}
}
