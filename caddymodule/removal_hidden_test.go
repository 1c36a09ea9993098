package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestASessionHiddenFromTheListEndsWithItsPhone: the thief holds alice's
// password and her phone, and his browser is trusted. In a second browser
// he types a code of the phone while his trust signs in 60 times at once:
// the code's session is pushed off her list of 20 (or its listing gives
// up under the contention) before she removes the phone. The removal
// must end it all the same (Claims.Device). Before: 7 of 10 on Badger,
// 5 of 10 on Redis outlived it (the residual of close4.md "Left" 3,
// reached at will).
func TestASessionHiddenFromTheListEndsWithItsPhone(t *testing.T) {
	sitetest.Parallel(t)
	onEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := textSite(t, storeLine, []string{"alice"}, "\t\tremember 30d\n"+limitsOff)
		addUser(t, s, "alice", "+14155552672")
		// 3 tries in the suite (before the fix, one survived in 97 of 100
		// runs on Badger, 88 on Redis); SMSGATE_FULL=1 plays 10.
		tries, survived := 3, 0
		if os.Getenv("SMSGATE_FULL") != "" {
			tries = 10
		}
		for i := range tries {
			lost := addUser(t, s, "alice", fmt.Sprintf("+1415555%04d", 2700+i))
			thief := sitetest.NewClient(t, "alice")
			signInWith(t, s, thief, lost, true)
			trust, known := thief.Cookie("smsgate_trust"), thief.Cookie("smsgate_known")
			// A second browser of his asks for a code, then types it amid a burst of trusted sign-ins.
			coder := sitetest.NewClient(t, "alice")
			coder.SetCookie("smsgate_known", known)
			tok2 := askACode(t, s, coder, lost)
			code := s.LastCode()
			var wg sync.WaitGroup
			for range 60 {
				c := sitetest.NewClient(t, "alice")
				c.SetCookie("smsgate_trust", trust)
				c.SetCookie("smsgate_known", known)
				wg.Add(1)
				go func() { defer wg.Done(); c.Get("/.smsgate/login?rd=%2F") }()
			}
			res := coder.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok2}})
			wg.Wait()
			if res.StatusCode != http.StatusSeeOther {
				continue
			}
			removeAsAdmin(t, s, "alice", lost)
			if r := coder.Get("/"); r.StatusCode == http.StatusOK {
				survived++
				t.Logf("try %d: the code session survived the removal", i)
			}
		}
		if survived > 0 {
			t.Errorf("%d of %d code sessions outlived the removal of their phone", survived, tries)
		}
	})
}
